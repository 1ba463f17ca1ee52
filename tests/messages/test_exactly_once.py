"""Exactly once across workers: three sender processes on PostgreSQL, one of them
killed while its message is half through DATA; and the check shown to catch a claim
that does not hold its rows."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import select, update

from backoffice.db import Notification
from backoffice.messages import queue
from tests.messages import servers
from tests.messages.conftest import World, email_settings, make_world, three_senders
from tests.messages.test_email import received

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MESSAGES = 30


def _all_sent(world: World, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if {n.status for n in world.notes()} == {"sent"}:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.postgres
@pytest.mark.messages
def test_three_worker_processes_one_killed_mid_data_send_each_message_once(
    pg_server, relay_plain: servers.SmtpServer
) -> None:  # type: ignore[no-untyped-def]
    url = pg_server.new_database()
    world = make_world(url)
    relay = servers.Relay(relay_plain.port, "hold")
    world.channels(email={**email_settings(relay_plain, "none"), "port": relay.port})
    world.customer("C-ZOE")
    for n in range(MESSAGES):
        world.order("C-ZOE", f"K-{n}")
        world.ready(f"K-{n}")
    workers = {
        name: subprocess.Popen(
            [
                sys.executable,
                "-m",
                "backoffice",
                "--db",
                url,
                "send-messages",
                "--worker",
                name,
                "--idle-s",
                "0.1",
                "--lease-s",
                "3",
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for name in ("w1", "w2", "w3")
    }
    try:
        assert relay.held.wait(30), "no sender reached DATA"
        found = re.search(rb"Message-ID: <message-\d+-(\d+)@", relay.held_bytes)
        assert found, relay.held_bytes[-500:]
        held_id = int(found[1])
        with world.sessions() as s:
            owner = s.scalar(select(Notification.claimed_by).where(Notification.id == held_id))
        workers[owner].kill()  # SIGKILL: no goodbye, no record
        workers[owner].wait(10)
        assert _all_sent(world, 60), [(n.id, n.status, n.answer) for n in world.notes()]
    finally:
        for p in workers.values():
            p.terminate()
        for p in workers.values():
            p.wait(10)
        relay.close()
    ids = [m["Message-ID"] for m in received(relay_plain)]
    assert len(ids) == MESSAGES and len(set(ids)) == MESSAGES
    held = next(n for n in world.notes() if n.id == held_id)
    assert held.attempts == 2 and held.status == "sent"  # the killed claim lapsed, sent once
    senders = {m["Message-ID"] for m in received(relay_plain)}
    assert f"<message-{world.shop}-{held_id}@atelier.example>" in senders


@pytest.mark.messages
def test_the_once_check_catches_a_claim_that_does_not_hold_its_rows(
    world: World, relay_starttls: servers.SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check of the tests above (each Message-ID once) against a claim that reads
    the owed rows and marks them in a second transaction: the three workers all read
    them first (a barrier makes the race certain), and messages go out more than once."""
    world.channels(email=email_settings(relay_starttls))
    world.customer("C-ZOE")
    for n in range(4):
        world.order("C-ZOE", f"B-{n}")
        world.ready(f"B-{n}")
    barrier = threading.Barrier(3, timeout=10)
    first_round: set[str] = set()

    def careless(sessions, worker, now, lease=queue.LEASE, limit=20):  # type: ignore[no-untyped-def]
        with sessions() as s:
            ids = list(
                s.scalars(
                    select(Notification.id).where(Notification.status.in_(("owed", "retry")))
                ).all()
            )
        if worker not in first_round:
            first_round.add(worker)
            barrier.wait()
        with sessions.begin() as s:
            s.execute(
                update(Notification)
                .where(Notification.id.in_(ids))
                .values(status="sending", claimed_by=worker)
            )
        return ids

    monkeypatch.setattr(queue, "claim", careless)
    three_senders(world)
    ids = [m["Message-ID"] for m in received(relay_starttls)]
    assert len(set(ids)) == 4 and len(ids) > 4  # what the real claim never lets happen
