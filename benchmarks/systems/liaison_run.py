"""Liaison on one dataset; prints scored pairs as JSON lines on stdout."""

from __future__ import annotations

import json
import sys

from liaison.matching.csvio import parse_mapping, read_records
from liaison.matching.linkage import dedupe, link
from liaison.matching.parallel import prepare_all


def main() -> None:
    spec = json.loads(sys.argv[1])
    mapping = parse_mapping(spec.get("liaison_map"))
    sets = []
    for path in spec["files"]:
        rows, _report = read_records(
            __import__("pathlib").Path(path), mapping=mapping, id_column=spec["id"]
        )
        sets.append(prepare_all((r, r["id"]) for r in rows))
    result = (
        link(sets[0], sets[1], threshold=0.01)
        if len(sets) == 2
        else dedupe(sets[0], threshold=0.01)
    )
    for pair in result.pairs:
        print(json.dumps([pair.left, pair.right, pair.probability]))


if __name__ == "__main__":
    main()
