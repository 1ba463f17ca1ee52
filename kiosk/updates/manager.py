"""The running kiosk's side of an update (docs/updates.md): what the back office asks
for (the heartbeat's answer) is fetched and verified in the background, unpacked beside
the running release, and switched to only when nobody can be hurt by it; a new release
confirms itself healthy or the launcher (kiosk/updates/launcher.py) takes it back.

Only the launcher writes its `state.json`; this side reads it and leaves requests.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any

from kiosk import release
from kiosk.storage.journal import JOURNAL_NAME, SNAPSHOT_NAME
from kiosk.storage.snapshot import FORMAT_VERSION
from kiosk.updates import launcher
from kiosk.updates.fetch import ReleaseFetcher, Unreachable, UpdateError
from kiosk.updates.releases import BadArchive, Releases

log = logging.getLogger(__name__)

# device states (kiosk/drivers/base.py) in which a device works
USABLE = ("ready", "busy", "warning")
# Outbox kinds that move money or a customer's property: a switch waits until the back
# office has every one of them.
CRITICAL_KINDS = ("payment.", "statement.", "invoice.", "shift.", "dropoff.", "order.", "item.")


def parse_hours(spans: list[str]) -> list[tuple[time, time]]:
    """["09:00-12:30", "14:00-19:00"] → pairs of times (the config check's reading)."""
    out = []
    for span in spans:
        start, _, end = span.partition("-")
        out.append((time.fromisoformat(start.strip()), time.fromisoformat(end.strip())))
    return out


def within(hours: list[tuple[time, time]], now: time) -> bool:
    for start, end in hours:
        if start <= end and start <= now < end:
            return True
        if start > end and (now >= start or now < end):  # a span over midnight
            return True
    return False


@dataclass(frozen=True)
class Moment:
    """What the kiosk is doing now, as the switch needs to know it."""

    on_attract: bool
    busy: bool  # a payment or a locker in progress, or staff signed in
    open_payments: int  # card movements with no known outcome or not finished
    unsynced_critical: int
    local_time: time
    staff_asked: bool = False  # "Update now" in staff mode


class UpdateManager:
    def __init__(
        self,
        update_dir: Path,
        releases_dir: Path,
        fetcher: ReleaseFetcher,
        *,
        opening_hours: list[tuple[time, time]],
        deadline_s: float,
        store_dir: Path,
    ) -> None:
        self.dir = update_dir
        self.releases = Releases(releases_dir)
        self.fetcher = fetcher
        self.opening_hours = opening_hours
        self.deadline_s = deadline_s
        self.store_dir = store_dir
        self.running = release()
        self.wanted: dict[str, str] | None = None
        self.downloaded = ""
        self.error = ""
        self.activity = "idle"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- what the launcher says --
    def launcher_state(self) -> dict[str, Any]:
        return launcher.status(self.dir)

    def pending_here(self) -> bool:
        """This process is a switched-to release the launcher waits to hear from."""
        return launcher.awaiting(self.launcher_state(), self.running)

    def failed(self) -> dict[str, str]:
        return dict(self.launcher_state().get("failed") or {})

    # -- the back office's answer --
    def directive(self, update: dict[str, Any] | None) -> None:
        """The heartbeat's answer: the release this kiosk should run (None: stay)."""
        if not update or update.get("version") in (None, "", self.running):
            self.wanted, self.error = None, ""
            return
        wanted = {"version": str(update["version"]), "target": str(update.get("target", ""))}
        if wanted["version"] in self.failed():  # said at once, in the next heartbeat
            self.wanted, self.error = None, f"{wanted['version']} went back here: not tried again"
            return
        if wanted != self.wanted or self.activity == "unreachable":
            self.wanted = wanted
            self._wake.set()

    def report(self) -> dict[str, Any]:
        """For the heartbeat: the back office's fleet page shows it."""
        state = self.launcher_state()  # read once for the whole report
        events = state.get("events") or []
        confirming = launcher.awaiting(state, self.running)
        return {
            "running": self.running,
            "downloaded": self.downloaded,
            "failed": dict(state.get("failed") or {}),
            "activity": "confirming" if confirming else self.activity,
            "error": self.error,
            "last_event": events[-1] if events else None,
        }

    # -- downloading, in a thread of its own --
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="updates", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def alive(self) -> bool:
        return self._thread is None or self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(timeout=3600)
            self._wake.clear()
            if not self._stop.is_set():
                self.fetch_wanted()

    def fetch_wanted(self) -> None:
        wanted = self.wanted
        if wanted is None or wanted["version"] == self.downloaded:
            return
        version = wanted["version"]
        self.activity, self.error = "downloading", ""
        try:
            got = self.fetcher.fetch(wanted["target"], version, self.running)
            self.releases.install(got.archive, version)
            got.archive.unlink(missing_ok=True)
        except Unreachable as exc:  # tried again at the next heartbeat
            self.activity, self.error = "unreachable", f"{version}: {exc}"
            log.warning("update to %s not fetched: %s", version, exc)
            return
        except (UpdateError, BadArchive) as exc:  # tried again in an hour (a fixed repository)
            self.activity, self.error = "refused", f"{version}: {exc}"
            log.error("update to %s not installed: %s", version, exc)
            return
        self.downloaded, self.activity = version, "downloaded"
        keep = {
            self.running,
            version,
            str((self.launcher_state().get("previous") or {}).get("version", "")),
        }
        self.releases.prune(keep)
        log.warning("release %s downloaded and verified: it waits for a quiet moment", version)

    # -- switching --
    def why_not_now(self, moment: Moment) -> str:
        """Empty when the downloaded release may be switched to now, else why not."""
        if not self.downloaded or self.downloaded == self.running:
            return "nothing downloaded"
        if self.pending_here():
            return "this release is still being confirmed"
        if not moment.on_attract or moment.busy:
            return "a customer or staff is using the kiosk"
        if moment.open_payments:
            return f"{moment.open_payments} payment(s) not finished"
        if moment.unsynced_critical:
            return f"{moment.unsynced_critical} operation(s) the back office does not have yet"
        if not moment.staff_asked and within(self.opening_hours, moment.local_time):
            return "the shop is open"
        return ""

    def request_switch(self, by: str, devices: dict[str, bool]) -> None:
        """Leave the switch to the launcher; the kiosk then exits with SWITCH_EXIT."""
        launcher.write_json(
            self.dir / launcher.SWITCH,
            {
                "version": self.downloaded,
                "path": str(self.releases.path(self.downloaded)),
                "by": by,
                "deadline_s": self.deadline_s,
                "store": {"dir": str(self.store_dir), "files": [SNAPSHOT_NAME, JOURNAL_NAME]},
                "store_format": FORMAT_VERSION,
                "devices": devices,
            },
        )

    def confirm(self, detail: str) -> None:
        launcher.write_json(
            self.dir / launcher.HEALTHY, {"version": self.running, "detail": detail}
        )
        self.activity = "idle"
        log.warning("release %s confirmed healthy: %s", self.running, detail)

    def why_no_rollback(self, unsynced: int) -> str:
        state = self.launcher_state()
        if not state.get("previous"):
            return "there is no previous release to go back to"
        if self.migrated_store(state) and unsynced:
            return f"{unsynced} operation(s) not yet at the back office: sync first"
        return ""

    def request_rollback(self) -> None:
        """Staff's "Roll back": the store's copy is restored only when this release
        changed its format (the older release could not read it), which
        `why_no_rollback` allows once everything is synced."""
        launcher.write_json(
            self.dir / launcher.ROLLBACK,
            {"reason": "asked for by staff", "restore_store": self.migrated_store()},
        )

    def migrated_store(self, state: dict[str, Any] | None = None) -> bool:
        current = (state or self.launcher_state()).get("current") or {}
        before = (current.get("store") or {}).get("format_before")
        return before is not None and before != FORMAT_VERSION


def healthy(
    devices_before: dict[str, bool], health: dict[str, str], synced_since_start: bool
) -> str:
    """Empty when healthy, else what is missing: every device answered, none that
    worked before the switch broken now, and one sync round done."""
    silent = [name for name, text in health.items() if text.startswith("unknown")]
    if silent:
        return f"no answer yet from {', '.join(sorted(silent))}"
    broken = [
        name
        for name, worked in devices_before.items()
        if worked and not health.get(name, "").startswith(USABLE)
    ]
    if broken:
        return f"{', '.join(sorted(broken))} worked before the switch and does not now"
    if not synced_since_start:
        return "no sync round yet"
    return ""
