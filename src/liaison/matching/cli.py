"""``liaison dedupe`` and ``liaison link``: the matching engine on anyone's CSV files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from liaison.matching.csvio import parse_mapping, read_records, write_rows
from liaison.matching.linkage import dedupe, link
from liaison.matching.parallel import prepare_all

console = Console(stderr=True)

InputFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]
OutFile = Annotated[Path, typer.Option("--out", help="output CSV")]
MapOption = Annotated[str | None, typer.Option("--map", help="field=column,… overrides")]
IdOption = Annotated[str | None, typer.Option("--id-column", help="column holding record ids")]
ThresholdOption = Annotated[
    float, typer.Option("--threshold", min=0.01, max=0.999, help="match probability")
]


def _load(path: Path, mapping: str | None, id_column: str | None) -> list[dict[str, str]]:
    try:
        records, report = read_records(path, mapping=parse_mapping(mapping), id_column=id_column)
    except (ValueError, OSError) as exc:
        console.print(f"[bold red]error:[/] {exc}", soft_wrap=True)
        raise typer.Exit(2) from None
    for line in report.lines():
        console.print(line, markup=False, highlight=False)
    return records


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


def dedupe_command(
    input: InputFile,
    out: OutFile,
    pairs: Annotated[Path | None, typer.Option("--pairs", help="also write scored pairs")] = None,
    id_column: IdOption = None,
    map: MapOption = None,
    threshold: ThresholdOption = 0.9,
) -> None:
    """Find the records of INPUT that are the same person: writes id,cluster_id."""
    raw = _load(input, map, id_column)
    prepared = prepare_all((r, r["id"]) for r in raw)
    with _progress() as progress:
        task = progress.add_task("comparing", total=None)
        result = dedupe(
            prepared,
            threshold=threshold,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    write_rows(out, ("id", "cluster_id"), ((p.ref, result.clusters[p.ref]) for p in prepared))
    if pairs is not None:
        write_rows(
            pairs,
            ("id_l", "id_r", "probability", "explanation"),
            ((r.left, r.right, f"{r.probability:.6f}", r.explanation()) for r in result.pairs),
        )
    clusters = len(set(result.clusters.values()))
    console.print(
        f"{len(prepared)} records → {clusters} persons; {len(result.pairs)} matching pairs"
    )


def link_command(
    left: InputFile,
    right: InputFile,
    out: OutFile,
    id_column: IdOption = None,
    map: MapOption = None,
    threshold: ThresholdOption = 0.9,
) -> None:
    """Find the records of LEFT and RIGHT that are the same person: writes scored pairs."""
    left_records = prepare_all((r, r["id"]) for r in _load(left, map, id_column))
    right_records = prepare_all((r, r["id"]) for r in _load(right, map, id_column))
    with _progress() as progress:
        task = progress.add_task("comparing", total=None)
        result = link(
            left_records,
            right_records,
            threshold=threshold,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    write_rows(
        out,
        ("id_l", "id_r", "probability", "explanation"),
        ((r.left, r.right, f"{r.probability:.6f}", r.explanation()) for r in result.pairs),
    )
    console.print(f"{len(result.pairs)} matching pairs written to {out}")


def register(app: typer.Typer) -> None:
    """Add the matching commands to ``liaison``."""
    app.command("dedupe")(dedupe_command)
    app.command("link")(link_command)
