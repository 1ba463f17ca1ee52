"""A back office that drips its answer cannot hold the kiosk: every sync request has a
total deadline (connect, send, whole answer), not only httpx's per-read time-out."""

from __future__ import annotations

import socket
import threading
import time
from datetime import UTC, datetime

import pytest

from kiosk import config as config_module
from kiosk.services.context import open_kiosk_store
from kiosk.services.sync import make_worker
from kiosk.sync import credentials
from kiosk.sync.client import BackOfficeClient, Transient


class DrippingServer:
    """Answers every request with a valid status line, then one byte every `every_s`
    for as long as the client listens (bounded: at most `limit_s`)."""

    def __init__(self, every_s: float = 0.4, limit_s: float = 20.0) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.every_s, self.limit_s = every_s, limit_s
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        self.listener.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:  # closed by close()
                return
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            body = b'{"results": []}' * 1000
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            head += b"Content-Length: %d\r\n\r\n" % len(body)
            deadline = time.monotonic() + self.limit_s
            for byte in head + body:
                if self.stop.is_set() or time.monotonic() > deadline:
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return
                time.sleep(self.every_s)

    def close(self) -> None:
        self.stop.set()
        self.listener.close()


@pytest.fixture
def dripping():
    server = DrippingServer()
    yield server
    server.close()


def test_a_dripping_answer_is_cut_at_the_deadline(dripping):
    client = BackOfficeClient(f"http://127.0.0.1:{dripping.port}", "x", timeout_s=1.0)
    started = time.monotonic()
    with pytest.raises(Transient, match="no whole answer in time"):
        client.changes(0, 10)
    assert time.monotonic() - started < 1.0 + 1.0
    client.close()


def test_sync_now_returns_within_its_timeout_against_a_dripping_back_office(tmp_path, dripping):
    """What `kiosk sync now` runs: the configured worker, one round."""
    cfg = config_module.from_mapping(
        {
            "shop": {"name": "Atelier"},
            "kiosk": {"id": "K1", "data_dir": str(tmp_path / "store")},
            "sync": {"url": f"http://127.0.0.1:{dripping.port}", "timeout_s": 1.0},
        },
        "<test>",
    )
    credentials.save(cfg.data_path, credentials.Credential(cfg.sync.url, "K1", 1, "token"))
    repos = open_kiosk_store(cfg)
    repos.outbox.enqueue("staff.alert", {"id": "a"}, key="k", now=datetime.now(UTC))
    worker = make_worker(cfg, repos, lambda: datetime.now(UTC))
    started = time.monotonic()
    report = worker.run_once()
    elapsed = time.monotonic() - started
    worker.client.close()
    repos.store.close()
    assert report.error and "in time" in report.error
    assert elapsed < cfg.sync.timeout_s + 1.0, elapsed


def test_the_whole_sync_now_command_answers_within_its_timeout_and_a_second(tmp_path, dripping):
    """Before: the round kept its time-out, but the command (a process: imports, the
    store, then the round) took 4.5-4.7 s with `timeout_s = 3`. The whole command, from
    its process's start, now ends within timeout_s + 1 s."""
    import subprocess
    import sys

    store = tmp_path / "store"
    url = f"http://127.0.0.1:{dripping.port}"
    file = tmp_path / "kiosk.toml"
    file.write_text(
        f'[shop]\nname = "Atelier"\n[kiosk]\nid = "K1"\ndata_dir = "{store}"\n'
        f'[sync]\nurl = "{url}"\ntimeout_s = 3.0\n'
    )
    cfg = config_module.load(str(file))
    credentials.save(cfg.data_path, credentials.Credential(url, "K1", 1, "token"))
    repos = open_kiosk_store(cfg)
    repos.outbox.enqueue("staff.alert", {"id": "a"}, key="k", now=datetime.now(UTC))
    repos.store.close()
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "kiosk", "--config", str(file), "sync", "now"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 1 and "time" in done.stderr, done.stderr
    assert elapsed < 3.0 + 1.0, elapsed
