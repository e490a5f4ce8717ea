"""exchange: tables of this capability.

Revision ID: 0004_exchange
Revises: 0003_entities
"""

from __future__ import annotations

revision = "0004_exchange"
down_revision = "0003_entities"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Kept empty: databases already at this revision upgrade through the later ones."""


def downgrade() -> None:
    """Nothing to undo until the capability adds tables."""
