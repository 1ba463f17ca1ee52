"""The locker co-processor, simulated by its own firmware: `firmware/locker_controller`
runs on MicroPython's WebAssembly port under Node (`firmware/host/run.mjs sim`), on the
master side of a pseudo-terminal whose other side the kiosk opens as it would the Pico's
/dev/ttyACM0. The firmware's lock outputs drive a 74HC595 model; doors are played by a
`DoorPlayer`; the chip can be restarted or made to hang (its watchdog then resets it).

Needs Node and `firmware/host/node_modules` (`make install`) and the micropython-lib
modules in build/firmware-lib (`make firmware-lib`)."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import shutil
import subprocess
import tempfile
import threading
import time
import tty
from pathlib import Path

from kiosk.drivers.drawer.bank import LockerError
from kiosk.drivers.drawer.simulator import DoorPlayer

ROOT = Path(__file__).resolve().parents[3]
FIRMWARE = ROOT / "firmware"
LIB = ROOT / "build" / "firmware-lib"


def flashed(folder: Path) -> Path:
    """A Pico's file system as `kiosk firmware flash` leaves it: the firmware at the top,
    micropython-lib's logging under lib/."""
    for source in (FIRMWARE / "locker_controller").glob("*.py"):
        shutil.copy(source, folder / source.name)
    shutil.copytree(LIB / "logging", folder / "lib" / "logging", dirs_exist_ok=True)
    return folder


class PicoSimulator:
    """`flash`: the chip's file system (a folder); by default a fresh one holding the
    firmware as flashed. An empty folder is a Pico with MicroPython and nothing else."""

    def __init__(
        self,
        lockers: dict[str, int],
        *,
        outputs: int | None = None,
        open_after_s: float = 0.3,
        close_after_s: float = 2.0,
        flash: Path | None = None,
    ) -> None:
        node = shutil.which("node")
        if node is None or not (FIRMWARE / "host" / "node_modules").is_dir() or not LIB.is_dir():
            raise LockerError(
                "the co-processor simulator needs Node, firmware/host/node_modules and "
                "build/firmware-lib: run `make install`"
            )
        self._channels = lockers
        self._lockers_at = {channel: name for name, channel in lockers.items()}
        self.outputs = outputs or max(lockers.values())
        self.doors = DoorPlayer(
            self._set_door, list(lockers), open_after_s=open_after_s, close_after_s=close_after_s
        )
        self.behaviour = self.doors.behaviour
        self.energised_at: list[tuple[str, float]] = []
        self.boots: list[dict[str, int]] = []
        self._on: set[int] = set()
        self._cut: set[str] = set()
        self._master, self._slave = pty.openpty()
        tty.setraw(self._master)
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        self._ready = threading.Event()
        self._write_lock = threading.Lock()
        self._own_flash = None
        if flash is None:
            self._own_flash = tempfile.TemporaryDirectory(prefix="pico-flash-")
            flash = flashed(Path(self._own_flash.name))
        self.flash = flash
        self.mode = ""
        self._proc = subprocess.Popen(
            [node, "run.mjs", "sim", str(flash), str(self.outputs)],
            cwd=FIRMWARE / "host",
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            pass_fds=(self._master,),
            env={**os.environ, "SERIAL_FD": str(self._master)},
            text=True,
        )  # fmt: skip
        self._reader = threading.Thread(target=self._listen, name="pico-sim", daemon=True)
        self._reader.start()
        if not self._ready.wait(10):
            self.stop()
            raise LockerError("the co-processor simulator did not start within 10 s")

    def _listen(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue  # the firmware's own print, not an event
            if event.get("ready"):
                self.mode = event["mode"]
                self._ready.set()
            elif "boot" in event:
                self.boots.append(event)
            elif "lock" in event:
                channel, on = event["lock"], event["on"]
                name = self._lockers_at.get(channel)
                if on and channel not in self._on and name is not None:
                    self.energised_at.append((name, time.monotonic()))
                    self.doors.pulsed(name)
                (self._on.add if on else self._on.discard)(channel)

    def _tell(self, event: dict[str, object]) -> None:
        with self._write_lock, contextlib.suppress(OSError, ValueError):
            assert self._proc.stdin is not None
            self._proc.stdin.write(json.dumps(event) + "\n")
            self._proc.stdin.flush()

    def _set_door(self, locker: str, open_: bool) -> None:
        if locker in self._cut:
            return
        self._tell({"door": self._channels[locker], "open": open_})

    # -- the world, for tests and the demo --
    def start(self) -> None:
        """Already running since construction (the firmware boots at once)."""

    def energised(self, locker: str) -> bool:
        return self._channels[locker] in self._on

    def cut_wire(self, locker: str) -> None:
        self._tell({"door": self._channels[locker], "open": True})
        self._cut.add(locker)

    def restart(self) -> None:
        self._tell({"restart": True})

    def hang(self, ms: int) -> None:
        self._tell({"hang_ms": ms})

    def stop(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            if self._proc.stdin is not None:
                self._proc.stdin.close()
        try:
            self._proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)
        if self._own_flash is not None:
            self._own_flash.cleanup()
