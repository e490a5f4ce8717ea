"""Reading outside files for ingestion: CSV and XLSX tables, NDJSON, FollowTheMoney entities.

Pure functions, no database. Every reader treats its input as hostile: a file that cannot be
read at all raises ``ValidationFailed`` with a readable message; a single bad row or line is
reported on that row (``TableRow.error``, or the error of an NDJSON line) and the rest goes on.
Values are kept as data, never evaluated: a cell ``=HYPERLINK(...)`` is stored as that text.
``safe_cell`` is for the other direction, writing CSV that spreadsheets will not run.

- ``read_table(data, filename)`` → ``Table`` (headers, lazily read rows, warnings).
- ``suggest_mapping(headers, entity_type)`` / ``validate_mapping`` / ``apply_mapping``: columns
  onto a type's properties, the markings and the contributor's record id, giving the raw dict
  that ``liaison.entities.service.parse_contribution`` reads.
- ``read_ndjson(data)`` and ``read_ftm(data)``: JSON objects one per line (or, for
  FollowTheMoney, also a JSON array) with per-line errors.
- ``ftm_to_raw(obj, defaults)`` and ``ftm_links(obj)``: FollowTheMoney entities (as exported by
  Aleph and OpenSanctions) onto Liaison types and links, following ``FTM_SCHEMATA`` and
  ``FTM_LINKS``.

See docs/ingestion-formats.md.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import json
import math
import re
import warnings as pywarnings
import zipfile
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import filetype
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from liaison.core.errors import ValidationFailed
from liaison.entities.schema import SCHEMA, EntityType
from liaison.entities.service import MARKING_FIELDS
from liaison.matching import csvio

# --- limits -------------------------------------------------------------------------------------

MAX_CELL = 10_000  # characters in one cell; a longer cell is a row error
MAX_ROWS = 1_000_000  # data rows read from one table; the rest is left with a warning
MAX_COLUMNS = 1_000  # columns in a table's header
MAX_HEADER = 200  # characters in one column name
MAX_LINE = 1_000_000  # bytes in one NDJSON line
MAX_DEPTH = 20  # nesting of arrays and objects in one JSON value
MAX_ID = 128  # characters in a contributor's record id (service.MAX_SOURCE_REF)
# An XLSX file is a ZIP archive; these bound what it may expand to (decompression bombs).
MAX_XLSX_EXPANDED = 512 * 1024 * 1024
MAX_XLSX_RATIO = 250  # expanded / compressed size of one member larger than 1 MiB


# --- tables -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TableRow:
    """One data row: its line (CSV: the physical line where the record starts; XLSX: the row
    number), its cells by header, or an error (then ``cells`` is empty and the row is not used)."""

    line: int
    cells: dict[str, str]
    error: str | None = None


@dataclass(slots=True)
class Table:
    """A table read from a file. ``rows`` is read lazily, once; ``warnings`` may grow while it is
    read (a table cut at ``MAX_ROWS`` says so at the end)."""

    headers: list[str]
    rows: Iterator[TableRow]
    warnings: list[str] = field(default_factory=list)
    format: str = "csv"  # "csv" or "xlsx"
    delimiter: str | None = None  # the CSV delimiter found


_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_DELIMITERS = (",", ";", "\t", "|")
_SNIFF_CHARS = 64 * 1024
_SNIFF_RECORDS = 50


def read_table(data: bytes, filename: str) -> Table:
    """A CSV or XLSX table, its format told by the content (the name only adds to messages).

    Raises ``ValidationFailed`` for anything that is not a readable table: an empty file, a PDF,
    binary data, a damaged workbook, duplicate column names.
    """
    name = filename.strip() or "the file"
    if not data.strip():
        raise ValidationFailed(f"{name} is empty")
    if data.startswith(_ZIP_MAGIC):
        return _read_xlsx(data, name)
    if data.startswith(_OLE2_MAGIC):
        raise ValidationFailed(
            f"{name} is an Excel 97-2003 (.xls) or other legacy Office file; "
            "save it as .xlsx or as CSV (UTF-8) and upload that"
        )
    if data.startswith(b"%PDF"):
        raise ValidationFailed(f"{name} is a PDF document; upload a CSV or XLSX table")
    utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if not utf16 and b"\x00" in data:
        raise ValidationFailed(f"{name} {_binary_reason(data)}; upload a CSV or XLSX table")
    text, warnings = _decode(data, name)
    _refuse_non_tables(text, name)
    if filename.lower().endswith((".xlsx", ".xlsm")):
        warnings.append(f"{name} is named like a workbook but holds text: read as CSV")
    return _read_csv(text, name, warnings)


def _binary_reason(data: bytes) -> str:
    kind = filetype.guess(data[:8192])
    if kind is not None:
        return f"is a {kind.mime} file ({kind.extension}), not a table"
    head = data[:4096]
    if len(head) >= 4 and (
        head[1::2].count(0) > len(head) // 4 or head[0::2].count(0) > len(head) // 4
    ):
        return "looks like UTF-16 text without a byte-order mark; save it as CSV (UTF-8)"
    return "holds NUL bytes: it is a binary file, not a CSV table"


def _decode(data: bytes, name: str) -> tuple[str, list[str]]:
    """The text of a CSV file and what the reader had to guess about its encoding."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise ValidationFailed(
                f"{name} starts like UTF-16 text but is not valid UTF-16"
            ) from None
        if "\x00" in text:
            raise ValidationFailed(f"{name} holds NUL characters: it is not a CSV table")
        return text, [f"{name} is UTF-16 text (read as such); CSV in UTF-8 is preferred"]
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        pass
    replaced = data.decode("utf-8", errors="replace")
    if any(ord(ch) > 127 and ch != "\ufffd" for ch in replaced):
        # Mostly UTF-8 with a few damaged bytes: reading it all as cp1252 would garble the rest.
        lines = _replacement_lines(replaced)
        return replaced.removeprefix("\ufeff"), [
            f"{name} is UTF-8 with invalid bytes on line(s) {lines}; they were replaced by \ufffd"
        ]
    try:
        return data.decode("cp1252"), [
            f"{name} is not UTF-8: read as Windows-1252 (cp1252); check accented letters"
        ]
    except UnicodeDecodeError:
        return data.decode("latin-1"), [
            f"{name} is neither UTF-8 nor Windows-1252: read as Latin-1; check accented letters"
        ]


