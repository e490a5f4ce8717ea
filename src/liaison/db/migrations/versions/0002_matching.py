"""matching: tables of this capability.

Revision ID: 0002_matching
Revises: 0001_core
"""

from __future__ import annotations

revision = "0002_matching"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """The capability's tables are added here with the capability."""


def downgrade() -> None:
    """Nothing to undo until the capability adds tables."""
