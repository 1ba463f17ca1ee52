"""Wiring the sync worker from configuration and this kiosk's enrolment, and the
figures `kiosk sync status` shows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from kiosk.config import Config
from kiosk.services.retention import Retention
from kiosk.storage.repositories import Repositories
from kiosk.sync import credentials
from kiosk.sync.client import BackOfficeClient
from kiosk.sync.worker import CURSOR, LAST_ERROR, LAST_SUCCESS, Backoff, SyncWorker


def make_worker(
    config: Config,
    repos: Repositories,
    clock: Any,
    *,
    transport: httpx.BaseTransport | None = None,
    health: Callable[[], dict[str, str]] = dict,
) -> SyncWorker:
    cred = credentials.load(config.data_path)
    client = BackOfficeClient(
        config.sync.url or cred.url,
        cred.token,
        timeout_s=config.sync.timeout_s,
        verify=config.sync.ca_file or True,
        transport=transport,
    )
    return SyncWorker(
        repos,
        client,
        clock,
        batch_size=config.sync.batch_size,
        interval_s=config.sync.interval_s,
        backoff=Backoff(cap_s=config.sync.backoff_cap_s),
        after_success=Retention(repos, clock, config.storage.retention_days).prune_if_due,
        health=health,
    )


@dataclass(frozen=True)
class SyncStatus:
    queue_depth: int
    oldest_pending_age_s: float | None
    dead_letters: int
    last_success: str
    last_error: str
    last_error_at: str
    cursor: int


def sync_status(repos: Repositories, now: datetime) -> SyncStatus:
    stats = repos.outbox.stats(now)
    error = repos.settings.get(LAST_ERROR) or {}
    return SyncStatus(
        queue_depth=stats.pending,
        oldest_pending_age_s=stats.oldest_pending_age_s,
        dead_letters=len(stats.dead_letters),
        last_success=repos.settings.get(LAST_SUCCESS, ""),
        last_error=error.get("error", ""),
        last_error_at=error.get("at", ""),
        cursor=int(repos.settings.get(CURSOR, 0)),
    )
