"""Reading people's CSV files for matching, and writing results that spreadsheets cannot abuse.

Columns are recognised from common header names (case and surrounding spaces ignored); a
mapping overrides them. Unknown columns are reported, malformed rows are reported with their
line numbers and skipped, and the run goes on.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from liaison.matching.record import FIELDS

MAX_FIELD = 100_000  # characters; a longer cell is not a name or a date

ALIASES: dict[str, tuple[str, ...]] = {
    "full_name": ("full_name", "name", "fullname", "person_name", "complete_name"),
    "given_name": (
        "given_name",
        "first_name",
        "firstname",
        "forename",
        "given_names",
        "givenname",
        "first",
    ),
    "middle_name": ("middle_name", "middle_names", "middlename", "patronymic"),
    "family_name": ("family_name", "surname", "last_name", "lastname", "family", "last"),
    "name_original": ("name_original", "original_name", "native_name", "name_native_script"),
    "dob": ("dob", "date_of_birth", "birth_date", "birthdate", "born", "dateofbirth"),
    "gender": ("gender", "sex"),
    "nationality": ("nationality", "citizenship"),
    "birth_place": ("birth_place", "place_of_birth", "birthplace", "pob"),
    "document_number": (
        "document_number",
        "passport_number",
        "passport",
        "id_document",
        "document",
        "doc_number",
    ),
    "document_country": (
        "document_country",
        "issuing_country",
        "document_issuer",
        "passport_country",
        "document_issuing_country",
    ),
    "mrz": ("mrz", "mrz_1", "mrz_2", "mrz_3", "mrz_line_1", "mrz_line_2", "mrz_line_3"),
    "national_id": (
        "national_id",
        "personal_number",
        "ssn",
        "soc_sec_id",
        "social_security_number",
        "national_number",
        "personal_id",
        "national_identification_number",
    ),
    "national_id_country": ("national_id_country", "national_id_issuer"),
    "phone": ("phone", "telephone", "phone_number", "mobile", "msisdn"),
    "email": ("email", "e_mail", "email_address", "mail"),
    "address": (
        "address",
        "address_1",
        "address_2",
        "address_line_1",
        "address_line_2",
        "full_address",
    ),
    "street": ("street", "street_name", "road"),
    "street_number": ("street_number", "house_number", "number"),
    "suburb": ("suburb", "district", "locality"),
    "city": ("city", "town", "municipality"),
    "state": ("state", "region", "province", "county"),
    "postcode": ("postcode", "postal_code", "zip", "zip_code", "postcode_fake"),
    "country": ("country", "address_country", "residence_country"),
    "iban": ("iban", "bank_account", "account_iban"),
    "vin": ("vin", "vehicle_vin", "chassis_number"),
    "plate": (
        "plate",
        "number_plate",
        "licence_plate",
        "license_plate",
        "vehicle_plate",
        "registration",
    ),
    "plate_country": ("plate_country", "vehicle_plate_country", "registration_country"),
    "firearm_make": ("firearm_make", "weapon_make"),
    "firearm_serial": ("firearm_serial", "weapon_serial", "serial_number"),
}
ID_COLUMNS = ("id", "unique_id", "rec_id", "record_id", "person_id", "ref")
_LOOKUP = {alias: canonical for canonical, aliases in ALIASES.items() for alias in aliases}
# Several columns may feed one field (address_1 and address_2, MRZ lines): values are joined.
MULTI = {"address": " ", "mrz": "\n"}


def normalise_header(name: str) -> str:
    return "_".join(name.strip().lower().replace("-", " ").replace(".", " ").split())


@dataclass
class Report:
    """What happened to a file: encoding, recognised and ignored columns, skipped rows."""

    path: str
    encoding: str = "utf-8"
    columns: dict[str, list[str]] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    rows: int = 0

    def lines(self) -> list[str]:
        out = [f"{self.path}: {self.rows} rows read (encoding {self.encoding})"]
        for canonical, columns in sorted(self.columns.items()):
            out.append(f"  {canonical} ← {', '.join(columns)}")
        if self.ignored:
            out.append(f"  ignored columns (not recognised): {', '.join(self.ignored)}")
        out.extend(f"  {p}" for p in self.problems[:50])
        if len(self.problems) > 50:
            out.append(f"  … and {len(self.problems) - 50} more problems")
        return out


def parse_mapping(text: str | None) -> dict[str, str]:
    """``field=column,field=column`` → {field: column}; unknown fields are refused."""
    mapping: dict[str, str] = {}
    if not text:
        return mapping
    for item in text.split(","):
        if not item.strip():
            continue
        field_name, sep, column = item.partition("=")
        field_name = field_name.strip()
        if not sep or not column.strip():
            raise ValueError(f"--map entries look like field=column, got {item!r}")
        if field_name not in FIELDS and field_name != "id":
            raise ValueError(f"--map: unknown field {field_name!r}; known: id, {', '.join(FIELDS)}")
        mapping[field_name] = column.strip()
    return mapping


def _decode(data: bytes, report: Report) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        report.encoding = "utf-8" if encoding == "utf-8-sig" else encoding
        if encoding != "utf-8-sig":
            report.problems.append(f"not UTF-8: read as {encoding}; check accented letters")
        return text
    report.encoding = "latin-1"
    report.problems.append("not UTF-8 or Windows-1252: read as Latin-1; check accented letters")
    return data.decode("latin-1")


def read_records(
    path: Path,
    *,
    mapping: Mapping[str, str] | None = None,
    id_column: str | None = None,
) -> tuple[list[dict[str, str]], Report]:
    """Rows as {field: value} with an ``id``; the report says what was recognised and skipped."""
    report = Report(str(path))
    text = _decode(path.read_bytes(), report)
    reader = csv.reader(io.StringIO(text, newline=""))
    csv.field_size_limit(max(MAX_FIELD * 4, csv.field_size_limit()))
    try:
        header = next(reader)
    except StopIteration:
        raise ValueError(f"{path}: the file is empty") from None
    except csv.Error as exc:
        raise ValueError(f"{path}: unreadable header ({exc})") from None
    normalised = [normalise_header(h) for h in header]
    if not any(normalised):
        raise ValueError(f"{path}: the first line must name the columns")
    columns = _assign(header, normalised, mapping or {}, report)
    id_index = _id_index(header, normalised, id_column, mapping or {})
    singles = [(k, v[0]) for k, v in columns.items() if len(v) == 1]
    joined = [(k, v, MULTI.get(k, " ")) for k, v in columns.items() if len(v) > 1]
    records: list[dict[str, str]] = []
    seen_ids: set[str] = set()
    for line, row in _rows(reader, report):
        if len(row) != len(header):
            report.problems.append(
                f"line {line}: {len(row)} fields where the header has {len(header)}; skipped"
            )
            continue
        if any(len(cell) > MAX_FIELD for cell in row):
            report.problems.append(
                f"line {line}: a field longer than {MAX_FIELD} characters; skipped"
            )
            continue
        record: dict[str, str] = {}
        for canonical, indexes in singles:
            record[canonical] = row[indexes].strip()
        for canonical, indexes_list, separator in joined:
            record[canonical] = separator.join(
                v for v in (row[i].strip() for i in indexes_list) if v
            )
        ident = row[id_index].strip() if id_index is not None else str(line)
        if not ident:
            report.problems.append(f"line {line}: empty id; skipped")
            continue
        if ident in seen_ids:
            report.problems.append(f"line {line}: duplicate id {ident!r}; skipped")
            continue
        seen_ids.add(ident)
        record["id"] = ident
        records.append(record)
    report.rows = len(records)
    return records, report


def _rows(reader: Iterator[list[str]], report: Report) -> Iterator[tuple[int, list[str]]]:
    line = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line += 1
            report.problems.append(f"line {line}: malformed CSV ({exc}); skipped")
            continue
        line += 1
        if not row or not any(cell.strip() for cell in row):
            continue
        yield line, row


def _assign(
    header: Sequence[str], normalised: Sequence[str], mapping: Mapping[str, str], report: Report
) -> dict[str, list[int]]:
    by_name = {normalise_header(h): i for i, h in enumerate(header)}
    columns: dict[str, list[int]] = {}
    mapped = set()
    for canonical, column in mapping.items():
        if canonical == "id":
            continue
        index = by_name.get(normalise_header(column))
        if index is None:
            raise ValueError(f"--map: no column {column!r} in {report.path}")
        columns.setdefault(canonical, []).append(index)
        mapped.add(index)
    for index, name in enumerate(normalised):
        if index in mapped:
            continue
        recognised = _LOOKUP.get(name)
        if recognised is None or recognised in mapping:
            if name not in ID_COLUMNS and name != normalise_header(mapping.get("id", "")):
                report.ignored.append(header[index].strip() or f"column {index + 1}")
            continue
        if recognised in columns and recognised not in MULTI:
            report.ignored.append(f"{header[index].strip()} (a second {recognised} column)")
            continue
        columns.setdefault(recognised, []).append(index)
    report.columns = {k: [header[i].strip() for i in v] for k, v in columns.items()}
    if not columns:
        raise ValueError(f"{report.path}: no column is recognised; use --map field=column")
    return columns


def _id_index(
    header: Sequence[str],
    normalised: Sequence[str],
    id_column: str | None,
    mapping: Mapping[str, str],
) -> int | None:
    wanted = id_column or mapping.get("id")
    if wanted:
        target = normalise_header(wanted)
        if target not in normalised:
            raise ValueError(f"no id column {wanted!r}")
        return normalised.index(target)
    for name in ID_COLUMNS:
        if name in normalised:
            return normalised.index(name)
    return None


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A cell a spreadsheet will show as text, never run as a formula (CSV injection)."""
    text = str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def write_rows(
    path: Path, header: Sequence[str], rows: Iterator[Sequence[object]] | Sequence[Sequence[object]]
) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for row in rows:
            writer.writerow([safe_cell(v) for v in row])
            count += 1
    return count
