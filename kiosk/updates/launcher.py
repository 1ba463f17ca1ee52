"""The kiosk's launcher: what systemd starts, and the one part of the kiosk an update
never replaces (provisioning copies this file to /opt/kiosk/bin/kiosk-launcher; it uses
only the standard library, so it runs on the system's Python whatever a release holds).

It starts the current release's `bin/kiosk` as its child and owns `state.json` in the
update folder: which release is current, which one it replaced, and a switch waiting
for its confirmation. The running kiosk only drops requests beside it:

- `switch.json` (then exits with SWITCH_EXIT): switch to a downloaded release. The
  launcher copies the store's files (the kiosk has stopped writing them), makes the new
  release current and the old one previous, and starts it with a deadline.
- `healthy.json`: the new release reached "healthy" (window, store, devices, one sync
  round). The switch is confirmed.
- `rollback.json` (then exits with SWITCH_EXIT): staff asked to go back.

A switch not confirmed goes back on its own: after MAX_STARTS starts that ended without
confirmation (a crash loop; systemd's watchdog killing us counts, since the next start
finds the count already raised), or when the deadline passes while it runs. Going back
restores the store's copy, makes the previous release current again and writes why in
`failed`, which the kiosk reports to the back office. Every state change is one atomic
replace of `state.json`, so a power cut at any point leaves the old or the new state.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

SWITCH_EXIT = 75  # EX_TEMPFAIL: "start me again", with a request beside the state
MAX_STARTS = 3
STATE = "state.json"
SWITCH = "switch.json"
HEALTHY = "healthy.json"
ROLLBACK = "rollback.json"
STOP_GRACE_S = 20.0
KEEP_EVENTS = 30
# what a release may tell systemd through the launcher (NotifyAccess=main stays)
RELAYED = (b"READY=", b"WATCHDOG=", b"STATUS=", b"STOPPING=")


def read_json(path: Path) -> dict[str, Any] | None:
    """A request or state file, or None when absent or unreadable (a torn write)."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def write_json(path: Path, value: dict[str, Any]) -> None:
    """Whole or not at all: a temporary file, fsynced, renamed, the folder fsynced."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=1, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy_durably(src: Path, dst: Path) -> None:
    tmp = dst.with_name(f".{dst.name}.tmp")
    shutil.copyfile(src, tmp)
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, dst)


class Launcher:
    def __init__(
        self,
        state_dir: Path,
        factory: Path,
        args: list[str],
        *,
        max_starts: int = MAX_STARTS,
        clock: Any = time.time,
    ) -> None:
        self.dir = state_dir
        self.factory = factory  # the release provisioning installed (/opt/kiosk/venv)
        self.args = args
        self.max_starts = max_starts
        self.clock = clock
        self.child: subprocess.Popen[bytes] | None = None
        self.stopping = False
        self.notify_env = self._relay_notifications()
        self.dir.mkdir(parents=True, exist_ok=True)
        self.state = read_json(self.dir / STATE) or {}
        self.state.setdefault("current", {"version": "", "path": str(factory)})
        self.state.setdefault("previous", None)
        self.state.setdefault("pending", None)
        self.state.setdefault("failed", {})
        self.state.setdefault("events", [])

    # -- state --
    def save(self) -> None:
        write_json(self.dir / STATE, self.state)

    def event(self, what: str, version: str, reason: str = "") -> None:
        line = {"at": round(self.clock(), 3), "what": what, "version": version}
        if reason:
            line["reason"] = reason
        self.state["events"] = (self.state["events"] + [line])[-KEEP_EVENTS:]
        print(f"kiosk-launcher: {what} {version or 'factory'} {reason}".rstrip(), flush=True)

    # -- requests the kiosk left --
    def take_requests(self) -> None:
        rollback = read_json(self.dir / ROLLBACK)
        if rollback is not None:
            if self.state["previous"]:
                self.roll_back(
                    str(rollback.get("reason") or "asked for by staff"),
                    restore=bool(rollback.get("restore_store")),
                )
            (self.dir / ROLLBACK).unlink(missing_ok=True)
        switch = read_json(self.dir / SWITCH)
        if switch is not None:
            self.switch(switch)
            (self.dir / SWITCH).unlink(missing_ok=True)

    def switch(self, request: dict[str, Any]) -> None:
        version, path = str(request.get("version", "")), Path(str(request.get("path", "")))
        if not version or not (path / "bin" / "kiosk").is_file():
            self.event("switch refused", version, f"no release at {path}")
            self.save()
            return
        copy = self.dir / f"store-before-{version}"
        store = request.get("store") or {}
        store_dir = Path(str(store.get("dir", "")))
        if store_dir.is_dir():
            shutil.rmtree(copy, ignore_errors=True)
            copy.mkdir()
            for name in store.get("files", []):
                if (store_dir / name).exists():
                    _copy_durably(store_dir / name, copy / name)
            _fsync_dir(copy)
        self.state["previous"] = self.state["current"]
        self.state["current"] = {
            "version": version,
            "path": str(path),
            # what going back restores, and the format the release before it wrote
            "store": {
                "dir": str(store_dir),
                "files": list(store.get("files", [])),
                "copy": str(copy) if store_dir.is_dir() else "",
                "format_before": request.get("store_format"),
            },
        }
        self.state["pending"] = {
            "version": version,
            "from": self.state["previous"].get("version", ""),
            "switched_at": round(self.clock(), 3),
            "deadline": round(self.clock() + float(request.get("deadline_s", 300)), 3),
            "starts": 0,
            "last_exit": "",
            "devices": request.get("devices", {}),
        }
        (self.dir / HEALTHY).unlink(missing_ok=True)
        self.event("switched", version, str(request.get("by", "")))
        self.save()

    def roll_back(self, reason: str, *, restore: bool = True) -> None:
        bad = self.state["current"]
        store = bad.get("store") or {}
        if restore and store.get("copy") and Path(store["copy"]).is_dir():
            copy, live = Path(store["copy"]), Path(store["dir"])
            for name in store.get("files", []):
                if (copy / name).exists():
                    _copy_durably(copy / name, live / name)
                else:  # the file did not exist before the switch
                    (live / name).unlink(missing_ok=True)
            _fsync_dir(live)
        self.state["failed"][bad.get("version", "")] = reason
        self.state["current"] = self.state["previous"]
        self.state["previous"] = None
        self.state["pending"] = None
        self.event("rolled back", bad.get("version", ""), reason)
        self.save()

    def confirmed(self) -> bool:
        pending = self.state["pending"]
        healthy = read_json(self.dir / HEALTHY)
        if pending is None or healthy is None or healthy.get("version") != pending["version"]:
            return False
        self.state["pending"] = None
        self.event("confirmed", pending["version"], str(healthy.get("detail", "")))
        self.save()
        return True

    # -- systemd --
    def _relay_notifications(self) -> dict[str, str]:
        """systemd hears only its main process (the launcher): the release's READY=1 and
        WATCHDOG=1 reach it through a socket of the launcher's, passed on as they come,
        so a release that stops feeding the watchdog is still killed."""
        upstream = os.environ.get("NOTIFY_SOCKET", "")
        if not upstream:
            return {}
        target = "\0" + upstream[1:] if upstream.startswith("@") else upstream
        name = f"kiosk-launcher-{os.getpid()}"
        inbox = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        inbox.bind("\0" + name)
        out = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)

        def relay() -> None:
            while True:
                data = inbox.recv(4096)
                lines = [ln for ln in data.split(b"\n") if ln.startswith(RELAYED)]
                if lines:
                    try:
                        out.sendto(b"\n".join(lines), target)
                    except OSError as exc:
                        print(f"kiosk-launcher: systemd not told: {exc}", flush=True)

        threading.Thread(target=relay, name="notify", daemon=True).start()
        return {"NOTIFY_SOCKET": "@" + name}

    # -- running --
    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._terminate)
        signal.signal(signal.SIGINT, self._terminate)
        while True:
            self.take_requests()
            pending = self.state["pending"]
            if pending is not None and not self.confirmed():
                pending["starts"] += 1
                self.save()
                if pending["starts"] > self.max_starts:
                    why = pending["last_exit"] or "killed from outside (watchdog or power)"
                    self.roll_back(f"not healthy after {self.max_starts} starts (last: {why})")
                    continue
                if self.clock() > pending["deadline"]:
                    self.roll_back("not healthy before its deadline")
                    continue
            code = self.run_child()
            if self.stopping:
                return 0
            if code == SWITCH_EXIT and any(
                (self.dir / name).exists() for name in (SWITCH, ROLLBACK)
            ):
                continue
            if code == -1:  # deadline passed while it ran: rolled back, start the previous
                continue
            pending = self.state["pending"]
            if pending is not None:
                pending["last_exit"] = _describe(code)
                self.save()
            return code if code > 0 else 1

    def run_child(self) -> int:
        current = self.state["current"]
        env = {**os.environ, "KIOSK_UPDATE_DIR": str(self.dir), **self.notify_env}
        env.pop("WATCHDOG_PID", None)  # the watchdog's pings come from the release
        if current.get("version"):
            env["KIOSK_RELEASE"] = current["version"]
        else:
            env.pop("KIOSK_RELEASE", None)
        program = str(Path(current["path"]) / "bin" / "kiosk")
        self.child = subprocess.Popen([program, *self.args], env=env)
        try:
            while True:
                try:
                    return self.child.wait(timeout=0.5)
                except subprocess.TimeoutExpired:
                    pass
                pending = self.state["pending"]
                if pending is None or self.confirmed():
                    continue
                if self.clock() > pending["deadline"]:
                    self._stop_child()
                    self.roll_back("not healthy before its deadline (it was running)")
                    return -1
        finally:
            self.child = None

    def _stop_child(self) -> None:
        child = self.child
        if child is None or child.poll() is not None:
            return
        child.terminate()
        try:
            child.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()

    def _terminate(self, signum: int, _frame: object) -> None:
        self.stopping = True
        if self.child is not None and self.child.poll() is None:
            self.child.send_signal(signum)


def _describe(code: int) -> str:
    if code < 0:
        return f"killed by signal {-code}"
    return f"exit status {code}"


def status(state_dir: Path) -> dict[str, Any]:
    """What the launcher last wrote (for `kiosk update status` and the heartbeat)."""
    return read_json(state_dir / STATE) or {}


def awaiting(state: dict[str, Any], version: str) -> bool:
    """Whether the launcher's `state` waits for release `version` to say it is healthy."""
    pending = state.get("pending") or {}
    return bool(pending) and pending.get("version") == version


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kiosk-launcher", description=__doc__.split("\n")[0])
    parser.add_argument("--state-dir", type=Path, default=Path("/var/lib/kiosk/updates"))
    parser.add_argument("--factory", type=Path, default=Path("/opt/kiosk/venv"))
    parser.add_argument("--max-starts", type=int, default=MAX_STARTS)
    parser.add_argument("args", nargs=argparse.REMAINDER, help="-- then `kiosk`'s arguments")
    ns = parser.parse_args(argv)
    args = ns.args[1:] if ns.args[:1] == ["--"] else ns.args
    return Launcher(ns.state_dir, ns.factory, args, max_starts=ns.max_starts).run()


if __name__ == "__main__":
    sys.exit(main())
