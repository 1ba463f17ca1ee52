"""The locker bank in provisioning: `--lockers` read per backend, the [lockers] section
of the kiosk's config, the udev rule that names the bank's serial device, and the
co-processor's firmware flashed from the kiosk itself. Standard library only."""

from __future__ import annotations

import re

# What each backend's --lockers entries hold after the locker's id (docs/provisioning.md).
FIELDS = {
    "gpio": ("lock_pin", "door_pin"),
    "cu16": ("board", "lock"),
    "cu48": ("board", "lock"),
    "modbus": ("board", "lock"),
    "pico": ("channel",),
}
PICO_USB = "2e8a:0005"  # a Raspberry Pi Pico running MicroPython
PORT = "/dev/kiosk-lockers"


class LockersError(ValueError):
    pass


def parse(backend: str, spec: str) -> list[tuple[str, ...]]:
    """ "1:17:27,2:22:23" (gpio) → [("1", "17", "27"), ("2", "22", "23")]."""
    if backend not in FIELDS:
        raise LockersError(
            f"--lockers-backend {backend!r}: expected gpio, cu16, cu48, modbus or pico"
        )
    names = FIELDS[backend]
    out = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        fields = part.split(":")
        if len(fields) != 1 + len(names) or not all(f.isdigit() for f in fields[1:]):
            form = ":".join(["ID", *(n.upper() for n in names)])
            raise LockersError(f"--lockers {part!r}: expected {form} for {backend}")
        out.append(tuple(fields))
    return out


def config_lines(backend: str, lockers: list[tuple[str, ...]], port: str) -> list[str]:
    lines = ["[lockers]", f'backend = "{backend}"']
    if backend == "gpio":
        lines.append(f'pin_factory = "{"lgpio" if lockers else "mock"}"')
    else:
        lines.append(f'port = "{port}"')
    for entry in lockers:
        lines += ["", "[[lockers.locker]]", f'id = "{entry[0]}"']
        values = zip(FIELDS[backend], entry[1:], strict=True)
        lines += [f"{name} = {int(value)}" for name, value in values]
    return lines


def usb_of(backend: str, given: str) -> str:
    """The USB id the bank's serial device has: given, or the Pico's for `pico`."""
    if given and not re.fullmatch(r"[0-9a-fA-F]{4}:[0-9a-fA-F]{4}", given):
        raise LockersError(f"--lockers-usb {given!r}: expected VID:PID in hex")
    return given or (PICO_USB if backend == "pico" else "")


def udev_rule(usb: str) -> str:
    vid, pid = usb.split(":")
    return (
        f'SUBSYSTEM=="tty", ATTRS{{idVendor}}=="{vid}", ATTRS{{idProduct}}=="{pid}", '
        'GROUP="dialout", MODE="0660", SYMLINK+="kiosk-lockers"'
    )
