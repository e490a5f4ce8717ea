"""Bulk import from CSV and JSON lines: a per-row report, rejected rows never abort the batch,
hostile lines rejected with the reason; property tests of the parser."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from liaison.alerts import importing
from liaison.alerts.drafts import FIELDS, parse_alert, split_flat
from liaison.alerts.model import Alert
from liaison.core.audit import AuditEntry
from liaison.core.errors import PayloadTooLarge, PermissionDenied, ValidationFailed
from tests.alerts.conftest import World, arrest, stolen_car
from tests.alerts.examples import example

CSV = (
    "id,category,reason,warnings,given_name,family_name,dob,judicial_authority,"
    "warrant_reference,plate,plate_country,vin\n"
    "A1,arrest_surrender,EAW 1,armed;violent,Jan,Nowak,1970-01-02,Sąd Okręgowy,W/1,,,\n"
    "V1,vehicle,stolen,,,,,,,B-AB 1234,DE,\n"
    "V2,vehicle,stolen,,,,,,,,,1HGCM82633A004353\n"
    'V3,vehicle,"stolen "quoted" badly,,,,,,,M-XY 1,DE,\n'
    "V4,vehicle,stolen,,,,,,,M-XY 2,DE,\n"
    "A1,arrest_surrender,EAW 1 again,,Jan,Nowak,1970-01-02,Sąd Okręgowy,W/1,,,\n"
)


def run(
    world: World, data: bytes | str, source_format: str, who: Any = None
) -> importing.ImportReport:
    raw = data.encode() if isinstance(data, str) else data
    return importing.import_file(
        world.db,
        world.actor(who or world.manager_a),
        raw,
        source_format=source_format,
        filename=f"alerts.{source_format}",
    )


def outcomes(report: importing.ImportReport) -> list[tuple[int, str]]:
    return [(r.line, r.outcome) for r in report.rows]


def test_csv_import_reports_every_row(world: World) -> None:
    report = run(world, CSV, "csv")
    assert outcomes(report) == [
        (2, "accepted"),
        (3, "accepted"),
        (4, "rejected"),
        (5, "rejected"),
        (6, "accepted"),
        (7, "rejected"),
    ]
    messages = {r.line: r.message for r in report.rows}
    assert "subject.vin" in messages[4]
    assert "check digit" in messages[4]
    assert "malformed CSV" in messages[5]
    assert "appears again (first on line 2)" in messages[7]
    with world.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Alert)) == 3
        wanted = s.scalars(select(Alert).where(Alert.source_ref == "A1")).one()
        assert wanted.warnings == ["armed", "violent"]
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "alert.import")).one()
        detail = json.loads(entry.detail)
        assert (detail["accepted"], detail["rejected"]) == (3, 3)
    assert world.check_object(world.officer_b, kind="plate", value="M-XY 2").outcome == "hit"


def test_reimport_is_idempotent_and_updates_by_reference(world: World) -> None:
    lines = [json.dumps(arrest() | {"id": "A1"}), json.dumps(stolen_car() | {"id": "V1"})]
    first = run(world, "\n".join(lines), "ndjson")
    assert [r.outcome for r in first.rows] == ["accepted", "accepted"]
    again = run(world, "\n".join(lines), "ndjson")
    assert [r.outcome for r in again.rows] == ["unchanged", "unchanged"]
    changed = stolen_car() | {"id": "V1", "reason": "stolen, with its keys"}
    third = run(world, json.dumps(changed), "ndjson")
    assert [r.outcome for r in third.rows] == ["updated"]
    assert third.rows[0].alert_id == first.rows[1].alert_id
    wrong = example("boat") | {"id": "V1"}
    assert "category" in run(world, json.dumps(wrong), "ndjson").rows[0].message


HOSTILE = [
    ("{not json", "invalid JSON"),
    ("[1, 2]", "array where an object was expected"),
    ('{"category": "vehicle", "reason": NaN}', "NaN is not a JSON number"),
    ('{"category": "vehicle", "category": "boat"}', "appears twice"),
    ('{"a":' * 30 + "1" + "}" * 30, "nested deeper"),
    (json.dumps(arrest(family_name="Iva\x00nov")), "control character"),
    (json.dumps(arrest(family_name="Ivanov\U0010fffd")), "private-use"),
    (json.dumps(arrest(family_name="☠☠☠")), "holds no letters"),
    (json.dumps(stolen_car(plate="B-AB 1234 5678 9012 3")), "2–12"),
    (json.dumps({"category": "pink_notice", "reason": "x", "subject": {}}), "unknown alert"),
    (json.dumps(stolen_car() | {"subject": "a car"}), "subject must be an object"),
    (json.dumps(stolen_car() | {"warnings": {"armed": True}}), "must be a list"),
    (json.dumps(stolen_car() | {"reason": "x" * 5000}), "longer than 4000"),
]


def test_hostile_ndjson_lines_are_rejected_with_the_reason(world: World) -> None:
    lines = [line for line, _ in HOSTILE]
    lines.insert(3, "")  # a blank line is skipped, not reported
    lines.append(json.dumps(stolen_car("M-OK 1")))
    data = "\n".join(lines).encode() + b"\n\xff\xfe broken utf-8\n"
    report = run(world, data, "ndjson")
    rejected = [r for r in report.rows if r.outcome == "rejected"]
    assert len(rejected) == len(HOSTILE) + 1
    for row, (_, reason) in zip(rejected, HOSTILE, strict=False):
        assert reason in row.message, (row.line, row.message)
    assert "not UTF-8" in rejected[-1].message
    assert [r.outcome for r in report.rows if r.outcome != "rejected"] == ["accepted"]


@pytest.mark.parametrize(
    ("data", "source_format", "error"),
    [
        (b"", "ndjson", "empty"),
        (b"%PDF-1.7 binary", "csv", "PDF"),
        (b"name,reason\nx,y\n", "csv", "no 'category' column"),
        (b"category,category\nvehicle,boat\n", "csv", "duplicate column"),
        (b"{}", "xml", "format must be"),
    ],
)
def test_unreadable_files_are_refused_before_any_row(
    world: World, data: bytes, source_format: str, error: str
) -> None:
    with pytest.raises(ValidationFailed, match=error):
        run(world, data, source_format)


def test_oversized_imports_and_non_issuers_are_refused(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing, "MAX_BYTES", 100)
    with pytest.raises(PayloadTooLarge, match="at most"):
        run(world, b"x" * 101, "ndjson")
    with pytest.raises(PermissionDenied):
        run(world, json.dumps(stolen_car()), "ndjson", who=world.officer_a)


# ── Property tests of the parser ─────────────────────────────────────────────────────────────

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELD_NAMES = st.sampled_from(sorted(FIELDS)) | st.text(max_size=12)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.dictionaries(FIELD_NAMES, JSON_VALUES, max_size=8))
def test_parse_alert_refuses_anything_with_validation_failed_only(raw: dict[str, Any]) -> None:
    errors: dict[str, str] = {}
    try:
        parse_alert(raw)
    except ValidationFailed as exc:
        errors = exc.extra["errors"]
        refused = True
    else:
        refused = False
    assert errors or not refused, "every refusal names at least one field"


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.sampled_from(sorted(example.__globals__["SUBJECTS"])),
    st.dictionaries(st.text(max_size=12), st.text(max_size=40), max_size=4),
)
def test_subject_noise_never_crashes_a_valid_category(code: str, noise: dict[str, str]) -> None:
    raw = example(code)
    raw["subject"] = {**raw["subject"], **noise}
    try:
        draft = parse_alert(raw)
    except ValidationFailed:
        return
    assert draft.category.code == code


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.binary(max_size=400))
def test_ndjson_rows_account_for_every_non_blank_line(data: bytes) -> None:
    rows = list(importing.ndjson_rows(data))
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    assert len(rows) == sum(1 for line in body.split(b"\n") if line.strip())
    for _line, obj, error in rows:
        assert (obj is None) != (error is None)
        if obj is not None:
            with contextlib.suppress(ValidationFailed):
                parse_alert(obj)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(max_size=300))
def test_csv_rows_are_read_or_the_file_refused(text: str) -> None:
    warnings: list[str] = []
    data = ("category,reason,plate,plate_country\n" + text).encode()
    try:
        rows = list(importing.rows_of(data, "csv", "x.csv", warnings))
    except ValidationFailed:
        return  # the whole file refused, with the reason
    for _line, raw, error in rows:
        assert (raw is None) != (error is None)
        if raw is not None:
            assert set(raw) - set(FIELDS) == set()
            with contextlib.suppress(ValidationFailed):
                parse_alert(raw)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.dictionaries(FIELD_NAMES, st.text(max_size=20), max_size=10))
def test_flat_rows_split_into_alert_fields_and_subject(row: dict[str, str]) -> None:
    raw = split_flat(row)
    kept = {k: v for k, v in row.items() if v.strip()}
    fields = {k for k in kept if k.strip() in FIELDS and k.strip() != "subject"}
    assert set(raw) - {"subject"} == {k.strip() for k in fields}
    assert len(raw["subject"]) <= len(kept) - len(fields)
