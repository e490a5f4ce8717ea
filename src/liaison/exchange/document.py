"""The structured message document agencies exchange (format ``liaison-message/1``).

One model, two encodings: JSON (``parse_json``/``to_json``, published as
``schemas/message.schema.json``) and XML in namespace ``urn:liaison:message:1``
(``parse_xml``/``to_xml``, published as ``schemas/message.xsd``). A message carries text plus
structured items in the spirit of UMF (persons, objects, locations, events and their links);
items are validated with the entities schema, so a person's date of birth or a phone number obeys
the same rules as a record. Every refusal is a ``ValidationFailed`` whose ``errors`` map a
JSON-pointer-like path (``/items/2/properties/dob``) to what is wrong there.

Hostile input is refused before it costs anything: size first, then encoding, nesting depth,
DTDs, entities and processing instructions (XML) or duplicate keys and non-finite numbers
(JSON). See docs/message-document.md.

The committed JSON Schema is generated; after changing a model, regenerate it with
``python -m liaison.exchange.document > src/liaison/exchange/schemas/message.schema.json``.
"""

from __future__ import annotations

import binascii
import datetime as dt
import json
import math
import re
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal
from xml.parsers import expat

import numpy as np
from lxml import etree
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from liaison.core.errors import ValidationFailed
from liaison.core.markings import (
    Classification,
    Evaluation,
    HandlingCode,
    configured_crime_areas,
)
from liaison.core.markings import (
    Markings as CoreMarkings,
)
from liaison.entities.schema import LINK_ROLES, SCHEMA

FORMAT = "liaison-message/1"
NAMESPACE = "urn:liaison:message:1"
SCHEMA_DIR = Path(__file__).with_name("schemas")
JSON_SCHEMA_FILE = SCHEMA_DIR / "message.schema.json"
XSD_FILE = SCHEMA_DIR / "message.xsd"

MAX_BYTES = 20_000_000
MAX_DEPTH = 64
MAX_XML_ELEMENTS = 100_000
MAX_RECIPIENTS = 500
MAX_ITEMS = 1_000
MAX_LINKS = 5_000
MAX_ATTACHMENTS = 100
MAX_BODY = 1_000_000
MAX_PROPERTY_VALUE = 10_000
MAX_SIZE = 2**53 - 1  # the largest integer every JSON reader holds exactly

AGENCY_PATTERN = r"^[A-Z0-9][A-Z0-9_-]{0,31}$"
IDENTIFIER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
CONTENT_TYPE_PATTERN = r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$"

# Characters XML 1.0 cannot carry: a JSON document holding them could not become XML.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_NOT_LINE = re.compile("[\t\n\r]")


# ----- value types ---------------------------------------------------------------------------


def _xml_text(value: str) -> str:
    bad = _NOT_XML.search(value)
    if bad:
        raise PydanticCustomError(
            "xml_char",
            "contains the character U+{code} that XML cannot carry",
            {"code": f"{ord(bad.group()):04X}"},
        )
    return value


def _one_line(value: str) -> str:
    if _NOT_LINE.search(value):
        raise PydanticCustomError("one_line", "must be one line (no tab or line break)", {})
    return _xml_text(value)


