"""Countries as people write them: ISO 3166 alpha-2 or alpha-3, ICAO 9303 codes, English names.

Every country value is kept as an ISO 3166 alpha-2 code, so that ``DEU`` in a machine-readable
zone, ``D`` on a German passport, ``de`` in a spreadsheet and ``Germany`` in a form agree.
"""

from __future__ import annotations

import csv
import io
from functools import lru_cache
from importlib import resources

from anyascii import anyascii


def _fold(value: str) -> str:
    return " ".join(anyascii(value).casefold().replace(".", " ").split())


@lru_cache(maxsize=1)
def _table() -> dict[str, str]:
    text = resources.files("liaison.matching").joinpath("data/countries.csv").read_text("utf-8")
    rows = csv.reader(line for line in io.StringIO(text) if not line.startswith("#"))
    table: dict[str, str] = {}
    header = next(rows)
    if header != ["alpha2", "alpha3", "name"]:
        raise ValueError("countries.csv: unexpected header")
    for alpha2, alpha3, name in rows:
        for value in (alpha2, alpha3, name):
            if value:
                table.setdefault(_fold(value), alpha2)
    return table


@lru_cache(maxsize=4096)
def country_code(value: str | None) -> str | None:
    """The ISO 3166 alpha-2 code of a country written as a code or an English name, else None."""
    if not value:
        return None
    return _table().get(_fold(value))


def known_codes() -> frozenset[str]:
    """Every alpha-2 code the table knows."""
    return frozenset(_table().values())
