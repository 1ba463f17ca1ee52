"""Updates as the running kiosk sees them, on the Kivy clock (docs/updates.md):

- a release the launcher has just switched to keeps customers out ("Starting…") until it
  is healthy: the window up (this code runs in its loop), the store open, every device
  answered (the kiosk asks each once as it starts, kiosk/app/runner.py) and none that
  worked before the switch broken, one sync round done; then it confirms itself to the
  launcher and opens. No customer ever meets a release that may yet be taken back, so
  going back loses nothing a customer was told was done;
- a downloaded release is switched to only on the attract screen, with no payment open,
  nothing critical waiting for the back office, and outside opening hours unless staff
  pressed "Update now": the kiosk then leaves its loop with SWITCH_EXIT and the launcher
  makes the switch.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from kiosk.updates.launcher import SWITCH_EXIT
from kiosk.updates.manager import CRITICAL_KINDS, USABLE, Moment, UpdateManager, healthy

log = logging.getLogger(__name__)

CHECK_EVERY_S = 2.0


class UpdateWatch:
    def __init__(self, run: Any, manager: UpdateManager, started_at: str) -> None:
        self.run = run  # the KioskRun: its app, repos, devices, workers and exit code
        self.manager = manager
        self.started_at = started_at  # ISO time: a sync success after it counts
        self.holding = manager.pending_here()
        self.staff_asked = False
        self.last_reason = ""

    def start(self) -> None:
        from kivy.clock import Clock

        self.manager.start()
        Clock.schedule_interval(lambda _dt: self.tick(), CHECK_EVERY_S)

    def tick(self) -> None:
        if self.holding:
            self._confirm_if_healthy()
        elif self.manager.downloaded:
            self._switch_if_quiet()

    # -- a new release, proving itself --
    def _confirm_if_healthy(self) -> None:
        from kiosk.services.machine.diagnostics import device_health
        from kiosk.sync.worker import LAST_SUCCESS

        pending = self.manager.launcher_state().get("pending") or {}
        last_sync = str(self.run.repos.settings.get(LAST_SUCCESS, ""))
        missing = healthy(
            dict(pending.get("devices") or {}),
            device_health(self.run.devices),
            bool(last_sync) and last_sync >= self.started_at,
        )
        if missing:
            if missing != self.last_reason:
                log.info("release %s not yet healthy: %s", self.manager.running, missing)
                self.last_reason = missing
            return
        self.manager.confirm("window, store, devices and a sync round")
        self.holding = False
        self.run.app.ready = True  # customers may start

    # -- the running release, making way --
    def moment(self) -> Moment:
        app, repos = self.run.app, self.run.repos
        worker = self.run.workers[0] if self.run.workers else None
        kinds = repos.outbox.pending_kinds()
        return Moment(
            on_attract=app.sm.current == "attract",
            busy=bool(app.busy or app.staff is not None),
            open_payments=worker.unresolved_payments() if worker is not None else 0,
            unsynced_critical=sum(1 for k in kinds if k.startswith(CRITICAL_KINDS)),
            local_time=datetime.now().time(),
            staff_asked=self.staff_asked,
        )

    def _switch_if_quiet(self) -> None:
        from kiosk.services.machine.diagnostics import device_health

        why = self.manager.why_not_now(self.moment())
        if why:
            if why != self.last_reason:
                log.info("release %s waits: %s", self.manager.downloaded, why)
                self.last_reason = why
            return
        health = device_health(self.run.devices)
        usable = {name: text.startswith(USABLE) for name, text in health.items()}
        self.manager.request_switch("staff" if self.staff_asked else "idle", usable)
        log.warning("switching to release %s", self.manager.downloaded)
        self.run.exit_code = SWITCH_EXIT
        self.run.app.ready = False  # nobody starts in the second before the loop ends
        self.run.app.stop()

    # -- staff mode --
    def update_now(self) -> str:
        """Staff's "Update now": opening hours no longer stop it (the rest still does)."""
        if not self.manager.downloaded:
            return "no release downloaded"
        self.staff_asked = True
        return ""

    def roll_back(self) -> str:
        why = self.manager.why_no_rollback(self.run.repos.outbox.pending_count())
        if why:
            return why
        self.manager.request_rollback()
        self.run.exit_code = SWITCH_EXIT
        self.run.app.stop()
        return ""