def _replacement_lines(text: str, limit: int = 5) -> str:
    found: list[int] = []
    position = text.find("\ufffd")
    while position != -1 and len(found) <= limit:
        line = text.count("\n", 0, position) + 1
        if not found or found[-1] != line:
            found.append(line)
        position = text.find("\ufffd", position + 1)
    shown = ", ".join(str(n) for n in found[:limit])
    return shown + (", …" if len(found) > limit else "")


def _refuse_non_tables(text: str, name: str) -> None:
    head = text[:4096]
    lowered = head.lstrip().lower()
    if lowered.startswith(("<?xml", "<!doctype", "<html")):
        raise ValidationFailed(f"{name} is an XML or HTML document; upload a CSV or XLSX table")
    if lowered.startswith("{\\rtf"):
        raise ValidationFailed(f"{name} is a rich-text (RTF) document; upload a CSV or XLSX table")
    controls = sum(
        1 for ch in head if (ord(ch) < 32 and ch not in "\t\n\r\f\v") or 0x7F <= ord(ch) <= 0x9F
    )
    if controls > max(8, len(head) // 20):
        raise ValidationFailed(f"{name} holds binary data, not a CSV table")


def _sniff(text: str) -> str:
    """The delimiter among , ; TAB | that splits the first records most consistently."""
    sample = text[:_SNIFF_CHARS]
    if len(text) > _SNIFF_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n") + 1]
    best = (0.0, 1, 0)
    chosen = ","
    for rank, delimiter in enumerate(_DELIMITERS):
        records: list[list[str]] = []
        reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
        try:
            for record in reader:
                if any(cell.strip() for cell in record):
                    records.append(record)
                if len(records) > _SNIFF_RECORDS:
                    break
        except csv.Error:
            pass
        if not records or len(records[0]) < 2:
            continue
        width = len(records[0])
        rest = records[1:]
        consistency = sum(len(r) == width for r in rest) / len(rest) if rest else 1.0
        score = (consistency, width, -rank)
        if score > best:
            best, chosen = score, delimiter
    return chosen


def _read_csv(text: str, name: str, warnings: list[str]) -> Table:
    delimiter = _sniff(text)
    # The reader's own field limit would cut huge cells mid-field; they are row errors instead.
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    while header is None:
        start = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            raise ValidationFailed(f"{name} holds no column names and no data") from None
        except csv.Error as exc:
            raise ValidationFailed(
                f"{name}: the header on line {start} is malformed ({exc})"
            ) from None
        if any(cell.strip() for cell in record):
            header = record
    headers = _headers(header, name)
    return Table(headers, _csv_rows(reader, headers, warnings), warnings, "csv", delimiter)


def _csv_rows(reader: Any, headers: list[str], warnings: list[str]) -> Iterator[TableRow]:
    count = 0
    while True:
        start = reader.line_num + 1
        try:
            record: list[str] | None = next(reader)
            error = None
        except StopIteration:
            return
        except csv.Error as exc:
            record, error = None, f"malformed CSV ({exc}); check the quotes on this line"
        row = TableRow(start, {}, error) if record is None else _row(start, record, headers)
        if row is None:
            continue
        if count >= MAX_ROWS:
            warnings.append(_cut_warning(row.line))
            return
        count += 1
        yield row
        if record is None and reader.line_num < start:
            return  # the reader made no progress: nothing more can be read


def _cut_warning(line: int) -> str:
    return f"only the first {MAX_ROWS:,} rows were read; the rest (from line {line}) was not"


def _headers(raw: Sequence[str], name: str) -> list[str]:
    cells = [cell.strip() for cell in raw]
    while cells and not cells[-1]:
        cells.pop()
    if len(cells) > MAX_COLUMNS:
        raise ValidationFailed(f"{name} has {len(cells)} columns; at most {MAX_COLUMNS} are read")
    long = [c[:40] + "…" for c in cells if len(c) > MAX_HEADER]
    if long:
        raise ValidationFailed(
            f"{name}: column names longer than {MAX_HEADER} characters ({', '.join(long)}); "
            "is the first row really the header?"
        )
    headers = [cell or f"column_{i}" for i, cell in enumerate(cells, start=1)]
    seen: set[str] = set()
    duplicates: list[str] = []
    for header in headers:
        if header in seen and header not in duplicates:
            duplicates.append(header)
        seen.add(header)
    if duplicates:
        raise ValidationFailed(
            f"{name}: duplicate column names {', '.join(repr(d) for d in duplicates)}; "
            "give every column its own name",
            duplicates=duplicates,
        )
    return headers


def _row(line: int, values: Sequence[str], headers: Sequence[str]) -> TableRow | None:
    """A data row, or None for an empty one; ragged and oversized rows become row errors."""
    if not any(value.strip() for value in values):
        return None
    extra = [i for i in range(len(headers), len(values)) if values[i].strip()]
    if extra:
        return TableRow(
            line,
            {},
            f"{len(values)} cells where the header names {len(headers)} columns "
            f"(column {extra[0] + 1} has a value but no header)",
        )
    for index, value in enumerate(values[: len(headers)]):
        if len(value) > MAX_CELL:
            return TableRow(
                line,
                {},
                f"column {headers[index]!r} holds {len(value):,} characters; "
                f"at most {MAX_CELL:,} are allowed",
            )
    cells = {h: values[i] if i < len(values) else "" for i, h in enumerate(headers)}
    return TableRow(line, cells)


# --- XLSX ---------------------------------------------------------------------------------------

_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")


def _read_xlsx(data: bytes, name: str) -> Table:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except Exception:  # zipfile raises many kinds on damaged data
        raise ValidationFailed(
            f"{name} is a damaged or truncated ZIP file, not a readable XLSX workbook"
        ) from None
    names = {m.filename for m in members}
    if "xl/workbook.xml" not in names and not any(n.endswith("workbook.xml") for n in names):
        raise ValidationFailed(f"{name} is a ZIP archive but not an Excel workbook (.xlsx)")
    total = 0
    for member in members:
        total += member.file_size
        big = member.file_size > 1024 * 1024
        if big and member.file_size > MAX_XLSX_RATIO * max(member.compress_size, 1):
            raise ValidationFailed(f"{name} expands suspiciously far when unpacked; refused")
    if total > MAX_XLSX_EXPANDED:
        raise ValidationFailed(
            f"{name} unpacks to more than {MAX_XLSX_EXPANDED // (1024 * 1024)} MiB; "
            "split it or upload CSV"
        )
    formulas = _has_formulas(archive, name)
    values = _open_sheet(data, name, data_only=True)
    texts = _open_sheet(data, name, data_only=False) if formulas else None
    rows = _xlsx_rows(values, texts, name)
    warnings: list[str] = []
    try:
        for number, row, error in rows:
            if error is None and not any(v.strip() for v in row):
                continue
            if error is not None:
                raise ValidationFailed(f"{name}: the header row {number} is unreadable ({error})")
            headers = _headers(row, name)
            break
        else:
            raise ValidationFailed(f"{name}: the first sheet holds no column names and no data")
    except BaseException:
        rows.close()
        raise
    return Table(headers, _xlsx_table_rows(rows, headers, warnings), warnings, "xlsx")


def _has_formulas(archive: zipfile.ZipFile, name: str) -> bool:
    """Whether any worksheet holds a formula (then a second pass finds uncalculated ones)."""
    try:
        for member in archive.infolist():
            if not (
                member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml")
            ):
                continue
            with archive.open(member) as source:
                tail = b""
                while chunk := source.read(1024 * 1024):
                    if _FORMULA_TAG.search(tail + chunk):
                        return True
                    tail = chunk[-32:]
    except Exception:  # zipfile and zlib raise many kinds on damaged data
        raise ValidationFailed(f"{name} is a damaged XLSX workbook") from None
    return False


def _open_sheet(data: bytes, name: str, *, data_only: bool) -> ReadOnlyWorksheet:
    try:
        with pywarnings.catch_warnings():
            pywarnings.simplefilter("ignore")
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=data_only)
    except Exception as exc:  # openpyxl raises many kinds on a damaged file
        raise ValidationFailed(
            f"{name} is not a readable XLSX workbook ({type(exc).__name__}: {str(exc)[:200]})"
        ) from None
    sheets = book.worksheets
    if not sheets or not isinstance(sheets[0], ReadOnlyWorksheet):
        book.close()
        raise ValidationFailed(f"{name} has no worksheet")
    sheet = sheets[0]
    sheet.reset_dimensions()  # stated dimensions are often wrong; read what is there
    return sheet


