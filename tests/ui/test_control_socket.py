"""A running kiosk answers its own CLI (issue 15 §2): `kiosk run` (simulated devices,
Xvfb) serves a pickup; while the customer is at the bill, a technician's `kiosk outbox`,
`kiosk sync status`, `kiosk doctor` and `kiosk staff list` are answered by the kiosk
through its control socket (the store's lock is the kiosk's the whole time); after it
stops, the same commands open the store themselves and say the same thing."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

from tests.ui.test_screens import ROOT, SHOTS, on_a_screen


def kiosk(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "kiosk", "--config", "demo", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_the_running_kiosk_answers_its_cli_while_it_serves_a_customer(tmp_path: Path):
    out = SHOTS / "asked_while_serving"
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "KIOSK_DEMO_DIR": str(tmp_path / "store"), "PYTHONPATH": str(ROOT)}

    def add(member: str, name: str, pin: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "kiosk", "--config", "demo", "staff", "add", member, name,
             "--pin-stdin"], cwd=ROOT, env=env, input=pin + "\n", capture_output=True, text=True,
        )  # fmt: skip

    assert add("x1", "Xavier", "9191").returncode == 0  # before the run: the CLI's own store
    command = [sys.executable, "-m", "tours.play", "asked_while_serving", "--out", str(out)]
    with on_a_screen(env, "1280x800"):
        run = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)  # fmt: skip
        try:
            deadline = time.monotonic() + 120
            while not (out / "at-bill").exists():
                assert run.poll() is None, run.stderr.read()[-3000:] if run.stderr else ""
                assert time.monotonic() < deadline, "the scenario never reached the bill"
                time.sleep(0.2)
            socket = tmp_path / "store" / "control.sock"
            assert stat.S_ISSOCK(socket.stat().st_mode)
            assert stat.S_IMODE(socket.stat().st_mode) == 0o660
            live = {
                name: kiosk(env, *args)
                for name, args in {
                    "outbox": ("outbox", "--json"),
                    "status": ("sync", "status"),
                    "doctor": ("doctor",),
                    "staff": ("staff", "list"),
                }.items()
            }
            added = add("x2", "Yasmin", "9292")  # a write, made by the running kiosk
            (out / "asked").write_text("done")
            _, stderr = run.communicate(timeout=120)
            assert run.returncode == 0, stderr[-3000:]
        finally:
            if run.poll() is None:
                run.kill()
                run.wait()
    result = json.loads((out / "result.json").read_text())
    assert result["ok"], result["failure"]
    assert result["notes"]["order_state"] == "collected"
    for name, done in live.items():
        assert done.returncode == 0, (name, done.stdout, done.stderr)
    assert "pending" in json.loads(live["outbox"].stdout)
    assert "queue depth" in live["status"].stdout
    doctor_rows = live["doctor"].stdout.splitlines()
    for device in ("printer", "terminal", "scanner", "lockers"):
        assert any(r.startswith(device) and " ready " in r for r in doctor_rows), doctor_rows
    for request in ("outbox", "sync status", "doctor", "staff list", "staff add"):
        assert f"control: {request} " in stderr, stderr[-3000:]
    assert not socket.exists()  # removed when the kiosk stopped
    stopped = kiosk(env, "staff", "list")  # now the CLI opens the store itself
    assert added.returncode == 0, added.stderr
    assert stopped.returncode == 0
    before = live["staff"].stdout.splitlines()  # asked of the running kiosk
    after = stopped.stdout.splitlines()  # asked of the store, the kiosk stopped
    assert [line.split()[0] for line in after] == sorted([*(b.split()[0] for b in before), "x2"])
    assert set(before) <= set(after)
    assert "9292" not in stderr  # the PIN is not logged
