"""One person at one panel: an X server of the panel's size with no window manager, the
kiosk started as its systemd unit starts it, and a journey list played by a `Person`.

`play(size, lang, out)` returns what the person saw: the faults, the steps, where they
got stuck if they did, and what the store holds afterwards (read by a separate process
once the kiosk has stopped, as the back office would learn it).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tours.person import PANELS, Panel, Person, PersonStuck
from tours.xserver import XServer

ROOT = Path(__file__).resolve().parents[1]


def config_text(panel: Panel, data: Path, rotation: int = 0) -> str:
    """A kiosk.toml as a technician writes it: this panel's DPI, simulated devices."""
    pins = [(17, 27), (22, 23), (24, 25), (5, 6)]
    lockers = "".join(
        f'\n[[lockers.locker]]\nid = "{n}"\nlock_pin = {lock}\ndoor_pin = {door}\n'
        for n, (lock, door) in enumerate(pins, start=1)
    )
    return f"""[shop]
name = "Atelier Vélo & Réparation"
address_lines = ["12 rue des Artisans", "75011 Paris"]

[kiosk]
id = "DEMO"
data_dir = "{data}"
dropoff_locker = "4"
screen_dpi = {panel.dpi}
rotation = {rotation}
idle_timeout_s = 600

[printer]
sim_output_dir = "{data / "printed"}"

[lockers]
backend = "gpio"
pin_factory = "mock"
{lockers}"""


def seed(config: Path, paid_ahead: str = "0") -> None:
    """The shop's data as the back office would have synced it (tours/shop.py), in a
    process of its own; `paid_ahead`: a deposit on the statement's account, so what is
    owed is less than its open invoices."""
    code = f"from tours.person_run import _seed; _seed({str(config)!r}, {paid_ahead!r})"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120, env=env)


def _seed(config: str, paid_ahead: str) -> None:
    from dataclasses import replace
    from datetime import UTC, datetime

    from kiosk.config import load
    from kiosk.domain.money import Money
    from kiosk.services.context import open_kiosk_store
    from kiosk.services.kiosk import build_services
    from kiosk.services.machine.devices import open_devices
    from tours.shop import EUR, prepare

    cfg = load(config)
    repos, devices = open_kiosk_store(cfg), open_devices(cfg)
    try:
        prepare(build_services(cfg, repos, devices, lambda: datetime.now(UTC)))
        customer = repos.customers.require("K1-000042")
        assert customer.credit is not None
        credit = replace(customer.credit, unapplied_deposits=Money(paid_ahead, EUR))
        repos.customers.save(customer.with_credit(credit))
    finally:
        devices.close()
        repos.store.close()


def report(config: Path) -> dict[str, Any]:
    code = (
        "import json; from tours.person_run import _report; "
        f"print(json.dumps(_report({str(config)!r})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        timeout=120,
        check=True,
    )
    return dict(json.loads(done.stdout.decode().strip().splitlines()[-1]))


def _report(config: str) -> dict[str, Any]:
    """What the store holds after the journeys (run in its own process)."""
    from kiosk.config import load
    from kiosk.services.context import open_kiosk_store

    repos = open_kiosk_store(load(config))
    try:
        customers = [
            {
                "last_name": c.last_name,
                "first_name": c.first_name,
                "email": c.email,
                "mobile": c.mobile,
                "preference": c.contact_preference.value,
            }
            for c in repos.customers.all()
            if c.account_number.startswith("DEMO-")
        ]
        orders = {o.number: o.state.value for o in repos.orders.all()}
        invoices = {i.number: i.status.value for i in repos.invoices.all()}
        payments = [
            [str(p.amount.amount), p.method.value, list(p.invoice_numbers)]
            for p in repos.payments.all()
        ]
        return {
            "new_customers": customers,
            "orders": orders,
            "invoices": invoices,
            "payments": payments,
        }
    finally:
        repos.store.close()


def start_kiosk(config: Path, display: str, probe: Path, log: Any) -> subprocess.Popen[bytes]:
    """`kiosk run --fullscreen` as systemd/kiosk.service starts it, with the probe."""
    env = {
        **os.environ,
        "DISPLAY": display,
        "PYTHONPATH": f"{ROOT / 'tours' / 'probe_site'}{os.pathsep}{ROOT}",
        "KIOSK_PROBE_DIR": str(probe),
    }
    env.pop("SDL_VIDEODRIVER", None)
    return subprocess.Popen(
        [sys.executable, "-m", "kiosk", "--config", str(config), "run", "--fullscreen"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_kiosk(kiosk: subprocess.Popen[bytes]) -> None:
    os.killpg(kiosk.pid, signal.SIGTERM)
    try:
        kiosk.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(kiosk.pid, signal.SIGKILL)
        kiosk.wait()


def play(
    size: str,
    lang: str,
    out: Path,
    journeys: list[Callable[[Person, str], dict[str, Any]]],
    paid_ahead: str = "0",
) -> dict[str, Any]:
    panel = PANELS[size]
    shutil.rmtree(out, ignore_errors=True)
    data, probe, shots = out / "store", out / "probe", out / "shots"
    for folder in (data, probe, shots):
        folder.mkdir(parents=True, exist_ok=True)
    config = out / "kiosk.toml"
    config.write_text(config_text(panel, data))
    seed(config, paid_ahead)
    x = XServer(panel.width, panel.height)
    log = (out / "kiosk.log").open("wb")
    kiosk = start_kiosk(config, x.display, probe, log)
    person = Person(panel, probe, shots, x.display)
    result: dict[str, Any] = {"size": size, "lang": lang, "journeys": {}, "stuck": ""}
    started = time.monotonic()
    try:
        for journey in journeys:
            try:
                result["journeys"][journey.__name__] = journey(person, lang)
            except PersonStuck as exc:
                result["stuck"] = f"{journey.__name__}: {exc}"
                break
    finally:
        result["seconds"] = round(time.monotonic() - started, 1)
        result["faults"] = [str(f) for f in person.faults]
        result["steps"] = person.steps
        stop_kiosk(kiosk)
        log.close()
        x.stop()
    result["store"] = report(config)
    (out / "result.json").write_text(json.dumps(result, indent=1, ensure_ascii=False))
    return result