_EXCEL_ERRORS = frozenset(
    {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#SPILL!", "#CALC!"}
)


def _sheet(sheet: ReadOnlyWorksheet) -> Any:
    return sheet


def _xlsx_rows(
    values: ReadOnlyWorksheet, texts: ReadOnlyWorksheet | None, name: str
) -> Generator[tuple[int, list[str], str | None], None, None]:
    """(row number, cell texts, error) for every row of the first sheet, empty ones included."""
    try:
        # The stubs type iter_rows for editable sheets only; read-only sheets have it too.
        cells: Iterator[Any] = _sheet(values).iter_rows(min_row=1, min_col=1)
        formulas: Iterator[Any] | None = None
        if texts is not None:
            formulas = _sheet(texts).iter_rows(min_row=1, min_col=1, values_only=True)
        for number, row in enumerate(cells, start=1):
            row_formulas = next(formulas, ()) if formulas is not None else ()
            texts_out: list[str] = []
            error: str | None = None
            for index, cell in enumerate(row):
                value = getattr(cell, "value", None)
                if value is None:
                    formula = row_formulas[index] if index < len(row_formulas) else None
                    if formula is not None and error is None:
                        error = (
                            f"cell {_where(index, number)} holds a formula without a saved "
                            "result; open the file in a spreadsheet program, recalculate and "
                            "save it"
                        )
                elif getattr(cell, "data_type", None) == "e" and error is None:
                    error = f"cell {_where(index, number)} holds the spreadsheet error {value}"
                texts_out.append(_cell_text(value))
            yield number, texts_out, error
    except ValidationFailed:
        raise
    except Exception as exc:  # a damaged sheet fails while it is read
        raise ValidationFailed(
            f"{name}: the worksheet is damaged ({type(exc).__name__}: {str(exc)[:200]})"
        ) from None
    finally:
        values.parent.close()
        if texts is not None:
            texts.parent.close()


def _where(index: int, row: int) -> str:
    return f"{get_column_letter(index + 1)}{row}"


def _cell_text(value: object) -> str:
    """A spreadsheet value as the text a person reads in the cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        # Spreadsheets keep 15 significant digits: 0.1 + 0.2 reads "0.3", as the cell shows.
        return str(int(value)) if value.is_integer() else format(value, ".15g")
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _xlsx_table_rows(
    rows: Generator[tuple[int, list[str], str | None], None, None],
    headers: list[str],
    warnings: list[str],
) -> Iterator[TableRow]:
    count = 0
    try:
        for number, values, error in rows:
            row = (
                TableRow(number, {}, error) if error is not None else _row(number, values, headers)
            )
            if row is None:
                continue
            if count >= MAX_ROWS:
                warnings.append(_cut_warning(number).replace("line", "row"))
                return
            count += 1
            yield row
    finally:
        rows.close()


# --- column mapping -----------------------------------------------------------------------------

# Header names recognised for the contributor's own record id and for the markings (compared
# after folding: case, spaces, underscores, hyphens and other punctuation ignored).
ID_ALIASES: tuple[str, ...] = (
    *csvio.ID_COLUMNS,
    "reference",
    "source_id",
    "source_ref",
    "source_reference",
    "record_ref",
    "record_reference",
    "external_id",
    "case_ref",
    "our_ref",
    "your_ref",
)
MARKING_ALIASES: dict[str, tuple[str, ...]] = {
    "handling": ("handling", "handling_code", "handling code", "hcode", "handling_codes"),
    "h3_conditions": ("h3_conditions", "h3", "h3_condition", "handling_conditions", "conditions"),
    "classification": ("classification", "security_classification", "classified", "marking"),
    "evaluation": ("evaluation", "source_evaluation", "4x4", "reliability_accuracy", "grading"),
    "crime_area": ("crime_area", "crime_type", "crime", "offence_area", "offense_area"),
    "subject_category": (
        "subject_category",
        "data_subject_category",
        "category",
        "subject_type",
        "person_category",
    ),
    "minor": ("minor", "is_minor", "juvenile", "underage", "under_18"),
    "review_date": ("review_date", "review", "review_by", "retention_date", "retention_until"),
}
# Names beyond a property's own name and label, per type. Person columns are also recognised
# through the matching engine's CSV aliases (``liaison.matching.csvio.ALIASES``), translated
# onto properties by their ``match`` field.
EXTRA_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "Person": {"profession": ("occupation", "job", "job_title", "position")},
    "Organisation": {
        "name": ("company", "company_name", "organisation_name", "organization_name", "org_name"),
        "registration_number": ("company_number", "registration", "reg_number", "crn"),
        "country": ("jurisdiction",),
    },
    "IdentityDocument": {
        "document_type": ("type", "doc_type", "kind"),
        "issue_date": ("issued", "date_of_issue", "issued_on", "valid_from"),
        "expiry_date": ("expiry", "expires", "date_of_expiry", "valid_until", "expiration_date"),
        "holder_name": ("holder", "name"),
    },
    "Vehicle": {
        "make": ("manufacturer", "brand"),
        "colour": ("color",),
        "vehicle_type": ("type", "body_type"),
    },
    "BankAccount": {
        "bank": ("bank_name",),
        "holder_name": ("holder", "account_holder", "account_name"),
    },
    "Firearm": {"calibre": ("caliber",), "firearm_type": ("type", "weapon_type")},
    "Location": {
        "latitude": ("lat",),
        "longitude": ("lon", "lng", "long"),
        "street_number": ("house_number", "number"),
    },
    "Event": {
        "date": ("event_date", "offence_date", "offense_date", "date_of_offence"),
        "place": ("location",),
        "description": ("summary", "details", "narrative"),
    },
}
# The matching engine's address parts: they fill a type's text ``address`` when it has no
# property of their own.
ADDRESS_PARTS = frozenset({"address", "street", "street_number", "suburb", "state"})
_NUMBER_SUFFIXES = ("number", "num", "nbr", "nr", "no")


def _fold(text: str) -> str:
    """A header as compared: case-folded, ``#``/``№`` read as "number", punctuation dropped."""
    text = text.casefold().replace("#", "number").replace("№", "number")
    return "".join(ch for ch in text if ch.isalnum())


def _folds(header: str) -> list[str]:
    key = _fold(header)
    keys = [key]
    for suffix in _NUMBER_SUFFIXES[1:]:
        if key.endswith(suffix) and len(key) > len(suffix) + 1:
            keys.append(key[: -len(suffix)] + "number")
            break
    return keys


def _etype(entity_type: str) -> EntityType:
    return SCHEMA.get(entity_type)


@cache
def _recognised(entity_type: str) -> dict[str, str]:
    """Folded header → target for a type, the first rule that names a key winning."""
    etype = _etype(entity_type)
    table: dict[str, str] = {}

    def add(alias: str, target: str) -> None:
        key = _fold(alias)
        if key:
            table.setdefault(key, target)

    for alias in ID_ALIASES:
        add(alias, "id")
    for marking, aliases in MARKING_ALIASES.items():
        add(marking, marking)
        for alias in aliases:
            add(alias, marking)
    for prop in etype.properties.values():
        add(prop.name, prop.name)
    for prop in etype.properties.values():
        add(prop.label, prop.name)
    for prop_name, aliases in EXTRA_ALIASES.get(etype.name, {}).items():
        for alias in aliases:
            add(alias, prop_name)
    by_match = {p.match: p.name for p in etype.properties.values() if p.match}
    text_props = {p.name for p in etype.properties.values() if p.type == "text"}
    for canonical, aliases in csvio.ALIASES.items():
        target = _translate(canonical, by_match, text_props)
        if target:
            for alias in (canonical, *aliases):
                add(alias, target)
    return table


def _translate(canonical: str, by_match: Mapping[str, str], text_props: set[str]) -> str:
    """A matching-engine field onto a property of the type (or "" when it has none)."""
    if canonical in ADDRESS_PARTS:
        if canonical in text_props:
            return canonical
        return "address" if "address" in text_props else ""
    return by_match.get(canonical) or ""


@cache
def _targets(entity_type: str) -> dict[str, bool]:
    """Every allowed target of a type and whether several columns may feed it (joined)."""
    etype = _etype(entity_type)
    targets = {"id": False, **dict.fromkeys(MARKING_FIELDS, False)}
    for prop in etype.properties.values():
        targets[prop.name] = prop.type == "text"
    return targets


def suggest_mapping(headers: Sequence[str], entity_type: str) -> dict[str, str]:
    """Header → target (a property of the type, a marking, ``"id"``, or ``""`` for ignored).

    A target that takes one value is given to the first header naming it; text properties (an
    address in parts) may take several headers, joined by ``apply_mapping``.
    """
    table = _recognised(_etype(entity_type).name)
    joinable = _targets(_etype(entity_type).name)
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for header in headers:
        target = next((table[k] for k in _folds(header) if k in table), "")
        if target and target in taken and not joinable[target]:
            target = ""
        if target:
            taken.add(target)
        mapping[header] = target
    return mapping


def validate_mapping(mapping: Mapping[str, str], entity_type: str) -> None:
    """Raise ``ValidationFailed`` naming every unknown target and every single-value target
    fed by more than one column."""
    etype = _etype(entity_type)
    targets = _targets(etype.name)
    errors: dict[str, str] = {}
    used: dict[str, str] = {}
    for header, target in mapping.items():
        if not target:
            continue
        if target not in targets:
            errors[header] = f"{target!r} is not a property of {etype.label}, a marking or id"
        elif target in used and not targets[target]:
            errors[header] = f"{target!r} is already fed by column {used[target]!r}"
        else:
            used.setdefault(target, header)
    if errors:
        summary = "; ".join(f"{k}: {v}" for k, v in errors.items())
        raise ValidationFailed(f"column mapping for {etype.label}: {summary}", errors=errors)


def apply_mapping(
    cells: Mapping[str, str],
    mapping: Mapping[str, str],
    entity_type: str,
    defaults: Mapping[str, str],
) -> dict[str, Any]:
    """The raw contribution of one row (``parse_contribution`` input).

    Empty cells are left out; ``defaults`` (markings or properties) fill what the row leaves
    empty; several columns feeding one text property are joined with ", " (in column order).
    """
    etype = _etype(entity_type)
    targets = _targets(etype.name)
    collected: dict[str, list[str]] = {}
    for header, target in mapping.items():
        if not target:
            continue
        if target not in targets:
            validate_mapping(mapping, etype.name)
        value = (cells.get(header) or "").strip()
        if value:
            values = collected.setdefault(target, [])
            if value not in values:
                values.append(value)
    raw: dict[str, Any] = {"type": etype.name, "properties": {}}
    for target, values in collected.items():
        _place(raw, target, ", ".join(values) if targets[target] else values[0])
    _merge_defaults(raw, etype, defaults)
    return raw


def _place(raw: dict[str, Any], target: str, value: str) -> None:
    if target == "id" or target in MARKING_FIELDS:
        raw[target] = value
    else:
        raw["properties"][target] = value


def _merge_defaults(raw: dict[str, Any], etype: EntityType, defaults: Mapping[str, str]) -> None:
    targets = _targets(etype.name)
    unknown = sorted(k for k in defaults if k not in targets or k == "id")
    if unknown:
        raise ValidationFailed(
            f"defaults: {', '.join(map(repr, unknown))} are not markings or properties of "
            f"{etype.label}",
            errors=dict.fromkeys(unknown, "unknown default"),
        )
    for key, value in defaults.items():
        text = "" if value is None else str(value).strip()
        if not text:
            continue
        if key in MARKING_FIELDS:
            raw.setdefault(key, text)
        else:
            raw["properties"].setdefault(key, text)


# --- JSON ---------------------------------------------------------------------------------------


class _Refused(ValueError):
    pass


def _no_constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise _Refused(f"key {key[:60]!r} appears twice in one object")
        obj[key] = value
    return obj


_DECODER = json.JSONDecoder(parse_constant=_no_constant, object_pairs_hook=_no_duplicates)


def _depth_error(value: Any) -> str | None:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                return f"nested deeper than {MAX_DEPTH} levels"
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return None


def _parse_json(text: str) -> tuple[dict[str, Any] | None, str | None]:
    try:
        value = _DECODER.decode(text)
    except _Refused as exc:
        return None, str(exc)
    except json.JSONDecodeError as exc:
        return None, f"invalid JSON: {exc.msg} at column {exc.colno}"
    except RecursionError:
        return None, f"nested deeper than {MAX_DEPTH} levels"
    except ValueError as exc:  # e.g. an integer longer than Python converts
        return None, f"invalid JSON: {str(exc)[:200]}"
    return _checked(value)


def _checked(value: Any) -> tuple[dict[str, Any] | None, str | None]:
    if not isinstance(value, dict):
        return None, f"a JSON {_json_kind(value)} where an object was expected"
    error = _depth_error(value)
    return (None, error) if error else (value, None)


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return "number"


def read_ndjson(data: bytes) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """(line, object, error) for every non-blank line: one JSON object a line.

    A line that is not UTF-8, not JSON, not an object, longer than ``MAX_LINE`` bytes, nested
    deeper than ``MAX_DEPTH``, or holds NaN/Infinity or a repeated key is an error for that line
    only.
    """
    start = 3 if data.startswith(codecs.BOM_UTF8) else 0
    line = 0
    size = len(data)
    while start < size:
        end = data.find(b"\n", start)
        if end == -1:
            end = size
        line += 1
        length = end - start
        if length > MAX_LINE:
            yield line, None, f"line longer than {MAX_LINE:,} bytes"
        else:
            chunk = data[start:end]
            if chunk.strip():
                try:
                    text = chunk.decode("utf-8")
                except UnicodeDecodeError as exc:
                    yield line, None, f"not UTF-8 (byte {exc.start + 1} of the line)"
                else:
                    obj, error = _parse_json(text)
                    yield line, obj, error
        start = end + 1


def read_ftm(data: bytes) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """FollowTheMoney entities: one a line (the usual export), or a JSON array of them.

    For an array each item's line is where it starts; the first unreadable item ends it.
    """
    body = data[3:] if data.startswith(codecs.BOM_UTF8) else data
    if not body.lstrip().startswith(b"["):
        yield from read_ndjson(data)
        return
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = body.count(b"\n", 0, exc.start) + 1
        yield line, None, "not UTF-8: the JSON array cannot be read"
        return
    yield from _json_array(text)


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def _json_array(text: str) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    line, counted = 1, 0

    def line_at(index: int) -> int:
        nonlocal line, counted
        line += text.count("\n", counted, index)
        counted = index
        return line

    position = _skip_space(text, text.index("[") + 1)
    if text.startswith("]", position):
        return
    while True:
        here = line_at(position)
        try:
            value, end = _DECODER.raw_decode(text, position)
        except _Refused as exc:
            yield here, None, str(exc)
            return
        except json.JSONDecodeError as exc:
            yield here, None, f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
            return
        except (RecursionError, ValueError) as exc:
            reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)[:200]
            yield here, None, f"invalid JSON: {reason}"
            return
        obj, error = _checked(value)
        yield here, obj, error
        position = _skip_space(text, end)
        if text.startswith(",", position):
            position = _skip_space(text, position + 1)
            continue
        if text.startswith("]", position):
            if text[position + 1 :].strip():
                yield line_at(position), None, "text after the end of the JSON array"
            return
        yield line_at(position), None, "invalid JSON: expected ',' or ']' between items"
        return


