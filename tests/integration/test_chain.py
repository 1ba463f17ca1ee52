"""A chain's back office on more than one server (issue 29 §3): two back-office
processes on their own ports, standing for two hosts, share one PostgreSQL behind
HAProxy (Debian's, configured as docs/operations.md says). Twenty kiosks sync through
it; in the middle of their pushes one server is killed with SIGKILL. The kiosks carry
on through the other; checked against the database: every operation applied once,
none lost, none twice."""

from __future__ import annotations

import csv
import io
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from backoffice.db import AppliedOperation, Entity, make_engine, make_sessions
from backoffice.service import BackOffice
from tests.integration.conftest import ROOT, free_port
from tests.integration.test_postgres_fleet import CUSTOMERS_PER_KIOSK, FleetKiosk

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(shutil.which("haproxy") is None, reason="`make install` installs haproxy"),
]
KIOSKS = 20

# What docs/operations.md gives a chain (ports filled in): health-checked servers, a
# request that found a dead server retried on the other (a push is idempotent by its
# operation ids, so a retry after a server died mid-way is safe).
HAPROXY = """global
    maxconn 4000
defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 15s
    retries 3
    option redispatch
    retry-on conn-failure empty-response response-timeout
frontend kiosks
    bind 127.0.0.1:{front}
    default_backend backoffice
backend backoffice
    balance roundrobin
    option httpchk GET /v1/health
    http-check expect status 200
    server a 127.0.0.1:{a} check inter 300ms fall 2 rise 2
    server b 127.0.0.1:{b} check inter 300ms fall 2 rise 2
listen stats
    bind 127.0.0.1:{stats}
    stats enable
    stats uri /stats
"""


def serve(db: str, port: int, folder: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "backoffice", "--db", db, "serve", "--port", str(port),
         "--workers", "2", "--admin-token-file", str(folder / "admin.token")],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip


def up(url: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(url + "/v1/health", timeout=0.5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"{url} did not come up"
        time.sleep(0.1)


def served(stats_port: int) -> dict[str, int]:
    """Sessions each server took, from HAProxy's own statistics."""
    text = httpx.get(f"http://127.0.0.1:{stats_port}/stats;csv").text.lstrip("# ")
    return {
        row["svname"]: int(row["stot"] or 0)
        for row in csv.DictReader(io.StringIO(text))
        if row["pxname"] == "backoffice" and row["svname"] in ("a", "b")
    }


def test_one_server_killed_under_load(tmp_path: Path, pg_server) -> None:
    db = pg_server.new_database()
    office = BackOffice(make_sessions(make_engine(db)))  # migrates once, before both start
    shops = [office.create_shop(f"Shop {n}") for n in range(KIOSKS // 4)]
    ports = {name: free_port() for name in ("a", "b", "front", "stats")}
    servers = {name: serve(db, ports[name], tmp_path) for name in ("a", "b")}
    (tmp_path / "haproxy.cfg").write_text(HAPROXY.format(**ports))
    proxy = subprocess.Popen(["haproxy", "-db", "-f", str(tmp_path / "haproxy.cfg")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    kiosks: list[FleetKiosk] = []
    try:
        for name in ("a", "b"):
            up(f"http://127.0.0.1:{ports[name]}")
        front = f"http://127.0.0.1:{ports['front']}"
        up(front)
        kiosks = [
            FleetKiosk(tmp_path, front, office.enrolment_code(shops[k // 4], f"K{k}"), f"K{k}")
            for k in range(KIOSKS)
        ]
        for k in kiosks:
            k.take_dropoffs()
        errors: list[str] = []
        threads = [threading.Thread(target=k.sync_until_done, args=(errors,)) for k in kiosks]
        for t in threads:
            t.start()
        total = sum(len(k.pushed_ids) for k in kiosks)
        with office.sessions() as s:  # the kill lands in the middle of the pushes
            while s.scalar(select(func.count()).select_from(AppliedOperation)) < total // 4:
                time.sleep(0.02)
                s.rollback()
        before = served(ports["stats"])
        os.killpg(servers["a"].pid, signal.SIGKILL)
        servers["a"].wait()
        for t in threads:
            t.join(180)
        assert errors == []
        assert before["a"] > 0 and before["b"] > 0  # both took kiosks before the kill
        after = served(ports["stats"])
        assert after["b"] > before["b"]  # the rest went through b
        for k in kiosks:
            assert k.repos.outbox.pending_count() == 0, k.name
            assert k.repos.outbox.stats(k.now).dead_letters == [], k.name
        with office.sessions() as s:
            rows = s.execute(select(AppliedOperation.op_id, AppliedOperation.status)).all()
            customers = s.scalar(
                select(func.count()).select_from(Entity).where(Entity.kind == "customer")
            )
        ids = [op_id for op_id, _ in rows]
        assert len(ids) == len(set(ids)) == total  # each once: none lost, none twice
        assert sorted(ids) == sorted(i for k in kiosks for i in k.pushed_ids)
        assert {status for _, status in rows} == {"applied"}
        assert customers == KIOSKS * CUSTOMERS_PER_KIOSK
    finally:
        for k in kiosks:
            k.close()
        proxy.terminate()
        proxy.wait(10)
        for process in servers.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(15)
