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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The whole-screen runs first (tests/ui/conftest.py): with parallel workers
    (`make test`: pytest-xdist) the longest group starts at once on one worker while the
    others share the rest, instead of arriving last and running alone."""
    from tests.ui.conftest import WHOLE_SCREEN

    def whole_screen(item: pytest.Item) -> bool:
        group = item.get_closest_marker("xdist_group")
        return group is not None and group.args[:1] == (WHOLE_SCREEN,)

    items.sort(key=lambda item: not whole_screen(item))  # stable: the rest keep their order
