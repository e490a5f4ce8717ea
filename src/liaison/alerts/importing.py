"""Bulk import of alerts from CSV or JSON lines, with a per-row report.

Each row is validated (``drafts.parse_alert``) and stored on its own, in a savepoint: a
rejected row never aborts the batch and never corrupts accepted ones; rows are committed in
chunks, so an interruption keeps every chunk already stored. A row whose ``id`` (the issuer's
own reference) names an alert of the agency replaces that alert's content (``updated`` or
``unchanged``); otherwise it issues a new alert (``accepted``).

CSV: one alert per row; the alert fields by their names (``category``, ``reason``, ``id``,
``warnings`` separated by ``;`` …), every other column — or ``subject.<property>`` — a subject
property. JSON lines: one alert object per line, the same shape as ``POST /api/v1/alerts``.
Files are read with the ingestion readers of the shared information system (encodings,
malformed quotes, binary files, NaN, duplicate keys and deep nesting are reported there).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from liaison.alerts import service
from liaison.alerts.drafts import parse_alert, split_flat
from liaison.alerts.model import Alert
from liaison.core import audit
from liaison.core.actor import Actor
from liaison.core.errors import LiaisonError, PayloadTooLarge, ValidationFailed
from liaison.core.markings import Classification
from liaison.core.policy import can_issue_alert
from liaison.db.engine import Database
from liaison.entities import formats

CHUNK = 500
MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 100_000
MAX_MESSAGE = 1000
FORMATS = ("csv", "ndjson")

Row = tuple[int, Mapping[str, Any] | None, str | None]


@dataclass(frozen=True, slots=True)
class RowReport:
    """What happened to one row."""

    line: int
    ref: str | None
    outcome: str  # accepted, updated, unchanged or rejected
    alert_id: str | None = None
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "id": self.ref,
            "outcome": self.outcome,
            "alert_id": self.alert_id,
            "message": self.message,
        }


@dataclass(slots=True)
class ImportReport:
    """The outcome of an import: counts and every row's report."""

    filename: str
    source_format: str
    rows: list[RowReport] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.rows if r.outcome == outcome)

    def as_dict(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "format": self.source_format,
            "total": len(self.rows),
            "accepted": self.count("accepted"),
            "updated": self.count("updated"),
            "unchanged": self.count("unchanged"),
            "rejected": self.count("rejected"),
            "warnings": self.warnings,
            "rows": [r.as_dict() for r in self.rows],
        }


# ── Reading ──────────────────────────────────────────────────────────────────────────────────


def check_size(data: bytes) -> None:
    if len(data) > MAX_BYTES:
        raise PayloadTooLarge(
            f"the file has {len(data):,} bytes; an import is at most {MAX_BYTES:,} bytes "
            f"({MAX_BYTES / 1024 / 1024:.1f} MB): split it"
        )
    if not data.strip():
        raise ValidationFailed("the file is empty")


def csv_rows(data: bytes, filename: str, warnings: list[str]) -> Iterator[Row]:
    """The rows of a CSV (or XLSX) table as alert objects; a table that cannot be read at all
    raises ``ValidationFailed`` here, before any row."""
    table = formats.read_table(data, filename)
    if "category" not in table.headers:
        raise ValidationFailed(
            f"{filename or 'the file'} has no 'category' column; the columns are "
            + ", ".join(table.headers[:20])
        )

    def rows() -> Iterator[Row]:
        for row in table.rows:
            if row.error is not None:
                yield row.line, None, row.error
            else:
                yield row.line, split_flat(row.cells), None
        warnings.extend(table.warnings)

    return rows()


def ndjson_rows(data: bytes) -> Iterator[Row]:
    """One alert object per line; a line that is not a JSON object is that line's error."""
    yield from formats.read_ndjson(data)


def rows_of(data: bytes, source_format: str, filename: str, warnings: list[str]) -> Iterator[Row]:
    """The rows of an import file in ``csv`` or ``ndjson``."""
    check_size(data)
    if source_format == "csv":
        return csv_rows(data, filename, warnings)
    if source_format == "ndjson":
        return ndjson_rows(data)
    raise ValidationFailed(f"format must be one of {', '.join(FORMATS)}")


# ── Storing ──────────────────────────────────────────────────────────────────────────────────


def _ref_of(raw: Mapping[str, Any] | None) -> str | None:
    if raw is None:
        return None
    value = raw.get("id") or raw.get("source_ref")
    return str(value).strip()[:128] if value not in (None, "") else None


def _store(
    session: Session, actor: Actor, line: int, raw: Mapping[str, Any] | None, error: str | None
) -> RowReport:
    ref = _ref_of(raw)
    if error is not None or raw is None:
        return RowReport(line, ref, "rejected", message=(error or "unreadable row")[:MAX_MESSAGE])
    try:
        draft = parse_alert(raw)
        with session.begin_nested():
            existing = None
            if draft.source_ref:
                existing = session.scalar(
                    select(Alert).where(
                        Alert.issuer_agency_id == actor.agency_id,
                        Alert.source_ref == draft.source_ref,
                    )
                )
            if existing is not None:
                outcome = service.replace(session, actor, existing, draft)
                return RowReport(line, ref, outcome, existing.id)
            alert = service.issue(session, actor, draft)
            return RowReport(line, ref, "accepted", alert.id)
    except LiaisonError as exc:
        return RowReport(line, ref, "rejected", message=exc.detail[:MAX_MESSAGE])
    except SQLAlchemyError:
        return RowReport(line, ref, "rejected", message="the database refused this row")


def import_rows(
    database: Database,
    actor: Actor,
    rows: Iterable[Row],
    *,
    source_format: str,
    filename: str,
) -> ImportReport:
    """Store every good row, report every bad one; committed per chunk; one audit entry."""
    can_issue_alert(
        actor, personal_data=False, classification=Classification.UNCLASSIFIED
    ).enforce()
    report = ImportReport(filename[:200], source_format)
    first_line: dict[str, int] = {}
    iterator = iter(rows)
    while True:
        chunk = [r for _, r in zip(range(CHUNK), iterator, strict=False)]
        if not chunk:
            break
        with database.session() as session:
            for line, raw, error in chunk:
                if len(report.rows) >= MAX_ROWS:
                    report.warnings.append(
                        f"only the first {MAX_ROWS:,} rows were imported; the rest (from line "
                        f"{line}) was not"
                    )
                    break
                ref = _ref_of(raw)
                if error is None and ref is not None and ref in first_line:
                    error = f"reference {ref!r} appears again (first on line {first_line[ref]})"
                row = _store(session, actor, line, raw, error)
                if ref is not None and row.outcome != "rejected":
                    first_line.setdefault(ref, line)
                report.rows.append(row)
        if len(report.rows) >= MAX_ROWS:
            break
    with database.session() as session:
        audit.record(
            session,
            actor,
            "alert.import",
            object_type="Alert",
            detail={
                "filename": report.filename,
                "format": source_format,
                **{k: report.count(k) for k in ("accepted", "updated", "unchanged", "rejected")},
            },
        )
    return report


def import_file(
    database: Database, actor: Actor, data: bytes, *, source_format: str, filename: str
) -> ImportReport:
    """Read and import one file (``csv`` or ``ndjson``)."""
    can_issue_alert(
        actor, personal_data=False, classification=Classification.UNCLASSIFIED
    ).enforce()
    warnings: list[str] = []
    rows = rows_of(data, source_format, filename, warnings)
    report = import_rows(database, actor, rows, source_format=source_format, filename=filename)
    report.warnings.extend(warnings)
    return report
