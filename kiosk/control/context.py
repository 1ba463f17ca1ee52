"""What a control command works on: the configuration and the store, with the running
kiosk's devices, sync worker and updates when the kiosk itself answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kiosk.config import Config


@dataclass
class Context:
    """What a command works on. `running`: borrowed from the kiosk (never closed here)."""

    config: Config
    repos: Any
    devices: Any = None
    worker: Any = None
    running: bool = False
    updates: Any = None  # kiosk/app/updating.py's UpdateWatch, in the running kiosk
    opened: list[Any] = field(default_factory=list)

    @classmethod
    def open(cls, config: Config, *, salvage: bool = False) -> Context:
        from kiosk.services.context import open_kiosk_store

        return cls(config, open_kiosk_store(config, salvage=salvage))

    def close(self) -> None:
        if self.running:
            return
        for thing in reversed(self.opened):
            thing.close()
        if self.repos is not None:  # doctor works without the store
            self.repos.store.close()
