"""Navigation: lists only what exists and what the user's roles allow."""

from __future__ import annotations

from dataclasses import dataclass

from liaison.core.actor import Actor
from liaison.core.policy import Capability, can


@dataclass(frozen=True, slots=True)
class NavItem:
    label: str
    href: str
    capability: Capability | None  # None: every signed-in user
    # URL of an HTML fragment polled into a badge next to the item (hidden inputs in the
    # fragment are sent back with the next poll); None: no badge.
    badge: str | None = None


# Capabilities add their pages here when they exist.
NAV_ITEMS: list[NavItem] = [
    NavItem("Dashboard", "/", None),
    NavItem("Agencies", "/admin/agencies", Capability.MANAGE_AGENCIES),
    NavItem("Users", "/admin/users", Capability.MANAGE_USERS),
    NavItem("Audit", "/audit", Capability.VIEW_AUDIT),
    NavItem("API tokens", "/tokens", Capability.MANAGE_OWN_TOKENS),
]


def register(item: NavItem, *, before: str | None = "API tokens") -> None:
    """Add a page to the navigation (called by a capability's views module on import)."""
    if any(existing.href == item.href for existing in NAV_ITEMS):
        return
    index = next((i for i, n in enumerate(NAV_ITEMS) if n.label == before), len(NAV_ITEMS))
    NAV_ITEMS.insert(index, item)


def nav_for(actor: Actor) -> list[NavItem]:
    return [i for i in NAV_ITEMS if i.capability is None or can(actor, i.capability).allowed]