# --- FollowTheMoney -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FtmMapping:
    """How one FollowTheMoney schema becomes a Liaison entity type.

    ``properties`` lists (FtM property, Liaison property) pairs; when several FtM properties feed
    one Liaison property, the first that holds a value wins and the others are noted. ``fixed``
    sets Liaison properties to constants (a Passport is a passport).
    """

    target: str
    properties: tuple[tuple[str, str], ...]
    fixed: tuple[tuple[str, str], ...] = ()


_LEGAL_ENTITY: tuple[tuple[str, str], ...] = (
    ("name", "name"),
    ("country", "country"),
    ("jurisdiction", "country"),
    ("mainCountry", "country"),
    ("registrationNumber", "registration_number"),
    ("address", "address"),
)
_IDENTIFICATION: tuple[tuple[str, str], ...] = (
    ("number", "number"),
    ("passportNumber", "number"),
    ("country", "issuing_country"),
    ("type", "document_type"),
    ("startDate", "issue_date"),
    ("endDate", "expiry_date"),
)

FTM_SCHEMATA: dict[str, FtmMapping] = {
    "Person": FtmMapping(
        "Person",
        (
            ("name", "full_name"),
            ("firstName", "given_name"),
            ("middleName", "middle_name"),
            ("secondName", "middle_name"),
            ("fatherName", "middle_name"),
            ("lastName", "family_name"),
            ("birthDate", "dob"),
            ("gender", "gender"),
            ("nationality", "nationality"),
            ("citizenship", "nationality"),
            ("birthPlace", "birth_place"),
            ("passportNumber", "document_number"),
            ("idNumber", "national_id"),
            ("socialSecurityNumber", "national_id"),
            ("phone", "phone"),
            ("email", "email"),
            ("address", "address"),
            ("position", "profession"),
        ),
    ),
    "LegalEntity": FtmMapping("Organisation", _LEGAL_ENTITY),
    "Organization": FtmMapping("Organisation", _LEGAL_ENTITY),
    "Company": FtmMapping("Organisation", _LEGAL_ENTITY),
    "PublicBody": FtmMapping("Organisation", _LEGAL_ENTITY),
    "Identification": FtmMapping("IdentityDocument", _IDENTIFICATION),
    "Passport": FtmMapping(
        "IdentityDocument",
        tuple(p for p in _IDENTIFICATION if p[1] != "document_type"),
        fixed=(("document_type", "passport"),),
    ),
    "Vehicle": FtmMapping(
        "Vehicle",
        (
            ("registrationNumber", "plate"),
            ("country", "plate_country"),
            ("make", "make"),
            ("model", "model"),
            ("type", "vehicle_type"),
        ),
    ),
    "BankAccount": FtmMapping(
        "BankAccount", (("iban", "iban"), ("bic", "bic"), ("bankName", "bank"))
    ),
    "Address": FtmMapping(
        "Location",
        (
            ("full", "address"),
            ("street", "street"),
            ("postalCode", "postcode"),
            ("city", "city"),
            ("country", "country"),
            ("latitude", "latitude"),
            ("longitude", "longitude"),
        ),
    ),
}


