"""Alembic's environment for the back office: migrations run on the connection that
`backoffice.db.upgrade` hands over (SQLite and PostgreSQL alike)."""

from alembic import context

from backoffice.db import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters by copying a table
)
with context.begin_transaction():
    context.run_migrations()
