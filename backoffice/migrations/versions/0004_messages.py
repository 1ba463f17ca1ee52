"""Messages that leave the building (backoffice/messages/): each notification's kind,
order, language and its way through the queue (owed, sending under a worker's lease,
sent with the server's answer, retried, failed); each shop's channels; the tokens of
order status pages (backoffice/status_page.py).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("notifications") as t:
        t.add_column(sa.Column("kind", sa.String(20), nullable=False, server_default=""))
        t.add_column(sa.Column("order_number", sa.String(100), nullable=False, server_default=""))
        t.add_column(sa.Column("language", sa.String(8), nullable=False, server_default=""))
        t.add_column(sa.Column("status", sa.String(10), nullable=False, server_default="owed"))
        t.add_column(sa.Column("attempts", sa.Integer, nullable=False, server_default="0"))
        t.add_column(sa.Column("next_attempt_at", WHEN, nullable=True))
        t.add_column(sa.Column("claimed_by", sa.String(64), nullable=False, server_default=""))
        t.add_column(sa.Column("claimed_until", WHEN, nullable=True))
        t.add_column(sa.Column("answer", sa.String(500), nullable=False, server_default=""))
        t.add_column(sa.Column("provider_id", sa.String(200), nullable=False, server_default=""))
        t.add_column(sa.Column("delivery", sa.String(100), nullable=False, server_default=""))
        t.add_column(sa.Column("sent_at", WHEN, nullable=True))
        t.add_column(sa.Column("printed", sa.Text, nullable=True))  # a receipt's ESC/POS
    # What was queued before anything was sent is months of history: sent now, "ready for
    # pickup" would reach people who collected long ago. Kept, marked, never sent.
    op.execute(
        "UPDATE notifications SET status = 'dropped', "
        "answer = 'queued before the back office sent messages (migration 0004): not sent'"
    )
    op.create_index("ix_notifications_queue", "notifications", ["status", "next_attempt_at"])
    op.create_table(
        "message_settings",
        sa.Column("shop_id", sa.Integer, sa.ForeignKey("shops.id"), primary_key=True),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
    )
    op.create_table(
        "status_links",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("shop_id", sa.Integer, sa.ForeignKey("shops.id"), nullable=False),
        sa.Column("order_number", sa.String(100), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("revoked_at", WHEN, nullable=True),
    )
    op.create_index("ix_status_links_order", "status_links", ["shop_id", "order_number"])


def downgrade() -> None:
    op.drop_index("ix_status_links_order", "status_links")
    op.drop_table("status_links")
    op.drop_table("message_settings")
    op.drop_index("ix_notifications_queue", "notifications")
    with op.batch_alter_table("notifications") as t:
        for name in ("printed", "sent_at", "delivery", "provider_id", "answer", "claimed_until",
                     "claimed_by", "next_attempt_at", "attempts", "status", "language",
                     "order_number", "kind"):  # fmt: skip
            t.drop_column(name)