def _not_blank(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("blank", "must not be blank", {})
    return value


def _property_value(value: object) -> object:
    """Numbers are accepted for number properties and carried as text; a list of one value
    (multi-valued formats write them so) is that value."""
    if isinstance(value, list):
        if len(value) != 1:
            raise PydanticCustomError(
                "one_value",
                "takes one value; a second phone, document or address is a second item",
                {},
            )
        return _property_value(value[0])
    if isinstance(value, bool):
        return value  # refused as not text
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number_text(value)
    return value


def _number_text(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def _minute_offset(value: dt.datetime) -> dt.datetime:
    """Offsets with seconds (historic local mean times) cannot be written; such times go to UTC."""
    offset = value.utcoffset()
    if offset is not None and offset.seconds % 60:
        return value.astimezone(dt.UTC)
    return value


Moment = Annotated[AwareDatetime, AfterValidator(_minute_offset)]
Text = Annotated[str, AfterValidator(_xml_text)]
Line = Annotated[str, AfterValidator(_one_line)]
AgencyCode = Annotated[
    str,
    Field(pattern=AGENCY_PATTERN, description="Agency code on the network.", examples=["DE-BKA"]),
]
Identifier = Annotated[str, Field(pattern=IDENTIFIER_PATTERN)]
PropertyName = Annotated[Line, Field(min_length=1, max_length=64)]
PropertyValue = Annotated[
    Text, BeforeValidator(_property_value), Field(max_length=MAX_PROPERTY_VALUE)
]
ClassificationName = Literal["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP_SECRET"]


def _invalid(detail: str, errors: Mapping[str, str] | None = None) -> PydanticCustomError:
    """A validation error whose ``errors`` (relative pointer → message) survive to the caller."""
    return PydanticCustomError(
        "document", "{detail}", {"detail": detail, "errors": dict(errors or {})}
    )


def _pointer(*parts: object) -> str:
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


# ----- models --------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CaseRef(_Model):
    """The case the message belongs to: the sender's case id, a reference, a title."""

    id: Identifier | None = Field(
        None, description="Case id.", examples=["01J8Z3K7Q4M6T9V2X5B1C0D8EF"]
    )
    reference: Annotated[Line, Field(min_length=1, max_length=100)] | None = Field(
        None, description="The case reference as people write it.", examples=["BKA-2026/0417"]
    )
    title: Annotated[Line, Field(min_length=1, max_length=300)] | None = Field(
        None, description="Case title.", examples=["Cocaine shipments via Rotterdam"]
    )

    @model_validator(mode="after")
    def _something(self) -> CaseRef:
        if self.id is None and self.reference is None and self.title is None:
            raise _invalid("a case needs an id, a reference or a title")
        return self


class Party(_Model):
    """Who sends: the agency and, when known, the officer's user name."""

    agency: AgencyCode
    user: Annotated[Line, Field(min_length=1, max_length=100)] | None = Field(
        None, description="The sending officer's user name.", examples=["a.officer"]
    )


class Recipient(_Model):
    """An agency the message goes to (``to``) or is copied to (``cc``)."""

    agency: AgencyCode
    kind: Literal["to", "cc"] = Field(
        "to", description="Addressee (to) or copy (cc).", examples=["to"]
    )


class Markings(_Model):
    """Handling code and classification of the whole message."""

    handling: HandlingCode = Field(
        description="Handling code: H0 purpose-bound, H1 no judicial use without permission, "
        "H2 no dissemination without permission, H3 other restrictions (written in "
        "h3_conditions).",
        examples=["H2"],
    )
    h3_conditions: Annotated[Text, Field(min_length=1, max_length=2000)] | None = Field(
        None,
        description="The H3 restrictions, written out; given with H3 and only with H3.",
        examples=["Not to be shared with customs authorities."],
    )
    classification: ClassificationName = Field(
        description="Security classification.", examples=["RESTRICTED"]
    )

    @model_validator(mode="after")
    def _rules(self) -> Markings:
        try:
            self.as_core(owner_agency_id="-")
        except ValueError as exc:
            raise _invalid(str(exc), {"h3_conditions": str(exc)}) from None
        return self

    @property
    def classification_level(self) -> Classification:
        return Classification[self.classification]

    def as_core(self, *, owner_agency_id: str, crime_area: str | None = None) -> CoreMarkings:
        """The platform's markings for information from this message."""
        return CoreMarkings(
            owner_agency_id=owner_agency_id,
            handling=self.handling,
            classification=self.classification_level,
            h3_conditions=self.h3_conditions,
            crime_area=crime_area,
        )


class Item(_Model):
    """A structured item: a person, object, location or event, typed by the entities schema."""

    ref: Identifier = Field(
        description="Local id of the item, unique in the document; links name items by it.",
        examples=["p1"],
    )
    type: str = Field(
        description="Entity type of the entities schema.",
        examples=["Person"],
        json_schema_extra={"enum": list(SCHEMA.types)},
    )
    properties: dict[PropertyName, PropertyValue] = Field(
        description="Property name → value, one value per property, as the entity type declares "
        "them. Values are normalised on import (dates to ISO, countries to ISO 3166 alpha-2).",
        examples=[{"given_name": "Иван", "family_name": "Петров", "dob": "1980-03-12"}],
    )
    evaluation: str = Field(
        description="4x4 evaluation code (Art. 29 Reg. (EU) 2016/794): source reliability A, B, "
        "C or X and information accuracy 1-4.",
        examples=["B2"],
        json_schema_extra={"pattern": "^[ABCX][1-4]$"},
    )
    role: Annotated[Line, Field(min_length=1, max_length=100)] | None = Field(
        None,
        description="The item's part in the message; for a person the data-subject category "
        "(suspect, convicted, victim, witness, contact).",
        examples=["suspect"],
    )

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        try:
            return SCHEMA.get(value).name
        except ValidationFailed as exc:
            raise _invalid(exc.detail) from None

    @field_validator("evaluation")
    @classmethod
    def _evaluation(cls, value: str) -> str:
        try:
            return Evaluation.parse(value).code
        except ValueError as exc:
            raise _invalid(str(exc)) from None

    @field_validator("properties")
    @classmethod
    def _properties(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        type_name = info.data.get("type")
        if type_name is None:
            return value  # the type is wrong; its own error says so
        try:
            props, _ = SCHEMA.get(type_name).validate(value)
        except ValidationFailed as exc:
            nested = {_pointer(k)[1:]: v for k, v in exc.extra["errors"].items()}
            raise _invalid(exc.detail, nested) from None
        return {k: _number_text(v) if isinstance(v, float) else str(v) for k, v in props.items()}

    @property
    def warnings(self) -> list[str]:
        """Identifiers kept as given but failing their check (the item is still accepted)."""
        return SCHEMA.get(self.type).validate(self.properties)[1]


class Link(_Model):
    """A typed link between two items of the document."""

    source: Identifier = Field(description="ref of the item the link starts at.", examples=["p1"])
    target: Identifier = Field(description="ref of the item the link ends at.", examples=["v1"])
    type: str = Field(
        description="Link type of the entities schema; it names the item types it may join.",
        examples=["owns_uses"],
        json_schema_extra={"enum": list(SCHEMA.links)},
    )
    role: Annotated[Line, Field(min_length=1, max_length=100)] | None = Field(
        None,
        description=f"Role, for link types that take one: {', '.join(LINK_ROLES)}.",
        examples=["suspect"],
    )
    start: dt.date | None = Field(None, description="Since when.", examples=["2025-11-01"])
    end: dt.date | None = Field(None, description="Until when.", examples=["2026-02-28"])

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        try:
            return SCHEMA.link(value).name
        except ValidationFailed as exc:
            raise _invalid(exc.detail) from None

    @model_validator(mode="after")
    def _rules(self) -> Link:
        ltype = SCHEMA.link(self.type)
        errors: dict[str, str] = {}
        if self.role is not None and not ltype.roles:
            errors["role"] = f"a {ltype.label!r} link takes no role"
        elif self.role is not None and self.role not in LINK_ROLES:
            errors["role"] = f"role must be one of {', '.join(LINK_ROLES)}"
        if self.start and self.end and self.end < self.start:
            errors["end"] = "the link ends before it starts"
        if errors:
            raise _invalid("; ".join(errors.values()), errors)
        return self


class AttachmentRef(_Model):
    """A file sent with the message; the content travels separately, identified by its hash."""

    filename: Annotated[Line, Field(min_length=1, max_length=255)] = Field(
        description="File name, without any directory.", examples=["photo_petrov.jpg"]
    )
    content_type: str = Field(
        pattern=CONTENT_TYPE_PATTERN,
        description="Media type, lower case, without parameters.",
        examples=["image/jpeg"],
    )
    size: int = Field(ge=0, le=MAX_SIZE, description="Size in bytes.", examples=[48213])
    sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        description="SHA-256 of the content, lower-case hex.",
        examples=["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"],
    )

    @field_validator("filename")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if "/" in value or "\\" in value or value.strip(".") == "":
            raise _invalid("a file name has no directory part and is not '.' or '..'")
        return value

    @field_validator("size", mode="before")
    @classmethod
    def _no_bool(cls, value: object) -> object:
        if isinstance(value, bool):
            raise _invalid("size must be a whole number of bytes")
        return value


class SignatureRef(_Model):
    """The sending agency's signature over the document."""

    agency: AgencyCode
    key_id: Identifier = Field(description="Id of the signing key.", examples=["de-bka-2026-1"])
    algorithm: Literal["Ed25519"] = Field(description="Signature algorithm.", examples=["Ed25519"])
    value: str = Field(
        description="The 64-byte signature, base64.",
        examples=["A" * 86 + "=="],
        json_schema_extra={"pattern": "^[A-Za-z0-9+/]{86}==$"},
    )

    @field_validator("value")
    @classmethod
    def _base64(cls, value: str) -> str:
        try:
            raw = binascii.a2b_base64(value.encode("ascii"), strict_mode=True)
        except (binascii.Error, UnicodeEncodeError):
            raise _invalid("the signature value is not base64") from None
        if len(raw) != 64:
            raise _invalid(f"an Ed25519 signature has 64 bytes, not {len(raw)}")
        return value


class MessageDocument(_Model):
    """A message with its markings, structured items, links, attachments and signature."""

    format: Literal["liaison-message/1"] = Field(
        description="Document format and version.", examples=[FORMAT]
    )
    id: Identifier | None = Field(
        None, description="The message id (set on export).", examples=["01J8Z4A1B2C3D4E5F6G7H8J9K0"]
    )
    case: CaseRef | None = Field(None, description="The case the message belongs to.")
    in_reply_to: Identifier | None = Field(
        None, description="Id of the message this one answers.", examples=["01J8Z3Y9W8V7"]
    )
    sender: Party = Field(description="The sending agency (and officer).")
    recipients: list[Recipient] = Field(
        min_length=1,
        max_length=MAX_RECIPIENTS,
        description="Addressees; at least one 'to', each agency once.",
    )
    subject: Annotated[Line, AfterValidator(_not_blank), Field(min_length=1, max_length=300)] = (
        Field(description="Subject line.", examples=["Request: owner of vehicle B-XY 1234"])
    )
    body: Annotated[Text, Field(max_length=MAX_BODY)] = Field(
        description="Message text.", examples=["Please identify the registered keeper."]
    )
    message_type: Literal["request", "reply", "information", "hit_follow_up", "consent_request"] = (
        Field(description="Kind of message.", examples=["request"])
    )
    priority: Literal["urgent", "normal"] = Field(description="Priority.", examples=["normal"])
    accessibility: Literal["direct", "indirect"] | None = Field(
        None,
        description="For requests: whether the requested information is directly or indirectly "
        "accessible to the requested agency (it sets the legal answer deadline).",
        examples=["direct"],
    )
    legal_basis: Annotated[
        Line, AfterValidator(_not_blank), Field(min_length=1, max_length=300)
    ] = Field(description="Legal basis of the exchange.", examples=["Directive (EU) 2023/977"])
    purpose: Annotated[Text, AfterValidator(_not_blank), Field(min_length=1, max_length=500)] = (
        Field(description="Purpose of the exchange.", examples=["Investigation 2026/17"])
    )
    crime_area: Annotated[Line, Field(max_length=100)] | None = Field(
        None, description="Crime area code of the configured list.", examples=["drug_trafficking"]
    )
    markings: Markings = Field(description="Handling code and classification.")
    judicial_use_warning: Annotated[Line, Field(max_length=500)] | None = Field(
        None,
        description="Set on export for H1 messages: the warning against judicial use. Ignored on "
        "import (derived from the handling code).",
        examples=["Not for use in judicial proceedings without permission of the provider (H1)."],
    )
    sent_at: Moment | None = Field(
        None, description="When the message was sent.", examples=["2026-03-02T09:15:00Z"]
    )
    deadline_at: Moment | None = Field(
        None, description="When an answer is due.", examples=["2026-03-02T17:15:00Z"]
    )
    items: list[Item] = Field(
        default_factory=list, max_length=MAX_ITEMS, description="Structured items."
    )
    links: list[Link] = Field(
        default_factory=list, max_length=MAX_LINKS, description="Links between items."
    )
    attachments: list[AttachmentRef] = Field(
        default_factory=list, max_length=MAX_ATTACHMENTS, description="Attached files."
    )
    signature: SignatureRef | None = Field(None, description="The sender's signature.")

    @model_validator(mode="before")
    @classmethod
    def _limits(cls, data: object) -> object:
        """Refuse oversized lists before validating a single element of them."""
        if isinstance(data, Mapping):
            for key, limit in (
                ("recipients", MAX_RECIPIENTS),
                ("items", MAX_ITEMS),
                ("links", MAX_LINKS),
                ("attachments", MAX_ATTACHMENTS),
            ):
                value = data.get(key)
                if isinstance(value, list) and len(value) > limit:
                    message = f"at most {limit:,} {key}; this document has {len(value):,}"
                    raise _invalid(message, {key: message})
        return data

    @field_validator("crime_area")
    @classmethod
    def _crime_area(cls, value: str | None) -> str | None:
        if value is not None and value not in configured_crime_areas():
            raise _invalid(f"{value!r} is not a configured crime area")
        return value

    @field_validator("recipients")
    @classmethod
    def _recipients(cls, value: list[Recipient]) -> list[Recipient]:
        _raise_any(_recipient_errors(value))
        return value

    @field_validator("items")
    @classmethod
    def _unique_refs(cls, value: list[Item]) -> list[Item]:
        _raise_any(_item_errors(value))
        return value

    @field_validator("links")
    @classmethod
    def _endpoints(cls, value: list[Link], info: ValidationInfo) -> list[Link]:
        items = info.data.get("items")
        if items is None:
            return value  # the items are wrong; their errors come first
        _raise_any(_link_errors(value, items))
        return value

    @field_validator("deadline_at")
    @classmethod
    def _after_sending(cls, value: dt.datetime | None, info: ValidationInfo) -> dt.datetime | None:
        sent = info.data.get("sent_at")
        if value is not None and sent is not None and value < sent:
            raise _invalid("the deadline lies before the message was sent")
        return value

    @model_validator(mode="after")
    def _derived(self) -> MessageDocument:
        """Values that follow from others are set here, whatever the input said."""
        self.judicial_use_warning = self.markings.as_core(owner_agency_id="-").judicial_use_warning
        return self

    @property
    def warnings(self) -> list[str]:
        """Problems that do not refuse the document: identifiers kept as given but flagged."""
        return [
            f"/items/{i} ({item.ref}): {w}"
            for i, item in enumerate(self.items)
            for w in item.warnings
        ]


def _raise_any(errors: Mapping[str, str]) -> None:
    if errors:
        raise _invalid("; ".join(errors.values()), errors)


def _recipient_errors(recipients: list[Recipient]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not any(r.kind == "to" for r in recipients):
        errors[""] = "a message needs at least one 'to' recipient"
    seen: set[str] = set()
    for i, recipient in enumerate(recipients):
        if recipient.agency in seen:
            errors[f"{i}/agency"] = f"{recipient.agency} is listed twice"
        seen.add(recipient.agency)
    return errors


def _item_errors(items: list[Item]) -> dict[str, str]:
    errors: dict[str, str] = {}
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item.ref in seen:
            errors[f"{i}/ref"] = f"ref {item.ref!r} is used by an earlier item"
        seen.add(item.ref)
    return errors


def _link_errors(links: list[Link], items: list[Item]) -> dict[str, str]:
    types = {item.ref: item.type for item in items}
    errors: dict[str, str] = {}
    for i, link in enumerate(links):
        missing = False
        for end in ("source", "target"):
            ref = getattr(link, end)
            if ref not in types:
                errors[f"{i}/{end}"] = f"no item has ref {ref!r}"
                missing = True
        if missing:
            continue
        try:
            SCHEMA.link(link.type).check(types[link.source], types[link.target], None)
        except ValidationFailed as exc:
            errors[f"{i}/type"] = exc.detail
    return errors


# ----- building and refusing -----------------------------------------------------------------


def from_data(data: Mapping[str, Any]) -> MessageDocument:
    """A document from plain data (parsed JSON, a dict built in code), or ``ValidationFailed``."""
    # A broken crime-area configuration is not the sender's fault: let it surface as itself.
    configured_crime_areas()
    try:
        return MessageDocument.model_validate(data)
    except ValidationError as exc:
        raise _refusal(_pydantic_errors(exc)) from None


def _pydantic_errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        base = _pointer(*error["loc"]) if error["loc"] else ""
        nested = (error.get("ctx") or {}).get("errors")
        found = (
            {f"{base}/{k}" if k else base or "/": str(v) for k, v in nested.items()}
            if isinstance(nested, dict) and nested
            else {base or "/": error["msg"]}
        )
        for path, message in found.items():
            errors[path] = f"{errors[path]}; {message}" if path in errors else message
    return errors


def _refusal(errors: Mapping[str, str], *, shown: int = 10) -> ValidationFailed:
    parts = [f"{path}: {message}" for path, message in list(errors.items())[:shown]]
    more = len(errors) - shown
    summary = "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")
    return ValidationFailed(f"invalid message document: {summary}", errors=dict(errors))


def _refuse(message: str, path: str = "/") -> ValidationFailed:
    return ValidationFailed(message, errors={path: message})


def _checked_size(data: bytes | str, max_bytes: int) -> bytes:
    # A character is at least one byte: a string longer than the limit is refused unencoded.
    if len(data) > max_bytes:
        raise _refuse(f"the document is larger than {max_bytes:,} bytes")
    if isinstance(data, str):
        try:
            data = data.encode("utf-8")
        except UnicodeEncodeError:
            raise _refuse("the document holds characters that UTF-8 cannot encode") from None
        if len(data) > max_bytes:
            raise _refuse(f"the document is larger than {max_bytes:,} bytes")
    return bytes(data)


def _utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _refuse(f"the document is not UTF-8 (invalid byte at offset {exc.start})") from None


# ----- JSON ----------------------------------------------------------------------------------

# A JSON string, escapes included: removed before brackets are counted.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))


def _json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects, measured without parsing and in C loops
    (a Python loop over 20 MB of brackets would take seconds)."""
    brackets = _JSON_STRING.sub("", text).encode("utf-8").translate(None, _NOT_BRACKETS)
    if not brackets:
        return 0
    codes = np.frombuffer(brackets, dtype=np.uint8)
    steps = np.where((codes == ord("[")) | (codes == ord("{")), 1, -1)
    return int(np.cumsum(steps).max())


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _refuse(f"duplicate key {key[:100]!r} in a JSON object")
        result[key] = value
    return result


def _json_constant(name: str) -> None:
    raise _refuse(f"{name} is not a JSON number")


def _json_int(text: str) -> int:
    if len(text) > 20:
        raise _refuse(f"the number {text[:30]}… has too many digits")
    return int(text)


def _json_float(text: str) -> float:
    if len(text) > 64:
        raise _refuse(f"the number {text[:30]}… has too many digits")
    value = float(text)
    if not math.isfinite(value):
        raise _refuse(f"the number {text[:30]} is out of range")
    return value


def parse_json(data: bytes | str, *, max_bytes: int = MAX_BYTES) -> MessageDocument:
    """A document from JSON, or ``ValidationFailed`` naming every problem.

    Refused before parsing: more than ``max_bytes``, not UTF-8, nesting deeper than 64. While
    parsing: duplicate keys, NaN/Infinity, numbers with more than 20 digits.
    """
    raw = _checked_size(data, max_bytes)
    text = _utf8(raw).removeprefix("\ufeff")
    if _json_depth(text) > MAX_DEPTH:
        raise _refuse(f"JSON is nested deeper than {MAX_DEPTH} levels")
    try:
        value = json.loads(
            text,
            object_pairs_hook=_json_object,
            parse_constant=_json_constant,
            parse_int=_json_int,
            parse_float=_json_float,
        )
    except json.JSONDecodeError as exc:
        raise _refuse(f"line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise _refuse(f"JSON is nested deeper than {MAX_DEPTH} levels") from None
    if not isinstance(value, dict):
        raise _refuse("a message document is a JSON object")
    return from_data(value)


def to_json(doc: MessageDocument) -> bytes:
    """The document as UTF-8 JSON; keys in the model's order, absent values left out."""
    data = doc.model_dump(mode="json", exclude_none=True)
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the document, generated from the models."""
    schema = MessageDocument.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def json_schema_text() -> str:
    """``json_schema()`` as the committed file holds it."""
    return json.dumps(json_schema(), ensure_ascii=False, indent=2) + "\n"


# ----- XML -----------------------------------------------------------------------------------

_M = f"{{{NAMESPACE}}}"
# Simple elements of <message>, in schema order, between the structured parts.
_TEXT_FIELDS = (
    "subject",
    "body",
    "message_type",
    "priority",
    "accessibility",
    "legal_basis",
    "purpose",
    "crime_area",
)
_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "case": ("id", "reference", "title"),
    "sender": ("agency", "user"),
    "recipient": ("agency", "kind"),
    "item": ("ref", "type", "evaluation", "role"),
    "link": ("source", "target", "type", "role", "start", "end"),
    "attachment": ("filename", "content_type", "size", "sha256"),
    "signature": ("agency", "key_id", "algorithm", "value"),
}
_LISTS = {"recipients": "recipient", "links": "link", "attachments": "attachment"}


def _expat_scan(data: bytes) -> None:
    """Refuse DTDs, entities, processing instructions, deep nesting, non-UTF-8 declarations.

    Expat reports a DOCTYPE before reading a byte of its content, so nothing declared in it is
    ever expanded or fetched; lxml only sees documents that passed.
    """
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    state = {"depth": 0, "elements": 0}

    def where() -> str:
        return f"line {parser.CurrentLineNumber}"

    def start(name: str, attrs: object) -> None:
        state["depth"] += 1
        state["elements"] += 1
        if state["depth"] > MAX_DEPTH:
            raise _refuse(f"{where()}: elements are nested deeper than {MAX_DEPTH} levels")
        if state["elements"] > MAX_XML_ELEMENTS:
            raise _refuse(f"{where()}: more than {MAX_XML_ELEMENTS:,} elements")

    def end(name: str) -> None:
        state["depth"] -= 1

    def doctype(*_: object) -> None:
        raise _refuse(f"{where()}: XML document type declarations are not accepted")

    def entity(*_: object) -> None:
        raise _refuse(f"{where()}: XML entity declarations are not accepted")

    def external(*_: object) -> int:
        raise _refuse(f"{where()}: external entities are not accepted")

    def instruction(target: str, _: str) -> None:
        raise _refuse(
            f"{where()}: XML processing instructions (<?{target[:40]} …?>) are not accepted"
        )

    def declaration(version: str, encoding: str | None, standalone: int) -> None:
        if encoding and encoding.upper().replace("_", "-") not in {"UTF-8", "UTF8"}:
            raise _refuse(f"XML must be UTF-8; the declaration says {encoding[:40]!r}")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    parser.UnparsedEntityDeclHandler = entity
    parser.ExternalEntityRefHandler = external
    parser.ProcessingInstructionHandler = instruction
    parser.XmlDeclHandler = declaration
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        message = expat.ErrorString(exc.code) or "not well-formed"
        raise _refuse(f"line {exc.lineno}: {message}") from None


def _lxml_parse(data: bytes) -> etree._Element:
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        collect_ids=False,
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        message = re.sub(r", line \d+, column \d+$", "", exc.msg)
        raise _refuse(f"line {exc.lineno}: {message}") from None
    docinfo = root.getroottree().docinfo
    # The pre-scan refused every DOCTYPE already; this guards against the two disagreeing.
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise _refuse("XML document type declarations are not accepted")
    return root


_schemas = threading.local()


def _xsd() -> etree.XMLSchema:
    """The XSD validator, one per thread (a validator keeps its error log on itself)."""
    schema: etree.XMLSchema | None = getattr(_schemas, "xsd", None)
    if schema is None:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        schema = etree.XMLSchema(etree.parse(str(XSD_FILE), parser))
        _schemas.xsd = schema
    return schema


def _xsd_errors(root: etree._Element, *, shown: int = 50) -> dict[str, str]:
    schema = _xsd()
    if schema.validate(root):
        return {}
    errors: dict[str, str] = {}
    log: Iterable[Any] = schema.error_log  # type: ignore[assignment]  # iterable; stubs omit it
    for entry in list(log)[:shown]:
        path = _readable_path(root, entry.path)
        message = f"line {entry.line}: {entry.message.replace(_M, '')}"
        errors[path] = f"{errors[path]}; {message}" if path in errors else message
    return errors


def _readable_path(root: etree._Element, xpath: str | None) -> str:
    """``/message/items/item[3]`` for libxml2's ``/*/*[17]/*[3]``."""
    try:
        found = root.getroottree().xpath(xpath) if xpath else None
    except etree.XPathError:
        found = None
    node = found[0] if isinstance(found, list) and found else None
    if not isinstance(node, etree._Element):
        return "/"
    parts: list[str] = []
    while node is not None:
        name = etree.QName(node).localname
        parent = node.getparent()
        if parent is not None:
            same = [c for c in parent if c.tag == node.tag]
            name += f"[{same.index(node) + 1}]" if len(same) > 1 else ""
        parts.append(name)
        node = parent
    return "/" + "/".join(reversed(parts))


def _text(element: etree._Element) -> str:
    return str(etree.tostring(element, method="text", encoding="unicode", with_tail=False))


def _attributes(element: etree._Element, kind: str) -> dict[str, str]:
    return {a: v for a in _ATTRIBUTES[kind] if (v := element.get(a)) is not None}


def _xml_to_data(root: etree._Element) -> dict[str, Any]:
    data: dict[str, Any] = {"format": root.get("format"), "id": root.get("id")}
    for child in root:
        name = etree.QName(child).localname
        if name in _ATTRIBUTES:
            data[name] = _attributes(child, name)
        elif name in _LISTS:
            data[name] = [_attributes(c, _LISTS[name]) for c in child]
        elif name == "items":
            data["items"] = [_item_data(c) for c in child]
        elif name == "markings":
            data["markings"] = {
                "handling": child.get("handling"),
                "classification": child.get("classification"),
            }
            for cond in child:
                data["markings"]["h3_conditions"] = _text(cond)
        else:
            data[name] = _text(child)
    return data


def _item_data(element: etree._Element) -> dict[str, Any]:
    item: dict[str, Any] = _attributes(element, "item")
    item["properties"] = {p.get("name"): _text(p) for p in element}
    return item


def parse_xml(data: bytes, *, max_bytes: int = MAX_BYTES) -> MessageDocument:
    """A document from XML, or ``ValidationFailed``.

    Order of refusal: more than ``max_bytes``; not UTF-8; any DOCTYPE, entity declaration or
    processing instruction, nesting deeper than 64 or more than 100,000 elements (found by a
    streaming pre-scan that expands and fetches nothing); not well-formed; root not
    ``{urn:liaison:message:1}message``; not valid against ``message.xsd``; then the same rules as
    JSON. XInclude is never processed (an ``xi:include`` is an unknown element).
    """
    raw = _checked_size(
        bytes(data) if isinstance(data, bytearray | memoryview) else data, max_bytes
    )
    _utf8(raw)
    _expat_scan(raw)
    root = _lxml_parse(raw)
    if root.tag != f"{_M}message":
        raise _refuse(
            f"the root element must be <message> in namespace {NAMESPACE}, not {root.tag!r}"
        )
    errors = _xsd_errors(root)
    if errors:
        raise _refusal(errors)
    return from_data(_xml_to_data(root))


def _sub(
    parent: etree._Element,
    tag: str,
    text: str | None = None,
    attrs: Mapping[str, Any] | None = None,
) -> etree._Element:
    element = etree.SubElement(parent, f"{_M}{tag}")
    for key, value in (attrs or {}).items():
        element.set(key, str(value))
    if text is not None:
        element.text = text
    return element


def _attrs(data: Mapping[str, Any], kind: str) -> dict[str, Any]:
    return {a: data[a] for a in _ATTRIBUTES[kind] if a in data}


def to_element(doc: MessageDocument) -> etree._Element:
    """The document as an lxml element (``to_xml`` serialises it)."""
    data = doc.model_dump(mode="json", exclude_none=True)
    # None names the default namespace; the stubs only allow prefixes.
    root = etree.Element(f"{_M}message", nsmap={None: NAMESPACE})  # type: ignore[dict-item]
    root.set("format", data["format"])
    if "id" in data:
        root.set("id", data["id"])
    if "case" in data:
        _sub(root, "case", attrs=_attrs(data["case"], "case"))
    if "in_reply_to" in data:
        _sub(root, "in_reply_to", data["in_reply_to"])
    _sub(root, "sender", attrs=_attrs(data["sender"], "sender"))
    recipients = _sub(root, "recipients")
    for recipient in data["recipients"]:
        _sub(recipients, "recipient", attrs=_attrs(recipient, "recipient"))
    for name in _TEXT_FIELDS:
        if name in data:
            _sub(root, name, data[name])
    markings = data["markings"]
    attrs = {"handling": markings["handling"], "classification": markings["classification"]}
    element = _sub(root, "markings", attrs=attrs)
    if "h3_conditions" in markings:
        _sub(element, "h3_conditions", markings["h3_conditions"])
    for name in ("judicial_use_warning", "sent_at", "deadline_at"):
        if name in data:
            _sub(root, name, data[name])
    if data["items"]:
        items = _sub(root, "items")
        for item in data["items"]:
            element = _sub(items, "item", attrs=_attrs(item, "item"))
            for key, value in item["properties"].items():
                _sub(element, "property", value, {"name": key})
    for name, kind in (("links", "link"), ("attachments", "attachment")):
        if data[name]:
            container = _sub(root, name)
            for entry in data[name]:
                _sub(container, kind, attrs=_attrs(entry, kind))
    if "signature" in data:
        _sub(root, "signature", attrs=_attrs(data["signature"], "signature"))
    return root


def to_xml(doc: MessageDocument) -> bytes:
    """The document as UTF-8 XML, valid against ``message.xsd`` (checked before it is returned)."""
    root = to_element(doc)
    errors = _xsd_errors(root)
    if errors:
        raise _refusal(errors)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def read(data: bytes, content_type: str | None = None) -> MessageDocument:
    """JSON or XML by content type (``application/json``, ``application/xml``, ``text/xml``),
    else by the first non-blank byte."""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind.endswith("xml"):
        return parse_xml(data)
    if kind.endswith("json"):
        return parse_json(data)
    return (
        parse_xml(data)
        if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")
        else parse_json(data)
    )


# ----- structured items of a message, on their own --------------------------------------------


class _Structured(_Model):
    items: list[Item] = Field(default_factory=list, max_length=MAX_ITEMS)
    links: list[Link] = Field(default_factory=list, max_length=MAX_LINKS)

    @model_validator(mode="after")
    def _consistent(self) -> _Structured:
        _raise_any(
            {f"items/{k}": v for k, v in _item_errors(self.items).items()}
            | {f"links/{k}": v for k, v in _link_errors(self.links, self.items).items()}
        )
        return self


def validate_structured(
    items: Sequence[Mapping[str, Any]], links: Sequence[Mapping[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], bool]:
    """A message's structured items and links checked by the document's rules: canonical items
    and links, and whether any item is of a type that holds personal data (as the entities
    schema declares); ``ValidationFailed`` naming every problem otherwise."""
    try:
        checked = _Structured.model_validate({"items": list(items), "links": list(links)})
    except ValidationError as exc:
        raise _refusal(_pydantic_errors(exc)) from None
    personal = any(SCHEMA.get(item.type).personal_data for item in checked.items)
    return (
        [item.model_dump(mode="json", exclude_none=True) for item in checked.items],
        [link.model_dump(mode="json", exclude_none=True) for link in checked.links],
        personal,
    )


if __name__ == "__main__":
    sys.stdout.write(json_schema_text())
