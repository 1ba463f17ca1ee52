"""The back office's schema through Alembic, on SQLite and on PostgreSQL: a database
made before migrations (the baseline's tables, no alembic_version) is stamped and
upgraded with its rows kept; the migrated schema is the models' schema, column for
column; and the 64-bit sequence numbers the upgrade brings hold a cursor past 2**31."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from backoffice.db import Base, head_revision, make_engine, upgrade


def _legacy(url: str) -> None:
    """A database as the back office left it before migrations: create_all's tables."""
    engine = make_engine(url, migrate=False)
    upgrade(engine, "0001")
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE alembic_version"))
        conn.execute(
            sa.text(
                "INSERT INTO shops (id, name, currency, seq) VALUES (1, 'Vélos Martin', 'EUR', 7)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO entities (shop_id, kind, key, data, seq) "
                "VALUES (1, 'customer', 'K1-000001', '{\"last_name\": \"Łukasiewicz\"}', 7)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO notifications (shop_id, customer_account, channel, subject, body, "
                "created_at) VALUES (1, 'K1-000001', 'email', 'Order 1 is ready for pickup', "
                "'', '2025-03-01 10:00:00+00')"
            )
        )
    engine.dispose()


def test_a_database_from_before_migrations_is_upgraded_with_its_rows(database):
    _legacy(database)
    engine = make_engine(database)
    with engine.begin() as conn:
        version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        assert version == head_revision() == "0005"
        assert conn.execute(sa.text("SELECT name, seq FROM shops")).one() == ("Vélos Martin", 7)
        data = conn.execute(sa.text("SELECT data FROM entities WHERE key = 'K1-000001'")).scalar()
        assert "Łukasiewicz" in str(data)
        # a message queued before any was sent stays history: 0004 never sends it
        status = conn.execute(sa.text("SELECT status, answer FROM notifications")).one()
        assert status[0] == "dropped" and "migration 0004" in status[1]
        conn.execute(sa.text("UPDATE shops SET seq = :seq"), {"seq": 2**40})
        assert conn.execute(sa.text("SELECT seq FROM shops")).scalar() == 2**40
    assert "update_rollouts" in sa.inspect(engine).get_table_names()  # 0005: updates
    types = {c["name"]: c["type"] for c in sa.inspect(engine).get_columns("entities")}
    assert isinstance(types["seq"], sa.BigInteger)
    engine.dispose()


def test_the_migrated_schema_is_the_models_schema(database):
    engine = make_engine(database)
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert differences == []
    make_engine(database).dispose()  # a second open changes nothing
    engine.dispose()
