"""The real kiosk, started as its unit starts it (the launcher, full screen on an 800×480
X screen), updated from a real TUF repository served by a real back office:

1. it runs the factory release (0.1.0) and syncs what it holds;
2. the back office's rollout asks for 0.2.0: the kiosk fetches and verifies it, waits
   for a quiet moment (attract screen, nothing critical unsynced; the shop is closed),
   leaves for the launcher, which switches; 0.2.0 keeps customers out until it is
   healthy (a person at the screen sees the start buttons disabled), confirms itself,
   opens, and reports 0.2.0 to the back office;
3. the rollout asks for 0.3.0, a release that migrates the store to a format 0.2.0
   cannot read and then crashes: after three starts the launcher goes back to 0.2.0
   with the store's copy, 0.2.0 opens it, every record is there, the back office holds
   each operation once, and the fleet page says what happened.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from backoffice.db import AppliedOperation, Kiosk
from backoffice.updates.rollout import set_rollout
from kiosk.sync.client import BackOfficeClient, enroll
from kiosk.updates import launcher
from tests.browser import screenshot
from tests.ui.conftest import WHOLE_SCREEN
from tests.updates.releases import ROOT, make_release
from tours.person import PANELS, Person, Widget
from tours.person_run import config_text
from tours.xserver import XServer

pytestmark = [
    pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb is installed by `make install`"),
    pytest.mark.xdist_group(WHOLE_SCREEN),
]

# 0.3.0: the real storage code writes the store in a format 3 (what a release with a
# new store format does at its first start), then the release dies
MIGRATE_AND_CRASH = f"""#!/bin/sh
echo "$KIOSK_RELEASE start" >> "$RELEASE_LOG"
PYTHONPATH="{ROOT}" {sys.executable} -c '
import sys
import kiosk.storage.snapshot as snapshot
from kiosk.storage.store import Store
snapshot.FORMAT_VERSION = 3
store = Store(sys.argv[1])
store.compact()
store.close()
' "$STORE" && echo "$KIOSK_RELEASE migrated" >> "$RELEASE_LOG"
exit 3
"""

SEED = """
import sys
from kiosk.config import load
from kiosk.domain.plain import to_plain
from kiosk.services.context import open_kiosk_store
from tests.factories import customer
from datetime import UTC, datetime

repos = open_kiosk_store(load(sys.argv[1]))
for n in range(3):
    c = customer(account_number=f"DEMO-00010{n}", last_name=f"Durand{n}")
    repos.customers.add(c)
    repos.outbox.enqueue("customer.created", to_plain(c), key=f"customer:{c.account_number}",
                         now=datetime.now(UTC))
repos.store.close()
"""


def heartbeat(server, kiosk_id: str = "K1") -> dict:
    with server.office.sessions() as s:
        beat = s.scalar(select(Kiosk.heartbeat).where(Kiosk.kiosk_id == kiosk_id))
    return dict(beat or {})


def wait(what: str, until, timeout_s: float, kiosk: subprocess.Popen[bytes], log: Path):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = until()
        if found:
            return found
        if kiosk.poll() is not None:
            raise AssertionError(f"the launcher left ({kiosk.returncode}) waiting for {what}:\n"
                                 + log.read_text()[-3000:])  # fmt: skip
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout_s} s\n" + log.read_text()[-3000:])


def wait_while_open(version, server, config, kiosk, log_path) -> None:
    """The release is fetched, then waits: the shop is open."""

    def downloaded() -> bool:
        beat = heartbeat(server).get("update") or {}
        return beat.get("downloaded") == version and beat.get("activity") == "downloaded"

    wait(f"{version} downloaded", downloaded, 90, kiosk, log_path)
    time.sleep(5)  # several quiet moments go by: the shop is open, nothing switches
    assert downloaded() and launcher.status(config.parent / "store" / "updates").get(
        "pending") is None  # fmt: skip


def enter_staff_devices(person: Person) -> None:
    """The hidden corner (three taps), the technician's PIN, Devices."""
    tree = person.wait(lambda t: t.screen == "attract", "the attract screen", 30)
    kh = tree.raw["window"][1]  # Kivy counts y from the bottom: the top-left corner
    corner = Widget({"seen": [8, kh - 40, 24, 24], "box": [8, kh - 40, 24, 24], "cls": "corner"})
    for _ in range(3):
        person.tap(person.tree(), corner)
    person.wait_screen("staff_pin")
    person.type("2468")
    person.tap_id("go", "staff_pin")
    person.tap_id("devices", "staff_menu")
    person.wait_screen("staff_devices")


