"""nomenklatura's logic-v1 / logic-v2 matchers on candidate pairs from a common blocking.

Run in the benchmark environment: reads the dataset spec, the algorithm name and a file of
candidate pairs; prints scored pairs as JSON lines on stdout.
"""

from __future__ import annotations

import csv
import json
import sys
from typing import Any

from followthemoney import model
from nomenklatura.matching import get_algorithm

FIELD_PROPS = {
    "national_id": "idNumber",
    "soc_sec_id": "idNumber",
    "document_number": "passportNumber",
    "phone": "phone",
    "email": "email",
    "nationality": "nationality",
    "gender": "gender",
}


def _date(value: str) -> str:
    value = value.strip()
    if len(value) == 8 and value.isdigit():
        return f"{value[:4]}-{value[4:6]}-{value[6:]}"
    return value


def entity(row: dict[str, str], fields: dict[str, str]) -> Any:
    person = model.make_entity("Person")
    person.id = row["__id"]
    first, last = row.get(fields["first_name"], ""), row.get(fields["surname"], "")
    name = " ".join(p for p in (first, last) if p) or row.get("full_name", "")
    if name:
        person.add("name", name)
    if first:
        person.add("firstName", first)
    if last:
        person.add("lastName", last)
    if row.get(fields.get("dob", "")):
        person.add("birthDate", _date(row[fields["dob"]]), quiet=True)
    for column, prop in FIELD_PROPS.items():
        if row.get(column):
            person.add(prop, row[column], quiet=True)
    if row.get("name_original"):
        person.add("alias", row["name_original"])
    address = " ".join(
        row.get(c, "")
        for c in ("street_number", "address_1", "address_2", "suburb", "postcode", "city")
        if row.get(c)
    )
    if address:
        person.add("address", address, quiet=True)
    return person


def main() -> None:
    spec, algorithm_name, candidates_path = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
    algorithm = get_algorithm(algorithm_name)
    if algorithm is None:
        raise SystemExit(f"unknown nomenklatura algorithm {algorithm_name}")
    config = algorithm.default_config() if hasattr(algorithm, "default_config") else None
    entities: dict[str, Any] = {}
    for path in spec["files"]:
        with open(path, encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f, skipinitialspace=True):
                row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
                row["__id"] = row[spec["id"]]
                entities[row["__id"]] = entity(row, spec["fields"])
    with open(candidates_path, encoding="utf-8") as f:
        for line in f:
            left, right = json.loads(line)
            result = algorithm.compare(entities[left], entities[right], config)
            print(json.dumps([left, right, float(result.score)]))


if __name__ == "__main__":
    main()
