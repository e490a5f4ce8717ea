"""The seeded synthetic world shared by the demo, the tests and the benchmarks."""

from liaison.synth.world import Unit, WorldSummary, iter_world, write_world

__all__ = ["Unit", "WorldSummary", "iter_world", "write_world"]
