"""A real back office process on loopback, with a seeded shop and enrolment codes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from backoffice.db import make_engine, make_sessions
from backoffice.service import BackOffice

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    office: BackOffice  # the same database, for the test to inspect and to act as staff
    shop_id: int
    other_shop_id: int
    db_url: str
    port: int
    token_file: Path
    process: subprocess.Popen[bytes] | None = None
    extra: tuple[str, ...] = ()  # more `serve` options (--updates DIR…)

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "backoffice",
                "--db",
                self.db_url,
                "serve",
                "--port",
                str(self.port),
                "--admin-token-file",
                str(self.token_file),
                *self.extra,
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/v1/health", timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("back office did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def code(self, kiosk_id: str = "K1", shop: int | None = None) -> str:
        return self.office.enrolment_code(shop or self.shop_id, kiosk_id)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The back office's database URL: SQLite in a file, or a fresh PostgreSQL database."""
    if request.param == "postgres":
        return str(request.getfixturevalue("pg_server").new_database())
    return f"sqlite:///{tmp_path / 'backoffice.db'}"


@pytest.fixture
def server(tmp_path: Path, database: str) -> Iterator[Server]:
    db_url = database
    office = BackOffice(make_sessions(make_engine(db_url)))
    shop = office.create_shop("Vélos Martin")
    other = office.create_shop("Other Shop")
    port = free_port()
    srv = Server(
        f"http://127.0.0.1:{port}", office, shop, other, db_url, port, tmp_path / "admin.token"
    )
    srv.start()
    yield srv
    srv.stop()
