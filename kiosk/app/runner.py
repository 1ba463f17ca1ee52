"""`kiosk run`: the kiosk as it runs in the shop, or driven by a script that tours/play.py
hands in (the tests, the demo tour). Kivy is configured (window, input, its home folder)
before it is imported, so nothing from the user's own ~/.kivy leaks in."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kiosk.config import Config
from kiosk.logs import to_stderr
from kiosk.memory import large_blocks_from_mmap
from kiosk.systemd_notify import HealthCheck, Supervisor, watchdog_interval_s
from kiosk.updates.wiring import awaiting_confirmation

log = logging.getLogger(__name__)


def configure_kivy(
    kivy_home: Path, size: tuple[int, int], fullscreen: bool, dpi: int = 0, rotation: int = 0
) -> None:
    kivy_home.mkdir(parents=True, exist_ok=True)
    if dpi:
        os.environ["KIVY_DPI"] = str(dpi)  # touch targets in real millimetres
    os.environ["KIVY_HOME"] = str(kivy_home)
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    from kivy.config import Config as KivyConfig

    if fullscreen:  # the display's own size, at its corner: there is no window manager
        from kiosk.app.display import display_size

        size = display_size() or size
        log.info("full screen at %dx%d, rotated %d°", size[0], size[1], rotation)
        KivyConfig.set("graphics", "position", "custom")
        KivyConfig.set("graphics", "left", "0")
        KivyConfig.set("graphics", "top", "0")
        KivyConfig.set("graphics", "borderless", "1")
    KivyConfig.set("graphics", "width", str(size[0]))
    KivyConfig.set("graphics", "height", str(size[1]))
    KivyConfig.set("graphics", "rotation", str(rotation))
    KivyConfig.set("graphics", "multisamples", "0")  # nothing to smooth: docs/ui.md, "Drawing"
    KivyConfig.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    KivyConfig.set("graphics", "show_cursor", "0" if fullscreen else "1")
    # exactly one input path: SDL reads the touchscreen (kmsdrm: straight from evdev)
    # and hands Kivy its taps through the mouse provider. Kivy's default config adds
    # probesysfs (hidinput on every touch device) too, and then every tap arrives twice.
    for option in KivyConfig.options("input"):
        KivyConfig.remove_option("input", option)
    KivyConfig.set("input", "mouse", "mouse,disable_multitouch")
    KivyConfig.set("kivy", "exit_on_escape", "0")
    KivyConfig.set("kivy", "keyboard_mode", "system")


@dataclass(frozen=True)
class Script:
    """A scripted run, handed in from outside the kiosk's package (tours/play.py: the UI
    tests, the demo tour, the UI benchmark), so the kiosk never imports its tours."""

    install: Callable[[Any], None]  # given the app before its loop starts
    prepare: Callable[[Any], None]  # given the use cases before the app has them
    exit_code: Callable[[], int]  # once the loop has ended


def run(
    config: Config,
    *,
    size: tuple[int, int] = (1024, 600),
    fullscreen: bool = False,
    script: Script | None = None,
    clock_now: datetime | None = None,
    first_frame: Path | None = None,
    ready_mark: Path | None = None,
) -> int:
    to_stderr()  # the journal, under systemd (kiosk/logs.py)
    large_blocks_from_mmap()  # big transient buffers (scrypt's) must not stay resident
    configure_kivy(
        config.data_path / "kivy",
        size,
        fullscreen,
        config.kiosk.screen_dpi,
        config.kiosk.rotation,
    )
    # python-escpos rebuilds its capability pickle in a new temporary folder on every
    # start (~0.2 s) unless told where to keep it
    cache = config.data_path / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("ESCPOS_CAPABILITIES_PICKLE_DIR", str(cache))
    kiosk = KioskRun(config, script=script, clock_now=clock_now, ready_mark=ready_mark)
    # a window on a desktop (make demo) closes as windows do; full screen it never does
    kiosk.app.locked = fullscreen or script is not None
    try:
        if script is not None:
            script.install(kiosk.app)
        if first_frame is not None:
            _stop_after_first_frame(kiosk.app, first_frame, ready_mark is not None)
        kiosk.run()
    finally:
        kiosk.close()
    return script.exit_code() if script is not None else kiosk.exit_code


class KioskRun:
    """One run of the kiosk, in the order things happen: the window and its first frame;
    then, on a worker thread, the store, the devices and the use cases (and recovery of
    any payment a crash left open); then, back on the Kivy thread, the app attached to
    them, sync started, systemd told it is ready; at the end everything closed."""

    def __init__(
        self,
        config: Config,
        *,
        script: Script | None = None,
        clock_now: datetime | None = None,
        ready_mark: Path | None = None,
    ) -> None:
        from kiosk.app.main import KioskApp

        self.config = config
        self.script = script
        self.clock_now = clock_now
        self.ready_mark = ready_mark
        self.app = KioskApp(config)
        self.supervisor = Supervisor()
        self.repos: Any = None
        self.devices: Any = None
        self.workers: list[Any] = []
        self.control: Any = None
        self.updates: Any = None  # kiosk/app/updating.py, when this kiosk takes updates
        self.exit_code = 0  # SWITCH_EXIT: the launcher has a request waiting
        self.started_at = datetime.now(UTC).isoformat()

    def run(self) -> None:
        from kivy.core.window import Window

        Window.bind(on_flip=self._first_frame)
        signal.signal(signal.SIGTERM, self._stop_gently)
        self.app.run()

    def _first_frame(self, *_args: object) -> None:
        # Only now: the imports behind the use cases would hold the GIL while Kivy draws
        # its first frame.
        from kivy.core.window import Window

        Window.unbind(on_flip=self._first_frame)
        threading.Thread(target=self._open_everything, name="kiosk-start", daemon=True).start()

    def _open_everything(self) -> None:
        """On a worker thread, while the attract screen is already up."""
        from kivy.clock import Clock

        try:
            result: object = self._open()
        except Exception as exc:  # shown on the attract screen: "out of order"
            log.exception("the kiosk could not start")
            result = exc
        if self.ready_mark is not None:
            self.ready_mark.write_text(repr(time.time()))
        Clock.schedule_once(lambda _dt: self._attached(result))

    def _open(self) -> object:
        from kiosk.services.context import open_kiosk_store
        from kiosk.services.kiosk import build_services
        from kiosk.services.machine.devices import open_devices
        from kiosk.services.machine.diagnostics import check_devices

        self.repos = open_kiosk_store(self.config)
        self.devices = open_devices(self.config)
        now = self.clock_now
        clock = (lambda: now) if now else (lambda: datetime.now(UTC))
        services = build_services(self.config, self.repos, self.devices, clock)
        report = services.startup()
        for line in report.done:
            log.warning("startup: %s", line)
        for line in report.left_open + report.quarantined:  # staff mode: "resolve now"
            log.error("startup: unresolved payment %s", line)
        # each device asked once before any customer can use it: the heartbeat's health
        # (the fleet page) and a new release's health check read their answers; without
        # this they said "not checked yet" until the first print or payment
        for check in check_devices(self.devices, probe_scanner=False):
            if check.device != "scanner":  # it reports itself when its reader starts, next
                log.info("startup: %s %s: %s", check.device, check.state.value, check.detail)
        if self.script is not None:
            self.script.prepare(services)
        return services

    def _attached(self, result: object) -> None:
        from kivy.clock import Clock

        self._make_updates()
        # a release the launcher waits to hear from serves nobody until it is healthy,
        # even when its update code could not start (then its deadline takes it back)
        holding = self.config.updates.root != "" and awaiting_confirmation(self.config)
        self.app.attach(result, hold=holding)  # type: ignore[arg-type]
        if self.app.out_of_order:
            self.supervisor.failed_to_start(self.app.out_of_order)
            return
        self._start_sync()
        if self.updates is not None:
            self._wire_updates()
        self._start_control()
        self.supervisor.checks = self.health_checks()
        self.supervisor.ready()
        interval = watchdog_interval_s()
        if interval:  # from the Kivy loop: a frozen UI stops the pings too
            Clock.schedule_interval(lambda _dt: self.supervisor.tick(), interval)

    def _start_sync(self) -> None:
        try:
            from kiosk.services.machine.diagnostics import device_health
            from kiosk.services.sync import make_worker

            worker = make_worker(
                self.config,
                self.repos,
                self.app.services.clock,
                health=lambda: device_health(self.devices),
            )
        except Exception as exc:  # not enrolled, or no back office configured: offline
            log.info("sync not started: %s", exc)
            return
        worker.start()
        self.repos.outbox.on_enqueue = worker.wake  # a customer's operations go out at once
        self.workers.append(worker)

    def _make_updates(self) -> None:
        if not self.config.updates.root:
            return
        from kiosk.app.updating import UpdateWatch
        from kiosk.updates.wiring import make_manager

        try:
            manager = make_manager(self.config)
        except Exception as exc:  # not enrolled: no back office to ask
            log.info("updates not started: %s", exc)
            return
        self.updates = UpdateWatch(self, manager, self.started_at)

    def _wire_updates(self) -> None:
        if not self.workers:  # a release waiting for its sync round would never get one
            log.error("updates need the sync: not started")
            self.updates = None
            return
        worker, manager = self.workers[0], self.updates.manager
        worker.update_report = manager.report
        worker.on_update = manager.directive
        self.updates.start()
        if self.updates.holding:  # a new release proving itself: its sync round now
            worker.wake()
        self.app.updates = self.updates  # staff mode's Update now and Go back

    def _start_control(self) -> None:
        """The CLI's commands answered by this kiosk (kiosk/control/)."""
        from kiosk.control.context import Context
        from kiosk.control.server import ControlServer, socket_path

        worker = self.workers[0] if self.workers else None
        context = Context(
            self.config, self.repos, self.devices, worker, running=True, updates=self.updates
        )
        try:
            self.control = ControlServer(socket_path(self.config), context).start()
        except OSError as exc:  # the kiosk serves customers without it
            log.error("control socket not opened at %s: %s", socket_path(self.config), exc)

    def health_checks(self) -> list[HealthCheck]:
        """What a restart would mend: the data folder no longer writable (a remounted SD
        card), the sync or locker thread dead. A device that is merely unplugged or out of
        paper is not one: the kiosk says so on screen and carries on."""
        data = self.config.data_path

        def data_writable() -> str:
            return "" if os.access(data, os.W_OK) else f"{data} not writable"

        def threads_alive() -> str:
            threads = [("sync", w) for w in self.workers]
            if self.updates is not None:
                threads.append(("updates", self.updates.manager))
            lockers = getattr(self.devices, "lockers", None)
            if lockers is not None:
                threads.append(("lockers", lockers))
            dead = [name for name, thread in threads if not thread.alive()]
            return f"{', '.join(dead)} thread stopped" if dead else ""

        return [data_writable, threads_alive]

    def _stop_gently(self, signum: int, _frame: object) -> None:
        # systemd stops with SIGTERM: leave the loop so the store and devices close
        from kivy.clock import Clock

        log.info("signal %d: stopping", signum)
        Clock.schedule_once(lambda _dt: self.app.stop())

    def close(self) -> None:
        self.supervisor.stopping()
        if self.control is not None:
            self.control.stop()
        for worker in self.workers:
            worker.stop()
        if self.updates is not None:
            self.updates.manager.stop()
        if self.devices is not None:
            self.devices.close()
        if self.repos is not None:
            self.repos.store.close()


def _stop_after_first_frame(app: object, path: Path, wait_until_ready: bool) -> None:
    """For the benchmark: note when the first frame reached the screen; stop then, or
    once the kiosk is ready when that is measured too."""
    from kivy.clock import Clock
    from kivy.core.window import Window

    def flipped(*_args: object) -> None:
        Window.unbind(on_flip=flipped)
        path.write_text(repr(time.time()))
        if not wait_until_ready:
            app.stop()  # type: ignore[attr-defined]

    def ready(_app: object, _value: object) -> None:
        # not inside the property's dispatch: the .kv bindings on `ready` still need the app
        Clock.schedule_once(lambda _dt: app.stop(), 0)  # type: ignore[attr-defined]

    Window.bind(on_flip=flipped)
    if wait_until_ready:
        app.bind(ready=ready, out_of_order=ready)  # type: ignore[attr-defined]
