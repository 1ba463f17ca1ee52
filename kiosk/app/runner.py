"""`kiosk run`: the kiosk as it runs in the shop, or one scripted journey for the tests
and the demo tour. Kivy is configured (window, input, its home folder) before it is
imported, so nothing from the user's own ~/.kivy leaks in."""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kiosk.config import Config
from kiosk.memory import large_blocks_from_mmap
from kiosk.systemd_notify import HealthCheck, Supervisor, watchdog_interval_s

log = logging.getLogger(__name__)


def configure_kivy(kivy_home: Path, size: tuple[int, int], fullscreen: bool, dpi: int = 0) -> None:
    kivy_home.mkdir(parents=True, exist_ok=True)
    if dpi:
        os.environ["KIVY_DPI"] = str(dpi)  # touch targets in real millimetres
    os.environ["KIVY_HOME"] = str(kivy_home)
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    from kivy.config import Config as KivyConfig

    KivyConfig.set("graphics", "width", str(size[0]))
    KivyConfig.set("graphics", "height", str(size[1]))
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


def run(
    config: Config,
    *,
    size: tuple[int, int] = (1024, 600),
    fullscreen: bool = False,
    scenario: str = "",
    out: Path | None = None,
    clock_now: datetime | None = None,
    first_frame: Path | None = None,
    ready_mark: Path | None = None,
) -> int:
    large_blocks_from_mmap()  # big transient buffers (scrypt's) must not stay resident
    configure_kivy(config.data_path / "kivy", size, fullscreen, config.kiosk.screen_dpi)
    # python-escpos rebuilds its capability pickle in a new temporary folder on every
    # start (~0.2 s) unless told where to keep it
    cache = config.data_path / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("ESCPOS_CAPABILITIES_PICKLE_DIR", str(cache))
    from kivy.clock import Clock

    from kiosk.app.main import KioskApp

    app = KioskApp(config)
    supervisor = Supervisor()
    opened: dict[str, object] = {}
    workers: list[object] = []

    def open_everything() -> None:
        """On a worker thread, while the attract screen is already up."""
        try:
            from kiosk.services.context import open_kiosk_store
            from kiosk.services.devices import open_devices
            from kiosk.services.kiosk import build_services

            opened["repos"] = repos = open_kiosk_store(config)
            opened["devices"] = devices = open_devices(config)
            clock = (lambda: clock_now) if clock_now else (lambda: datetime.now(UTC))
            services = build_services(config, repos, devices, clock)
            report = services.startup()
            for line in report.done:
                log.warning("startup: %s", line)
            for line in report.left_open:  # staff mode lists them with "resolve now"
                log.error("startup: unresolved payment %s", line)
            if scenario:
                load_scenarios().prepare(services)
            result: object = services
        except Exception as exc:  # shown on the attract screen: "out of order"
            log.exception("the kiosk could not start")
            result = exc
        if ready_mark is not None:
            ready_mark.write_text(repr(time.time()))
        Clock.schedule_once(lambda _dt: attached(result))

    def attached(result: object) -> None:
        app.attach(result)  # type: ignore[arg-type]
        if app.ready:
            _start_sync(config, opened["repos"], app.services.clock, workers)
            supervisor.checks = _health_checks(config, opened, workers)
            supervisor.ready()
            interval = watchdog_interval_s()
            if interval:  # from the Kivy loop: a frozen UI stops the pings too
                Clock.schedule_interval(lambda _dt: supervisor.tick(), interval)
        else:
            supervisor.failed_to_start(app.out_of_order)

    try:
        if scenario:
            from tours.driver import Driver

            scenarios = load_scenarios()

            assert out is not None
            out.mkdir(parents=True, exist_ok=True)
            # Kivy's Clock holds bound methods weakly: the app must keep the driver alive.
            app.driver = Driver(app, scenarios.SCENARIOS[scenario], out)
            app.driver.install()
        if first_frame is not None:
            _stop_after_first_frame(app, first_frame, ready_mark is not None)
        from kivy.core.window import Window

        def after_first_frame(*_args: object) -> None:
            # Only now: the imports behind the use cases would hold the GIL while Kivy
            # draws its first frame.
            Window.unbind(on_flip=after_first_frame)
            threading.Thread(target=open_everything, name="kiosk-start", daemon=True).start()

        Window.bind(on_flip=after_first_frame)

        def stop_gently(signum: int, _frame: object) -> None:
            # systemd stops with SIGTERM: leave the loop so the store and devices close
            log.info("signal %d: stopping", signum)
            Clock.schedule_once(lambda _dt: app.stop())

        signal.signal(signal.SIGTERM, stop_gently)
        app.run()
    finally:
        supervisor.stopping()
        for worker in workers:
            worker.stop()  # type: ignore[attr-defined]
        if "devices" in opened:
            opened["devices"].close()  # type: ignore[attr-defined]
        if "repos" in opened:
            opened["repos"].store.close()  # type: ignore[attr-defined]
    if scenario and out is not None:
        result = json.loads((out / "result.json").read_text())
        return 0 if result["ok"] else 1
    return 0


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


def _health_checks(
    config: Config, opened: dict[str, object], workers: list[object]
) -> list[HealthCheck]:
    """What a restart would mend: the data folder no longer writable (a remounted SD
    card), the sync or locker thread dead. A device that is merely unplugged or out of
    paper is not one: the kiosk says so on screen and carries on."""

    def data_writable() -> str:
        return "" if os.access(config.data_path, os.W_OK) else f"{config.data_path} not writable"

    def threads_alive() -> str:
        threads = [("sync", getattr(w, "_thread", None)) for w in workers]
        lockers = getattr(opened.get("devices"), "lockers", None)
        threads.append(("lockers", getattr(lockers, "_thread", None)))
        dead = [name for name, t in threads if t is not None and not t.is_alive()]
        return f"{', '.join(dead)} thread stopped" if dead else ""

    return [data_writable, threads_alive]


def _start_sync(config: Config, repos: object, clock: object, workers: list[object]) -> None:
    try:
        from kiosk.services.sync import make_worker

        worker = make_worker(config, repos, clock)  # type: ignore[arg-type]
    except Exception as exc:  # not enrolled, or no back office configured: offline
        log.info("sync not started: %s", exc)
        return
    worker.start()
    workers.append(worker)


def load_scenarios() -> Any:
    """The scripted journeys: in the source tree's `tours/` package, not in the kiosk's."""
    try:
        from tours import scenarios
    except ImportError as exc:
        raise SystemExit(
            "--scenario needs the tours/ package of the source tree: run from the project "
            f"folder ({exc})"
        ) from exc
    return scenarios
