"""Change sequence numbers as 64-bit integers.

The sync protocol lets a cursor run to 2**53; PostgreSQL's `integer` ends at 2**31 - 1,
and the property test's cursor past it was a server error there (SQLite's integers were
64-bit all along).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("shops") as table:
        table.alter_column("seq", type_=sa.BigInteger, existing_type=sa.Integer)
    with op.batch_alter_table("entities") as table:
        table.alter_column("seq", type_=sa.BigInteger, existing_type=sa.Integer)


def downgrade() -> None:
    with op.batch_alter_table("entities") as table:
        table.alter_column("seq", type_=sa.Integer, existing_type=sa.BigInteger)
    with op.batch_alter_table("shops") as table:
        table.alter_column("seq", type_=sa.Integer, existing_type=sa.BigInteger)
