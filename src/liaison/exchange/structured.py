"""Structured items and links of a message, validated by the message-document rules (the same
rules import applies), with whether they hold personal data (by the entity types' declaration)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from liaison.entities.schema import SCHEMA
from liaison.exchange.document import (
    MAX_ITEMS,
    MAX_LINKS,
    Item,
    Link,
    _item_errors,
    _link_errors,
    _pydantic_errors,
    _raise_any,
    _refusal,
)


class _Structured(BaseModel):
    model_config = ConfigDict(extra="forbid")

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
    """Canonical items and links, and whether any item is of a type holding personal data;
    ``ValidationFailed`` naming every problem otherwise."""
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
