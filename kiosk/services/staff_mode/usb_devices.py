"""USB devices the kiosk's usbguard policy blocked, and letting staff allow one (a
replacement scanner, a new printer), through usbguard's own command line
(issue 16 §2; the policy is provisioning/hardening.py's).

`usbguard list-devices --blocked` prints one device a line, as usbguard's manual page
describes its rule language:

    12: block id 046d:c31c serial "" name "USB Keyboard" hash "…" parent-hash "…"
        via-port "1-1.2" with-interface 03:01:01 with-connect-type "hotplug"

`usbguard allow-device -p 12` allows it and appends a rule for it to the policy, so it
stays allowed after a restart. The kiosk's group may do both (provisioning writes
/etc/usbguard/IPCAccessControl.d/:kiosk); anything else usbguard refuses.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Run = Callable[[Sequence[str]], tuple[int, str]]
LINE = re.compile(r'^(\d+): block id ([0-9a-f]{4}:[0-9a-f]{4})(?:.*? name "((?:[^"\\]|\\.)*)")?')


class UsbError(Exception):
    """usbguard could not be asked, or refused."""


def _run(command: Sequence[str]) -> tuple[int, str]:
    try:
        done = subprocess.run(list(command), capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 127, str(exc)
    return done.returncode, (done.stdout if done.returncode == 0 else done.stderr).strip()


@dataclass(frozen=True)
class BlockedDevice:
    number: int  # usbguard's id for it, until it is unplugged
    usb_id: str  # VID:PID
    name: str

    @property
    def label(self) -> str:
        return f"{self.name or 'USB device'} ({self.usb_id})"


class UsbGuard:
    def __init__(self, run: Run = _run) -> None:
        self.run = run

    def blocked(self) -> list[BlockedDevice]:
        code, out = self.run(["usbguard", "list-devices", "--blocked"])
        if code != 0:
            raise UsbError(out.splitlines()[-1] if out else f"usbguard exited {code}")
        found = []
        for line in out.splitlines():
            match = LINE.match(line.strip())
            if match:
                number, usb_id, name = match.groups()
                found.append(BlockedDevice(int(number), usb_id, (name or "").replace('\\"', '"')))
        return found

    def allow(self, device: BlockedDevice) -> None:
        """Allow it now and from now on (a rule appended to the policy)."""
        code, out = self.run(["usbguard", "allow-device", "-p", str(device.number)])
        if code != 0:
            raise UsbError(out or f"usbguard exited {code}")
