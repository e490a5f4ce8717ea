"""The CSV front: recognised columns, hostile files, formula injection, the commands."""

from __future__ import annotations

import contextlib
import csv
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from liaison.cli import app
from liaison.matching.csvio import parse_mapping, read_records, safe_cell, write_rows

runner = CliRunner()


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_headers_recognised_ignoring_case_and_spaces(tmp_path: Path) -> None:
    path = write(
        tmp_path / "in.csv",
        " ID ,First Name, SURNAME ,Date_of_Birth,soc_sec_id,address_1,address_2,colour\n"
        "1,Anna,Nowak,19840302,123,1 Main St,Flat 2,blue\n",
    )
    records, report = read_records(path)
    assert records == [
        {
            "given_name": "Anna",
            "family_name": "Nowak",
            "dob": "19840302",
            "national_id": "123",
            "address": "1 Main St Flat 2",
            "id": "1",
        }
    ]
    assert report.ignored == ["colour"]


def test_mapping_overrides(tmp_path: Path) -> None:
    path = write(tmp_path / "in.csv", "ref,nom,prenom\nA,Dupont,Jean\n")
    records, _ = read_records(
        path, mapping=parse_mapping("family_name=nom,given_name=prenom"), id_column="ref"
    )
    assert records[0] == {"family_name": "Dupont", "given_name": "Jean", "id": "A"}
    with pytest.raises(ValueError, match="unknown field"):
        parse_mapping("shoe_size=x")
    with pytest.raises(ValueError, match="no column"):
        read_records(path, mapping=parse_mapping("family_name=absent"))


def test_malformed_rows_reported_with_line_numbers_and_skipped(tmp_path: Path) -> None:
    path = write(
        tmp_path / "in.csv",
        "id,first_name,surname\n1,Anna,Nowak\n2,too,many,fields\n3,Jan\n1,Dup,Licate\n4,Ok,Fine\n",
    )
    records, report = read_records(path)
    assert [r["id"] for r in records] == ["1", "4"]
    assert any(p.startswith("line 3:") for p in report.problems)
    assert any(p.startswith("line 4:") for p in report.problems)
    assert any("duplicate id" in p for p in report.problems)


def test_wrong_encoding_is_read_and_reported(tmp_path: Path) -> None:
    path = write(tmp_path / "in.csv", "id,surname\n1,Müller\n", encoding="cp1252")
    records, report = read_records(path)
    assert records[0]["family_name"] == "Müller"
    assert report.encoding == "cp1252"
    assert report.problems


def test_huge_field_skipped(tmp_path: Path) -> None:
    path = write(tmp_path / "in.csv", "id,surname\n1," + "x" * 200_000 + "\n2,Nowak\n")
    records, report = read_records(path)
    assert [r["id"] for r in records] == ["2"]
    assert any("longer than" in p for p in report.problems)


def test_missing_or_useless_header(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="empty"):
        read_records(write(tmp_path / "a.csv", ""))
    with pytest.raises(ValueError, match="no column is recognised"):
        read_records(write(tmp_path / "b.csv", "foo,bar\n1,2\n"))


@pytest.mark.parametrize("value", ['=HYPERLINK("http://x")', "+1+1", "-2", "@SUM(A1)", "\tx"])
def test_formula_injection_neutralised(value: str) -> None:
    assert safe_cell(value).startswith("'")
    assert safe_cell("Anna") == "Anna"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=2000))
def test_any_bytes_never_crash_the_reader(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_bytes(data)
    # A clear refusal (empty file, no recognised column) is a right answer; anything else fails.
    with contextlib.suppress(ValueError):
        read_records(path)


def test_dedupe_and_link_commands(tmp_path: Path) -> None:
    left = write(
        tmp_path / "left.csv",
        "id,first_name,surname,dob\n1,Anna,Kowalska,1984-03-02\n2,Anna,Kowalska,1984-03-02\n"
        "3,=cmd,Nowak,1970-01-01\n4,Jan,de Vries,1970-02-14\n",
    )
    right = write(
        tmp_path / "right.csv",
        "id,given_name,family_name,date_of_birth\nA,Jan,De Vries,14.02.1970\n",
    )
    out, pairs = tmp_path / "clusters.csv", tmp_path / "pairs.csv"
    result = runner.invoke(app, ["dedupe", str(left), "--out", str(out), "--pairs", str(pairs)])
    assert result.exit_code == 0, result.output
    rows = {r["id"]: r["cluster_id"] for r in csv.DictReader(out.open())}
    assert rows["1"] == rows["2"] != rows["3"]
    assert len(rows) == 4
    pair_rows = list(csv.DictReader(pairs.open()))
    assert pair_rows[0]["id_l"] == "1"
    assert "name agrees" in pair_rows[0]["explanation"]
    linked = tmp_path / "linked.csv"
    result = runner.invoke(app, ["link", str(left), str(right), "--out", str(linked)])
    assert result.exit_code == 0, result.output
    assert [(r["id_l"], r["id_r"]) for r in csv.DictReader(linked.open())] == [("4", "A")]
    bad = runner.invoke(
        app, ["dedupe", str(write(tmp_path / "x.csv", "foo\n1\n")), "--out", str(out)]
    )
    assert bad.exit_code == 2
    assert "no column is recognised" in bad.output


def test_written_cells_are_safe(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    write_rows(path, ["a"], [["=1+1"]])
    assert path.read_text().splitlines()[1] == "'=1+1"
