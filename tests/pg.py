"""A throw-away PostgreSQL server for the tests marked `postgres`: Debian's PostgreSQL
(`make install` installs it where missing), `initdb` and `pg_ctl` in a temporary folder,
listening on a Unix socket only, as an unprivileged user (the `postgres` account when the
tests run as root: the server refuses root). One server for the session, a fresh
database for each test."""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_version)
    if found:
        return found[-1]
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(
            f"PostgreSQL's {name} is not installed: `make install` installs Debian's "
            "postgresql package (apt-get install postgresql)"
        )
    return path


def _version(path: str) -> int:
    part = Path(path).parts[-3]
    return int(part) if part.isdigit() else 0


class PgServer:
    USER = "kiosk"

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="kiosk-pg-"))
        self.data = self.folder / "data"
        self.socket = self.folder / "run"
        self.socket.mkdir()
        self.port = 5432
        self._names = itertools.count(1)
        self._as: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
            shutil.chown(self.socket, "postgres")
            self._as = ["runuser", "-u", "postgres", "--"]

    def _run(self, *command: str) -> None:
        done = subprocess.run([*self._as, *command], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{command[0]} failed: {(done.stderr or done.stdout)[-800:]}")

    def start(self) -> PgServer:
        self._run(_bin("initdb"), "-D", str(self.data), "-U", self.USER, "--auth=trust",
                  "--encoding=UTF8", "--no-sync")  # fmt: skip
        options = (
            f"-k {self.socket} -p {self.port} -c listen_addresses='' -c fsync=off "
            "-c max_connections=200 -c shared_buffers=64MB"
        )
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-o", options, "-w",
                  "-l", str(self.folder / "server.log"), "start")  # fmt: skip
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.USER}@/{database}?host={self.socket}&port={self.port}"

    def new_database(self) -> str:
        """A fresh, empty database; its SQLAlchemy URL."""
        from sqlalchemy import create_engine, text

        name = f"t{os.getpid()}_{next(self._names)}"
        engine = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return self.url(name)

    def stop(self) -> None:
        if self.data.exists():
            subprocess.run([*self._as, _bin("pg_ctl"), "-D", str(self.data), "-m", "immediate",
                            "stop"], capture_output=True)  # fmt: skip
        shutil.rmtree(self.folder, ignore_errors=True)
