"""Failed enrolment codes and staff tokens, per source, for the back office's limit on
guessing (backoffice/guard.py); shared by every server process.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "failed_attempts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_failed_attempts_lookup", "failed_attempts", ["kind", "source", "at"])


def downgrade() -> None:
    op.drop_index("ix_failed_attempts_lookup", "failed_attempts")
    op.drop_table("failed_attempts")
