"""Updates for the fleet (docs/updates.md): which release each shop's kiosks run, or
one kiosk's own, as a version or a channel, with a staged percentage.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "update_rollouts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("shop_id", sa.Integer, sa.ForeignKey("shops.id"), nullable=False),
        sa.Column("kiosk_id", sa.String(8), nullable=False, server_default=""),
        sa.Column("version", sa.String(40), nullable=False, server_default=""),
        sa.Column("channel", sa.String(20), nullable=False, server_default=""),
        sa.Column("percent", sa.Integer, nullable=False, server_default="100"),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("shop_id", "kiosk_id", name="uq_update_rollouts"),
    )


def downgrade() -> None:
    op.drop_table("update_rollouts")
