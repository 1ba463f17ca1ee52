"""Which release each kiosk should run (docs/updates.md "Choosing a release"): a
kiosk's own row wins over its shop's; a row names a version, or a channel whose newest
release is meant; `percent` stages it: a kiosk takes it when its bucket (a hash of its
id and the version, so each release picks a different first few) is below the figure.
The answer rides on the heartbeat's reply; the kiosk fetches and verifies through TUF.
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from typing import Any

from packaging.version import Version
from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

from backoffice.db import UpdateRollout
from backoffice.updates.repository import Repository, RepositoryError


class RolloutError(ValueError):
    """A rollout that cannot be set: what is wrong."""


def bucket(kiosk_id: str, version: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{kiosk_id}:{version}".encode()).digest()[:4]) % 100


def set_rollout(
    sessions: sessionmaker[Session],
    shop_id: int,
    *,
    kiosk_id: str = "",
    version: str = "",
    channel: str = "",
    percent: int = 100,
) -> None:
    if bool(version) == bool(channel):
        raise RolloutError("name a version or a channel, one of the two")
    if not 0 <= percent <= 100:
        raise RolloutError(f"percent {percent}: expected 0 to 100")
    if version:
        Version(version)  # InvalidVersion is a ValueError: reported as such
    with sessions.begin() as s:
        row = s.scalar(
            select(UpdateRollout).where(
                UpdateRollout.shop_id == shop_id, UpdateRollout.kiosk_id == kiosk_id
            )
        )
        if row is None:
            row = UpdateRollout(shop_id=shop_id, kiosk_id=kiosk_id)
            s.add(row)
        row.version, row.channel, row.percent = version, channel, percent
        row.set_at = datetime.now(UTC)


class Releases:
    """The repository's releases, read again only when its timestamp changes."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self._seen: tuple[float, list[dict[str, str]]] = (-1.0, [])

    def all(self) -> list[dict[str, str]]:
        try:
            mtime = os.stat(self.repo.metadata / "timestamp.json").st_mtime
        except OSError:
            return []
        if mtime != self._seen[0]:
            try:
                self._seen = (mtime, self.repo.releases())
            except (RepositoryError, ValueError):
                self._seen = (mtime, [])
        return self._seen[1]


_R = UpdateRollout.__table__.c
# the shop's row and the kiosk's own, if any (made once: read at every heartbeat)
_ROWS = select(_R.kiosk_id, _R.version, _R.channel, _R.percent).where(
    _R.shop_id == bindparam("b_shop"), _R.kiosk_id.in_(("", bindparam("b_kiosk")))
)


def wanted(
    c: Connection, shop_id: int, kiosk_id: str, releases: list[dict[str, str]]
) -> dict[str, Any] | None:
    """{"version", "target"} this kiosk should run, or None (stay as it is)."""
    rows = {r.kiosk_id: r for r in c.execute(_ROWS, {"b_shop": shop_id, "b_kiosk": kiosk_id})}
    row = rows.get(kiosk_id) or rows.get("")
    if row is None:
        return None
    if row.version:
        chosen = next((r for r in releases if r["version"] == row.version), None)
    else:
        on_channel = [r for r in releases if r["channel"] == row.channel]
        chosen = on_channel[-1] if on_channel else None  # releases come oldest first
    if chosen is None or bucket(kiosk_id, chosen["version"]) >= row.percent:
        return None
    return {"version": chosen["version"], "target": chosen["target"]}


def describe(row: UpdateRollout | None) -> str:
    if row is None:
        return "no rollout set"
    what = row.version or f"newest on {row.channel}"
    return f"{what} ({row.percent} %)"