def staff_update_now(person: Person) -> None:
    """A technician at the screen: the hidden corner, the PIN, Devices, Software,
    Update now; the release goes in once they sign out."""
    enter_staff_devices(person)
    person.scroll_to("update_now")
    person.shot("staff-software-before")
    person.tap_id("update_now")
    tree = person.wait(
        lambda t: "leave staff mode" in (t.one(id="software").text or ""), "the answer", 10
    )
    assert "0.3.0 is downloaded" in tree.one(id="software").text
    person.shot("staff-software-update-now")
    person.tap_id("signout")
    assert not person.faults, person.faults


def staff_sees_what_went_back(person: Person) -> None:
    """After the automatic rollback: the technician reads why on the Software section;
    going back further is refused, with the reason (0.2.0 has no previous release)."""
    enter_staff_devices(person)
    tree = person.scroll_to("roll_back")
    said = tree.one(id="software").text
    assert "Running 0.2.0" in said
    assert "0.3.0 went back: not healthy after 3 starts (last: exit status 3)" in said
    person.tap_id("roll_back")
    person.wait(lambda t: "Not now: there is no previous release" in t.one(id="software").text,
                "the refusal", 10)  # fmt: skip
    person.shot("staff-software-after-rollback")
    person.tap_id("signout")
    assert not person.faults, person.faults


