"""alerts: tables of this capability.

Revision ID: 0005_alerts
Revises: 0004_exchange
"""

from __future__ import annotations

revision = "0005_alerts"
down_revision = "0004_exchange"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Kept empty: databases already at this revision upgrade through the later ones."""


def downgrade() -> None:
    """Nothing to undo until the capability adds tables."""
