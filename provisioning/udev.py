"""The udev rules provisioning writes: stable names for the kiosk's USB devices (the
printer, the terminal's serial adapter, the lockers' bus or co-processor) and the groups
that may use them (docs/hardware.md, "Stable device names"). Standard library only."""

from __future__ import annotations

import lockers as bank
from settings import Settings

RULES_FILE = "/etc/udev/rules.d/99-kiosk.rules"


def rules(settings: Settings) -> str:
    lines = [
        "# written by provisioning: stable names for the kiosk's devices",
        'SUBSYSTEM=="gpio", GROUP="gpio", MODE="0660"',
        'SUBSYSTEM=="input", GROUP="input", MODE="0660"',
    ]
    if settings.printer_usb:
        vid, pid = settings.printer_usb.split(":")
        lines += [
            f'SUBSYSTEM=="usb", ATTR{{idVendor}}=="{vid}", ATTR{{idProduct}}=="{pid}", '
            'GROUP="lp", MODE="0660", SYMLINK+="kiosk-printer"',
            f'SUBSYSTEM=="usbmisc", ATTRS{{idVendor}}=="{vid}", ATTRS{{idProduct}}=="{pid}", '
            'GROUP="lp", MODE="0660", SYMLINK+="kiosk-printer"',
        ]
    if settings.terminal_usb:
        vid, pid = settings.terminal_usb.split(":")
        lines.append(
            f'SUBSYSTEM=="tty", ATTRS{{idVendor}}=="{vid}", ATTRS{{idProduct}}=="{pid}", '
            'GROUP="dialout", MODE="0660", SYMLINK+="kiosk-terminal"'
        )
    if settings.lockers_usb:
        lines.append(bank.udev_rule(settings.lockers_usb))
    return "\n".join(lines) + "\n"