@dataclass(frozen=True, slots=True)
class FtmLink:
    """A Liaison link read from a FollowTheMoney entity: the FtM property holding its source and
    the one holding its target (``None``: the entity itself, e.g. a passport its holder holds)."""

    link: str
    source: str
    target: str | None


FTM_LINKS: dict[str, tuple[FtmLink, ...]] = {
    "Family": (FtmLink("family", "person", "relative"),),
    "Associate": (FtmLink("associate", "person", "associate"),),
    "Membership": (FtmLink("member_of", "member", "organization"),),
    "Employment": (FtmLink("member_of", "employee", "employer"),),
    "Directorship": (FtmLink("member_of", "director", "organization"),),
    "Ownership": (FtmLink("owns_uses", "owner", "asset"),),
    "Identification": (FtmLink("holds", "holder", None),),
    "Passport": (FtmLink("holds", "holder", None),),
    "Vehicle": (FtmLink("owns_uses", "owner", None), FtmLink("owns_uses", "operator", None)),
}

# FtM values translated onto Liaison enumerations.
FTM_GENDER = {"male": "M", "female": "F", "other": "X"}
# Words in a free-text FtM ``type`` → Liaison enumeration value (first hit wins; else "other").
FTM_DOCUMENT_TYPES: tuple[tuple[str, str], ...] = (
    ("passport", "passport"),
    ("visa", "visa"),
    ("residence", "residence_permit"),
    ("driving", "driving_licence"),
    ("driver", "driving_licence"),
    ("driver's", "driving_licence"),
    ("licence", "driving_licence"),
    ("license", "driving_licence"),
    ("identity", "id_card"),
    ("id", "id_card"),
    ("national", "id_card"),
)
FTM_VEHICLE_TYPES: tuple[tuple[str, str], ...] = (
    ("motorcycle", "motorcycle"),
    ("motorbike", "motorcycle"),
    ("scooter", "motorcycle"),
    ("truck", "truck"),
    ("lorry", "truck"),
    ("van", "van"),
    ("bus", "bus"),
    ("coach", "bus"),
    ("trailer", "trailer"),
    ("car", "car"),
    ("automobile", "car"),
    ("sedan", "car"),
)
_LINK_END_PROPERTIES = frozenset(
    end
    for links in FTM_LINKS.values()
    for link in links
    for end in (link.source, link.target)
    if end
)


