"""The update manager from configuration and this kiosk's enrolment: the repository is
the back office's `/v1/updates` unless `[updates] repository` names another."""

from __future__ import annotations

from pathlib import Path

from kiosk import release
from kiosk.config import Config
from kiosk.sync import credentials
from kiosk.updates import launcher
from kiosk.updates.fetch import ReleaseFetcher
from kiosk.updates.manager import UpdateManager, parse_hours


def update_dir(config: Config) -> Path:
    """The launcher's state and the kiosk's requests (the unit's --state-dir)."""
    return config.data_path / "updates"


def make_manager(config: Config) -> UpdateManager:
    updates = config.updates
    base = updates.repository or credentials.load(config.data_path).url.rstrip("/") + "/v1/updates"
    folder = update_dir(config)
    fetcher = ReleaseFetcher(
        base,
        folder / "metadata",
        folder / "downloads",
        Path(updates.root),
        rate_bytes_s=updates.rate_kib_s * 1024,
        verify=config.sync.ca_file or True,
    )
    return UpdateManager(
        folder,
        config.data_path / "releases",
        fetcher,
        opening_hours=parse_hours(updates.opening_hours),
        deadline_s=updates.health_deadline_s,
        store_dir=config.data_path,
    )


def awaiting_confirmation(config: Config) -> bool:
    """This process runs a release the launcher switched to and waits to hear from."""
    return launcher.awaiting(launcher.status(update_dir(config)), release())
