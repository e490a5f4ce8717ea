"""Liaison: an open platform for cross-border law-enforcement cooperation."""

__version__ = "0.1.0"