def ftm_id(value: str) -> str:
    """An FtM id as a Liaison record id: kept when short enough, else a 32-character prefix and
    the SHA-1 of the whole (deterministic, so links and entities agree)."""
    if len(value) <= MAX_ID:
        return value
    digest = hashlib.sha1(value.encode("utf-8"), usedforsecurity=False).hexdigest()
    return f"{value[:32]}-{digest}"


def _ftm_values(props: Mapping[str, Any], name: str) -> list[str]:
    raw = props.get(name)
    items = raw if isinstance(raw, list) else [raw]
    values: list[str] = []
    for item in items:
        if isinstance(item, Mapping):  # a nested entity in some exports
            item = item.get("id")
        if isinstance(item, str) and item.strip() and item.strip() not in values:
            values.append(item.strip())
        elif isinstance(item, int | float) and not isinstance(item, bool):
            values.append(str(item))
    return values


def _ftm_entity(obj: Mapping[str, Any]) -> tuple[str, str, Mapping[str, Any]]:
    schema = obj.get("schema")
    ident = obj.get("id")
    props = obj.get("properties", {})
    if not isinstance(schema, str) or not schema:
        raise ValidationFailed("not a FollowTheMoney entity: no schema")
    if not isinstance(ident, str) or not ident.strip():
        raise ValidationFailed(f"FollowTheMoney {schema} entity without an id")
    if not isinstance(props, Mapping):
        raise ValidationFailed(f"FollowTheMoney entity {ident[:60]!r}: properties is not an object")
    return schema, ident.strip(), props


