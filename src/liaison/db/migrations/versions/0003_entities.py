"""entities: tables of this capability.

Revision ID: 0003_entities
Revises: 0002_matching
"""

from __future__ import annotations

revision = "0003_entities"
down_revision = "0002_matching"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """The capability's tables are added here with the capability."""


def downgrade() -> None:
    """Nothing to undo until the capability adds tables."""
