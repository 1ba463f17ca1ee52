"""The locker co-processor's firmware onto a Raspberry Pi Pico, with mpremote, and its
version checked (`kiosk firmware flash`, run by provisioning).

The Pico must already run MicroPython (its UF2, dragged onto the Pico's drive with
BOOTSEL held: docs/hardware.md). Then:

1. Ask the running firmware its version (HELLO). Already the source's: nothing to do.
2. A running firmware is asked for MAINTENANCE: it restarts into its REPL with every
   output off (main.py's flag file), where mpremote can work.
3. mpremote copies the firmware's modules and micropython-lib's logging (lib/); the
   board's wiring (board.py) only when the Pico has none or one is given, so a
   technician's edited wiring survives an update. Each copy is preceded by a touch so
   that mpremote's existence check never meets an error number it does not know.
4. The copied version.py is read back from the Pico's file system, the Pico reset (with
   main.py's flag saying the reset was asked for, not a stalled loop), and the firmware
   must answer HELLO with the new version within `answer_s`.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kiosk.drivers.drawer.bank import LockerFault
from kiosk.drivers.drawer.pico import PicoHardware

ASKED = "reset-asked"  # firmware/locker_controller/main.py: a reset that was asked for

ROOT = Path(__file__).resolve().parents[3]
SOURCES = (
    ROOT / "firmware" / "locker_controller",
    Path("/opt/kiosk/src/firmware/locker_controller"),
)
LIBS = (ROOT / "build" / "firmware-lib", Path("/var/lib/kiosk/firmware-lib"))


class FlashError(Exception):
    """The firmware could not be put on the Pico, or does not answer after."""


@dataclass(frozen=True)
class FlashResult:
    changed: bool
    version: str
    detail: str


def source_dir() -> Path:
    for folder in SOURCES:
        if (folder / "main.py").exists():
            return folder
    raise FlashError(f"no firmware source in {' or '.join(map(str, SOURCES))}")


def source_version(folder: Path) -> str:
    found = re.search(r'VERSION = "([^"]+)"', (folder / "version.py").read_text())
    if not found:
        raise FlashError(f"{folder / 'version.py'}: no VERSION")
    return found.group(1)


def lib_dir() -> Path:
    """micropython-lib's modules, fetched from the package index if not yet here."""
    for folder in LIBS:
        if (folder / "logging" / "__init__.py").exists():
            return folder
    fetch = source_dir().parent / "host" / "fetch_lib.py"
    target = LIBS[1] if not ROOT.joinpath("build").is_dir() else LIBS[0]
    done = subprocess.run([sys.executable, str(fetch), str(target)], capture_output=True, text=True)
    if done.returncode != 0:
        raise FlashError(f"micropython-lib could not be fetched: {done.stderr.strip()[-300:]}")
    return target


def device_version(port: str, reply_timeout_s: float = 0.3) -> str | None:
    """The running firmware's version, or None when nothing answers the protocol (a
    Pico in its REPL, a blank one, or none)."""
    hardware = PicoHardware.open_port(port, [])
    hardware.reply_timeout_s = reply_timeout_s
    hardware.attempts = 2
    try:
        hardware.hello()
        return hardware.version
    except LockerFault:
        return None
    finally:
        hardware.close()


def _mpremote(port: str, *commands: list[str]) -> str:
    args = [sys.executable, "-m", "mpremote", "connect", port, "resume"]
    for i, command in enumerate(commands):
        args += (["+"] if i else []) + command
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise FlashError(f"mpremote failed: {(done.stderr or done.stdout).strip()[-400:]}")
    return done.stdout


def _await_repl(port: str, answer_s: float) -> str:
    """The Pico's file listing, once its REPL answers (after a restart into maintenance
    the USB device comes back only when the chip has started)."""
    deadline = time.monotonic() + answer_s
    while True:
        try:
            out = _mpremote(port, ["exec", "import os; print('files', sorted(os.listdir()))"])
            if "files [" in out:
                return out
        except (FlashError, subprocess.TimeoutExpired):
            pass
        if time.monotonic() > deadline:
            raise FlashError(f"the Pico's REPL did not answer within {answer_s:.0f} s")
        time.sleep(0.3)


def _copy(source: Path, target: str) -> list[list[str]]:
    return [["fs", "touch", f":{target}"], ["fs", "cp", str(source), f":{target}"]]


def flash(
    port: str,
    *,
    board: Path | None = None,
    force: bool = False,
    answer_s: float = 10.0,
    say: Callable[[str], None] = print,
) -> FlashResult:
    source = source_dir()
    want = source_version(source)
    now = device_version(port)
    if now == want and not force:
        return FlashResult(False, want, f"firmware {want} already on the co-processor")
    if now is not None:
        say(f"firmware {now} running: asking it for maintenance")
        hardware = PicoHardware.open_port(port, [])
        try:
            hardware.hello()
            hardware.maintenance()
        except LockerFault as exc:
            raise FlashError(f"the firmware did not go to maintenance: {exc}") from exc
        finally:
            hardware.close()
    listing = _await_repl(port, answer_s)
    commands = [
        [
            "exec",
            "import os\nfor d in ('lib', 'lib/logging'):\n try: os.mkdir(d)\n except OSError: pass",
        ]
    ]
    for module in sorted(source.glob("*.py")):
        if module.name == "board.py" and board is None and "'board.py'" in listing:
            continue  # the technician's wiring stays
        commands += _copy(board if module.name == "board.py" and board else module, module.name)
    for module in sorted((lib_dir() / "logging").glob("*.py")):
        commands += _copy(module, f"lib/logging/{module.name}")
    # The reset below is asked for: main.py's ASKED file says so to the next start, which
    # would otherwise read the RP2040's WDT_RESET as a stalled loop.
    commands.append(["exec", f"open({ASKED!r}, 'w').write('flashed\\n')"])
    # Read the file back (an `import` would answer the module main.py already loaded).
    commands.append(["exec", "print(open('version.py').read())"])
    out = _mpremote(port, *commands)
    if f'VERSION = "{want}"' not in out:
        raise FlashError(f"the Pico holds another version after copying: {out.strip()[-200:]}")
    _mpremote(port, ["reset"])
    deadline = time.monotonic() + answer_s
    while time.monotonic() < deadline:
        if device_version(port) == want:
            return FlashResult(True, want, f"firmware {want} flashed (was {now or 'none'})")
        time.sleep(0.2)
    raise FlashError(f"firmware {want} copied, but it did not answer within {answer_s:.0f} s")
