from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kiosk.storage.repositories import Repositories, open_repositories
from kiosk.storage.store import Store

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def store(store_dir: Path) -> Iterator[Store]:
    s = Store(store_dir)
    yield s
    s.close()


@pytest.fixture
def repos(store: Store) -> Repositories:
    return open_repositories(store, country_calling_code="33")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    """One throw-away PostgreSQL server for the session (tests/pg.py)."""
    from tests.pg import PgServer

    server = PgServer().start()
    yield server
    server.stop()