def update_now_when_downloaded(version, server, config, env, kiosk, log_path) -> None:
    """Staff's "Update now" from the technician's shell, through the running kiosk's
    control socket."""
    wait_while_open(version, server, config, kiosk, log_path)
    asked = subprocess.run(
        [sys.executable, "-m", "kiosk", "--config", str(config), "update", "now"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert asked.returncode == 0, asked.stderr
    assert asked.stdout == f"switching to {version} at the next quiet moment\n"


def stop_group(kiosk: subprocess.Popen[bytes]) -> None:
    """As systemd stops the unit: SIGTERM to every process in it, then wait for all of
    them (the kiosk closes its store after the restart loop itself has gone)."""
    os.killpg(kiosk.pid, signal.SIGTERM)
    kiosk.wait(timeout=30)
    deadline = time.monotonic() + 30
    while True:
        try:
            os.killpg(kiosk.pid, signal.SIGKILL if time.monotonic() > deadline else 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)


def fleet_page_with_three_versions(server) -> None:
    """Two more kiosks of the shop report as the kiosk's update code does: one still on
    the factory release, downloading; one on 0.3.0, whose migration held there. With K1
    (0.2.0, 0.3.0 rolled back) the fleet page shows three versions: in Chromium."""
    others = {
        "K2": {"running": "0.1.0", "downloaded": "", "failed": {}, "activity": "downloading",
               "error": "", "last_event": None},
        "K3": {"running": "0.3.0", "downloaded": "", "failed": {}, "activity": "idle",
               "error": "", "last_event": {"what": "confirmed", "version": "0.3.0"}},
    }  # fmt: skip
    for kiosk_id, report in others.items():
        answer = enroll(server.url, server.code(kiosk_id))
        client = BackOfficeClient(server.url, answer["credential"], timeout_s=5)
        client.heartbeat({"version": report["running"], "update": report})
        client.close()
    token = server.token_file.read_text().strip()
    url = f"{server.url}/fleet/{server.shop_id}"
    page = httpx.get(url, auth=("staff", token)).text
    assert "0.3.0: not healthy after 3 starts (last: exit status 3)" in page
    for running in ("<td>0.1.0</td>", "<td>0.2.0</td>", "<td>0.3.0</td>"):
        assert running in page
    shot = screenshot(url.replace("http://", f"http://staff:{token}@"),
                      ROOT / "build" / "updates" / "fleet-releases.png", (1280, 900))  # fmt: skip
    assert shot.stat().st_size > 20_000


def test_a_kiosk_is_updated_and_a_bad_release_goes_back(published, tmp_path: Path) -> None:
    server = published.server
    published.publish("0.2.0", "kiosk")
    published.publish("0.3.0", text=MIGRATE_AND_CRASH)
    panel = PANELS["800x480"]
    data, probe = tmp_path / "store", tmp_path / "probe"
    probe.mkdir()
    config = tmp_path / "kiosk.toml"
    config.write_text(
        config_text(panel, data).replace('id = "DEMO"', 'id = "K1"')
        + "\n[sync]\ninterval_s = 2\n"
        + f'\n[updates]\nroot = "{published.repo.metadata / "1.root.json"}"\n'
        + 'health_deadline_s = 120\nopening_hours = ["00:00-12:00", "12:00-00:00"]\n'
    )  # the shop never closes: only staff's "Update now" lets a release in
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "kiosk", "--config", str(config), "enroll",
                    server.url, server.code("K1")], check=True, env=env, cwd=ROOT)  # fmt: skip
    subprocess.run([sys.executable, "-c", SEED, str(config)], check=True, env=env, cwd=ROOT)
    subprocess.run([sys.executable, "-m", "kiosk", "--config", str(config), "staff", "add", "t1",
                    "Tess", "--role", "technician", "--pin-stdin"], input="2468\n", text=True,
                   check=True, env=env, cwd=ROOT)  # fmt: skip
    factory = make_release(tmp_path / "factory", "0.1.0", "kiosk")
    starts = tmp_path / "starts.log"
    x = XServer(panel.width, panel.height)
    log_path = tmp_path / "kiosk.log"
    log = log_path.open("wb")
    run_env = {
        **os.environ,
        "DISPLAY": x.display,
        "PYTHONPATH": str(ROOT / "tours" / "probe_site"),
        "KIOSK_PROBE_DIR": str(probe),
        "RELEASE_LOG": str(starts),
        "STORE": str(data),
    }
    run_env.pop("SDL_VIDEODRIVER", None)
    run_env.pop("KIOSK_RELEASE", None)
    # systemd's Restart=always, for the launcher's failed exits (a crashing release)
    restart = 'while :; do "$@"; [ $? -eq 0 ] && break; sleep 0.5; done'
    kiosk = subprocess.Popen(
        ["sh", "-c", restart, "sh", sys.executable, "-I", launcher.__file__,
         "--state-dir", str(data / "updates"), "--factory", str(factory),
         "--", "--config", str(config), "run", "--fullscreen"],
        env=run_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    person = Person(panel, probe, tmp_path / "shots", x.display)
    try:
        # 1. the factory release runs and syncs the three customers it holds
        wait("0.1.0 reported", lambda: heartbeat(server).get("version") == "0.1.0", 90,
             kiosk, log_path)  # fmt: skip
        assert heartbeat(server)["update"]["running"] == "0.1.0"
        # 2. 0.2.0 asked for: fetched, switched to in a quiet moment, held, confirmed
        set_rollout(server.office.sessions, server.shop_id, version="0.2.0")
        update_now_when_downloaded("0.2.0", server, config, env, kiosk, log_path)
        seen_held = False

        def confirmed_020() -> bool:
            nonlocal seen_held
            state = launcher.status(data / "updates")
            if (state.get("current") or {}).get("version") == "0.2.0":
                try:
                    tree = person.tree(timeout=5)
                except Exception:  # the window between two releases: nobody to ask
                    return False
                buttons = [w for w in tree.find(cls="BigButton") if w.get("text") in (
                    "Start in English", "Commencer en français")]  # fmt: skip
                healthy = launcher.read_json(data / "updates" / launcher.HEALTHY) or {}
                if buttons and all(w.disabled for w in buttons):
                    seen_held = True
                    person.shot("0.2.0-held")
                elif buttons:  # customers may start only once it is confirmed
                    assert healthy.get("version") == "0.2.0", "open before it was healthy"
            beat = heartbeat(server).get("update") or {}
            return beat.get("running") == "0.2.0" and beat.get("activity") == "idle"

        wait("0.2.0 running and confirmed", confirmed_020, 180, kiosk, log_path)
        state = launcher.status(data / "updates")
        assert state["current"]["version"] == "0.2.0" and state["pending"] is None
        assert [e["what"] for e in state["events"]] == ["switched", "confirmed"]
        assert seen_held, "the person never saw the new release hold customers back"
        assert starts.read_text().split("\n")[:-1] == ["factory start", "0.2.0 start"]
        # 3. 0.3.0 migrates the store and crashes: back to 0.2.0 with the store's copy
        set_rollout(server.office.sessions, server.shop_id, version="0.3.0")
        wait_while_open("0.3.0", server, config, kiosk, log_path)
        staff_update_now(person)
        started = time.monotonic()
        wait(
            "0.3.0 rolled back and reported",
            lambda: "0.3.0" in ((heartbeat(server).get("update") or {}).get("failed") or {}),
            240,
            kiosk,
            log_path,
        )
        back_in = time.monotonic() - started
        beat = heartbeat(server)
        assert beat["version"] == "0.2.0"
        assert beat["update"]["failed"]["0.3.0"] == (
            "not healthy after 3 starts (last: exit status 3)"
        )
        assert starts.read_text().count("0.3.0 start") == 3
        assert starts.read_text().count("0.3.0 migrated") == 3  # the store was rewritten
        person.wait(lambda t: t.screen == "attract" and any(
            not w.disabled for w in t.find(cls="BigButton")), "0.2.0 open again", 120)  # fmt: skip
        person.shot("0.2.0-back")
        staff_sees_what_went_back(person)
        status = subprocess.run(
            [sys.executable, "-m", "kiosk", "--config", str(config), "update", "status"],
            env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=True,
        ).stdout  # fmt: skip
        assert "running    0.2.0\n" in status and "previous   -\n" in status
        assert "failed     0.3.0: not healthy after 3 starts (last: exit status 3)" in status
        assert "rolled back 0.3.0: not healthy after 3 starts" in status  # the last events
        # the store 0.2.0 reopened is the one it left: every customer, nothing owed twice
        with server.office.sessions() as s:
            ops = s.execute(
                select(AppliedOperation.op_id, func.count()).group_by(AppliedOperation.op_id)
            ).all()
        assert len(ops) == 3 and all(count == 1 for _, count in ops)
        print(f"0.3.0 went back in {back_in:.1f} s")
        fleet_page_with_three_versions(server)
    finally:
        stop_group(kiosk)
        log.close()
        x.stop()
    # after the kiosk stopped: its store opens, with the three customers
    check = subprocess.run(
        [sys.executable, "-c", "import sys; from kiosk.config import load; "
         "from kiosk.services.context import open_kiosk_store; "
         "r = open_kiosk_store(load(sys.argv[1])); "
         "print(sorted(c.account_number for c in r.customers.all()), r.outbox.pending_count())",
         str(config)], env=env, cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert check.stdout.strip() == "['DEMO-000100', 'DEMO-000101', 'DEMO-000102'] 0"
    if (shots := tmp_path / "shots").exists():
        out = ROOT / "build" / "updates"
        out.mkdir(parents=True, exist_ok=True)
        for shot in shots.glob("*.png"):
            shutil.copyfile(shot, out / shot.name)
