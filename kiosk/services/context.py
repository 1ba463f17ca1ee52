"""Opening the kiosk's store and repositories from its configuration: the one place
that knows which settings the storage layer takes."""

from __future__ import annotations

from kiosk.config import Config
from kiosk.storage.outbox import RetryPolicy
from kiosk.storage.repositories import Repositories, open_repositories
from kiosk.storage.store import Store


def open_kiosk_store(config: Config, *, salvage: bool = False) -> Repositories:
    store = Store(
        config.data_path,
        compact_min_bytes=config.storage.compact_min_bytes,
        compact_ratio=config.storage.compact_ratio,
        salvage=salvage,
    )
    return open_repositories(
        store,
        country_calling_code=config.shop.country_calling_code,
        retry=RetryPolicy(
            max_attempts=config.outbox.max_attempts,
            base_delay_s=config.outbox.retry_base_s,
            max_delay_s=config.outbox.retry_max_s,
        ),
    )