def _word_lookup(text: str, table: Sequence[tuple[str, str]]) -> str:
    words = set(re.findall(r"[a-z']+", text.casefold()))
    return next((value for word, value in table if word in words), "other")


def _ftm_value(prop: str, value: str, etype: EntityType) -> str:
    if prop == "gender":
        return FTM_GENDER.get(value.casefold(), "U")
    if prop == "document_type":
        return _word_lookup(value, FTM_DOCUMENT_TYPES)
    if prop == "vehicle_type":
        return _word_lookup(value, FTM_VEHICLE_TYPES)
    if etype.properties[prop].type == "date":
        return value.split("T", 1)[0]
    return value


def ftm_to_raw(
    obj: Mapping[str, Any],
    defaults: Mapping[str, str] | None = None,
    notes: list[str] | None = None,
) -> dict[str, Any]:
    """The raw contribution of a FollowTheMoney entity (``parse_contribution`` input).

    Markings are not part of FtM: ``defaults`` supplies them (and any type-wide property), the
    entity's own values winning. Values that are not kept (second names, unmapped properties)
    are described in ``notes`` when a list is given. An unmapped schema raises
    ``ValidationFailed``.
    """
    schema, ident, props = _ftm_entity(obj)
    mapping = FTM_SCHEMATA.get(schema)
    if mapping is None:
        if schema in FTM_LINKS:
            raise ValidationFailed(
                f"FollowTheMoney schema {schema} is a relationship, not a record: "
                "read it with ftm_links"
            )
        raise ValidationFailed(
            f"FollowTheMoney schema {schema} is not mapped: mapped are "
            f"{', '.join(sorted(FTM_SCHEMATA))}; relationships {', '.join(sorted(FTM_LINKS))}"
        )
    etype = _etype(mapping.target)
    out: dict[str, str] = {}
    dropped: list[str] = []
    for ftm_prop, prop in mapping.properties:
        values = [_ftm_value(prop, v, etype) for v in _ftm_values(props, ftm_prop)]
        if not values:
            continue
        if prop not in out:
            out[prop] = values[0]
            values = values[1:]
        extra = [v for v in values if v != out[prop]]
        if extra:
            dropped.append(f"{ftm_prop}: {len(extra)} more value(s) not kept ({extra[0][:60]!r}…)")
    for prop, value in mapping.fixed:
        out.setdefault(prop, value)
    known = {p for p, _ in mapping.properties} | _LINK_END_PROPERTIES
    unmapped = sorted(p for p in props if p not in known and _ftm_values(props, p))
    if notes is not None:
        notes.extend(dropped)
        if unmapped:
            notes.append(f"FollowTheMoney properties not imported: {', '.join(unmapped)}")
    raw: dict[str, Any] = {"type": etype.name, "id": ftm_id(ident), "properties": out}
    _merge_defaults(raw, etype, defaults or {})
    return raw


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def ftm_links(obj: Mapping[str, Any], notes: list[str] | None = None) -> list[dict[str, Any]]:
    """The Liaison links a FollowTheMoney entity states (empty for most schemata).

    Each is ``{"type", "source", "target", "start_date", "end_date"}`` with FtM ids turned into
    record ids as ``ftm_to_raw`` does; dates are kept only when complete (YYYY-MM-DD), as links
    require. Whether the two ends' types suit the link is checked when the link is made.
    """
    schema, ident, props = _ftm_entity(obj)
    dates: dict[str, str | None] = {}
    for ftm_prop, key in (("startDate", "start_date"), ("endDate", "end_date")):
        values = _ftm_values(props, ftm_prop)
        value = values[0][:10] if values else None
        if value is not None and not _ISO_DATE.fullmatch(value):
            if notes is not None:
                notes.append(f"{ftm_prop} {value!r} is not a full date and was not kept")
            value = None
        dates[key] = value
    links: list[dict[str, Any]] = []
    for spec in FTM_LINKS.get(schema, ()):
        sources = _ftm_values(props, spec.source)
        targets = [ident] if spec.target is None else _ftm_values(props, spec.target)
        links.extend(
            {"type": spec.link, "source": ftm_id(s), "target": ftm_id(t), **dates}
            for s in sources
            for t in targets
            if s != t
        )
    return links


# --- export -------------------------------------------------------------------------------------


def safe_cell(text: str) -> str:
    """A value for CSV export that a spreadsheet shows as text and never runs as a formula: a
    leading ``= + - @ TAB CR`` gets a ``'`` before it (OWASP, CSV injection). Ingestion does
    not use this: values read are kept as written."""
    return csvio.safe_cell(text)
