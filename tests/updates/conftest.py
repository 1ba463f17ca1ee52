"""A real update repository, made in the test with the `tuf` library (through the back
office's own `release` code), served by a real back office process."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from backoffice.db import make_engine, make_sessions
from backoffice.service import BackOffice
from backoffice.updates.repository import Repository
from tests.integration.conftest import Server, free_port
from tests.updates.releases import archive


@dataclass
class Published:
    server: Server
    repo: Repository
    keys: Path
    tmp: Path

    @property
    def url(self) -> str:
        return f"{self.server.url}/v1/updates"

    def publish(self, version: str, kind: str = "good", text: str = "", channel: str = "stable"):
        path = archive(self.tmp / f"kiosk-{version}.tar.gz", version, kind, text)
        return self.repo.add(path, version, channel, self.keys)


@pytest.fixture
def published(tmp_path: Path) -> Iterator[Published]:
    repo = Repository(tmp_path / "repository")
    keys = tmp_path / "keys"
    repo.init(keys)
    db_url = f"sqlite:///{tmp_path / 'backoffice.db'}"
    office = BackOffice(make_sessions(make_engine(db_url)))
    shop = office.create_shop("Vélos Martin")
    other = office.create_shop("Other Shop")
    port = free_port()
    server = Server(
        f"http://127.0.0.1:{port}", office, shop, other, db_url, port, tmp_path / "admin.token",
        extra=("--updates", str(repo.folder)),
    )  # fmt: skip
    server.start()
    made = Published(server, repo, keys, tmp_path)
    made.publish("1.1.0")
    made.publish("1.2.0")
    yield made
    server.stop()
