"""What a kiosk is provisioned with: the answers (flags, or questions on a terminal) and
the kiosk's TOML written from them."""

from __future__ import annotations

import argparse
import ipaddress
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import lockers as bank
from target import DATA_DIR, ProvisionError

USB_ID = re.compile(r"^[0-9a-f]{4}:[0-9a-f]{4}$")
SSH_KEY = re.compile(r"^(ssh-ed25519|ecdsa-sha2-nistp\d+|ssh-rsa|sk-\S+) [A-Za-z0-9+/=]+( .*)?$")


def usb_id(flag: str, value: str) -> str:
    if value and not USB_ID.match(value.lower()):
        raise ValueError(f"{flag} {value!r}: expected VID:PID in hex")
    return value.lower()


def networks(spec: str) -> list[str]:
    try:
        return [
            str(ipaddress.ip_network(n.strip(), strict=False)) for n in spec.split(",") if n.strip()
        ]
    except ValueError as exc:
        raise ValueError(f"--lan {spec!r}: {exc}") from None


def addresses(spec: str) -> list[str]:
    try:
        return [str(ipaddress.ip_address(a.strip())) for a in spec.split(",") if a.strip()]
    except ValueError as exc:
        raise ValueError(f"--backoffice-address {spec!r}: {exc}") from None


def check_ssh_key(key: str) -> str:
    key = key.strip()
    if not SSH_KEY.match(key):
        raise ValueError("--ssh-key: expected one public key line (ssh-ed25519 AAAA… comment)")
    return key


@dataclass
class Settings:
    shop_name: str
    kiosk_id: str
    backoffice_url: str
    enrol_code: str
    printer: str
    terminal: str
    scanner: str
    lockers: list[tuple[str, ...]]
    dropoff_locker: str
    printer_usb: str  # VID:PID for the udev rule
    terminal_usb: str
    data_device: str
    read_only_root: bool
    lockers_backend: str = "gpio"
    lockers_port: str = bank.PORT
    lockers_usb: str = ""  # VID:PID of the bank's serial device, for the udev rule
    scanner_usb: str = ""  # VID:PID, for usbguard
    touch_usb: str = ""
    ssh_key: str = ""  # SSH stays off without one
    ssh_user: str = "technician"
    lan: list[str] = field(default_factory=list)  # where SSH may come from
    backoffice_addresses: list[str] = field(default_factory=list)  # else resolved now
    update_root: str = ""  # the update repository's root.json (docs/updates.md)
    opening_hours: list[str] = field(default_factory=lambda: ["08:00-20:00"])
    reboot_at: str = "03:30"  # a reboot the OS's updates need, in the closed hours


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def render_config(s: Settings) -> str:
    """The kiosk's TOML (kiosk/config/sections.py documents every key; `kiosk config example`)."""
    lines = [
        "# /etc/kiosk/kiosk.toml, written by provisioning/provision.py",
        "# `kiosk config example` lists every key with its meaning.",
        "",
        "[shop]",
        f"name = {_toml(s.shop_name)}",
        "",
        "[kiosk]",
        f"id = {_toml(s.kiosk_id)}",
        f"data_dir = {_toml(DATA_DIR)}",
        f"control_socket = {_toml('/run/kiosk/control.sock')}",  # the unit's RuntimeDirectory
    ]
    if s.dropoff_locker:
        lines.append(f"dropoff_locker = {_toml(s.dropoff_locker)}")
    lines += ["", "[sync]", f"url = {_toml(s.backoffice_url)}", ""]
    backend, _, where = s.printer.partition(":")
    lines += ["[printer]", f"backend = {_toml(backend)}"]
    if backend == "usb":
        vid, pid = where.split(":")
        lines += [f"usb_vendor = 0x{vid.lower()}", f"usb_product = 0x{pid.lower()}"]
    elif backend in ("serial", "file"):
        lines.append(f"port = {_toml(where)}")
    elif backend == "network":
        lines.append(f"host = {_toml(where)}")
    backend, _, where = s.terminal.partition(":")
    lines += ["", "[terminal]", f"backend = {_toml(backend)}"]
    if backend == "serial":
        lines.append(f"port = {_toml(where)}")
    elif backend == "tcp":
        host, _, port = where.rpartition(":")
        lines += [f"host = {_toml(host)}", f"tcp_port = {int(port)}"]
    backend, _, where = s.scanner.partition(":")
    backend = {"wedge": "evdev"}.get(backend, backend)
    lines += ["", "[scanner]", f"backend = {_toml(backend)}"]
    if backend == "serial":
        lines.append(f"port = {_toml(where)}")
    elif backend == "evdev":
        lines.append(f"device = {_toml(where)}")
    lines += ["", *bank.config_lines(s.lockers_backend, s.lockers, s.lockers_port)]
    hours = ", ".join(_toml(span) for span in s.opening_hours)
    lines += ["", "[updates]", f"opening_hours = [{hours}]"]
    if s.update_root:
        lines.append(f"root = {_toml('/etc/kiosk/update-root.json')}")
    return "\n".join(lines) + "\n"


def _ask(args: argparse.Namespace, name: str, question: str, default: str = "") -> str:
    value = getattr(args, name)
    if value is not None:
        return str(value)
    if args.non_interactive or not sys.stdin.isatty():
        if default or name in ("enrol_code",):
            return default
        raise ProvisionError(f"--{name.replace('_', '-')} is needed ({question})")
    answer = input(f"{question}{f' [{default}]' if default else ''}: ").strip()
    return answer or default


def settings_from(args: argparse.Namespace) -> Settings:
    url = _ask(args, "backoffice_url", "Back office URL (https://…)")
    if not re.match(r"^https?://", url):
        raise ProvisionError(f"--backoffice-url: expected http:// or https://, got {url!r}")
    printer = _ask(
        args,
        "printer",
        "Printer (usb:VID:PID, serial:/dev/…, network:host)",
        "serial:/dev/kiosk-printer",
    )
    printer_usb = printer.split(":", 1)[1] if printer.startswith("usb:") else ""
    if printer_usb and not re.fullmatch(r"[0-9a-fA-F]{4}:[0-9a-fA-F]{4}", printer_usb):
        raise ProvisionError(
            f"--printer {printer!r}: expected usb:VID:PID in hex, e.g. usb:04b8:0202"
        )
    terminal_usb = args.terminal_usb or ""
    for name, value, kinds in (("printer", printer, ("usb", "serial", "network", "file", "none")),):
        if value.partition(":")[0] not in kinds:
            raise ProvisionError(f"--{name} {value!r}: expected one of {', '.join(kinds)}")
    if terminal_usb and not re.fullmatch(r"[0-9a-fA-F]{4}:[0-9a-fA-F]{4}", terminal_usb):
        raise ProvisionError(f"--terminal-usb {terminal_usb!r}: expected VID:PID in hex")
    try:
        usb = {name: usb_id(f"--{name}-usb", getattr(args, f"{name}_usb") or "")
               for name in ("scanner", "touch")}  # fmt: skip
        key = check_ssh_key(args.ssh_key) if args.ssh_key else ""
        lan = networks(args.lan)
        given = addresses(args.backoffice_address)
    except ValueError as exc:
        raise ProvisionError(str(exc)) from None
    if key and not lan:
        raise ProvisionError("--ssh-key needs --lan: the address ranges SSH may come from")
    update_root = args.update_root or ""
    if update_root and not Path(update_root).is_file():
        raise ProvisionError(f"--update-root {update_root!r}: no such file (release init made it)")
    hours = [span.strip() for span in args.opening_hours.split(",") if span.strip()]
    clock = r"([01]\d|2[0-3]):[0-5]\d"
    for span in hours:
        if not re.fullmatch(f"{clock}-{clock}", span):
            raise ProvisionError(f"--opening-hours {span!r}: expected spans like 09:00-19:00")
    if not re.fullmatch(clock, args.reboot_at):
        raise ProvisionError(f"--reboot-at {args.reboot_at!r}: expected a time like 03:30")
    backend = args.lockers_backend
    try:
        lockers = bank.parse(
            backend, _ask(args, "lockers", f"Lockers ({backend}: see docs/provisioning.md)", "")
        )
        lockers_usb = bank.usb_of(backend, args.lockers_usb or "")
    except bank.LockersError as exc:
        raise ProvisionError(str(exc)) from None
    return Settings(
        shop_name=_ask(args, "shop_name", "Shop name"),
        kiosk_id=_ask(args, "kiosk_id", "Kiosk id", "K1"),
        backoffice_url=url,
        enrol_code=_ask(args, "enrol_code", "Enrolment code (blank: enrol later)", ""),
        printer=printer,
        terminal=_ask(
            args,
            "terminal",
            "Card terminal (serial:/dev/…, tcp:host:port)",
            "serial:/dev/kiosk-terminal",
        ),
        scanner=_ask(args, "scanner", "Scanner (serial:/dev/…, wedge:/dev/input/…, none)", "none"),
        lockers=lockers,
        dropoff_locker=args.dropoff_locker or "",
        printer_usb=printer_usb,
        terminal_usb=terminal_usb,
        data_device=args.data_device or "",
        read_only_root=args.read_only_root,
        lockers_backend=backend,
        lockers_port=args.lockers_port,
        lockers_usb=lockers_usb,
        scanner_usb=usb["scanner"],
        touch_usb=usb["touch"],
        ssh_key=key,
        ssh_user=args.ssh_user,
        lan=lan,
        backoffice_addresses=given,
        update_root=update_root,
        opening_hours=hours,
        reboot_at=args.reboot_at,
    )


def flags(description: str, source: str) -> argparse.ArgumentParser:
    """Every answer as a flag (a missing one is asked on a terminal: settings_from)."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--root", default="/", help="install into this tree (staged install)")
    parser.add_argument("--dry-run", action="store_true", help="show what would change")
    parser.add_argument("--non-interactive", action="store_true", help="never prompt")
    parser.add_argument("--shop-name")
    parser.add_argument("--kiosk-id")
    parser.add_argument("--backoffice-url")
    parser.add_argument("--enrol-code")
    parser.add_argument("--printer", help="usb:VID:PID | serial:/dev/… | network:HOST")
    parser.add_argument("--terminal", help="serial:/dev/kiosk-terminal | tcp:HOST:PORT")
    parser.add_argument("--terminal-usb", help="VID:PID of the terminal's USB serial adapter")
    parser.add_argument("--scanner", help="serial:/dev/… | wedge:/dev/input/… | none")
    parser.add_argument(
        "--lockers",
        help="gpio: ID:LOCK_PIN:DOOR_PIN,… (BCM); cu16, cu48, modbus: ID:BOARD:LOCK,…; "
        "pico: ID:CHANNEL,…",
    )
    parser.add_argument(
        "--lockers-backend", default="gpio", help="gpio, cu16, cu48, modbus or pico"
    )
    parser.add_argument(
        "--lockers-port", default=bank.PORT, help="cu16, cu48, modbus, pico: serial device"
    )
    parser.add_argument(
        "--lockers-usb", help=f"VID:PID of the bank's USB serial device (pico: {bank.PICO_USB})"
    )
    parser.add_argument("--dropoff-locker", help="the locker customers drop items into")
    parser.add_argument("--data-device", help="a partition to mount on /var/lib/kiosk")
    parser.add_argument("--scanner-usb", help="VID:PID of the ticket scanner (usbguard)")
    parser.add_argument("--touch-usb", help="VID:PID of a USB touchscreen (usbguard)")
    parser.add_argument("--ssh-key", help="a public key: SSH on, keys only (off without one)")
    parser.add_argument(
        "--ssh-user", default=os.environ.get("SUDO_USER") or "technician",
        help="the one account SSH lets in (the one you ran sudo from)",
    )  # fmt: skip
    parser.add_argument("--lan", default="", help="the shop's LAN ranges SSH may come from")
    parser.add_argument(
        "--backoffice-address", default="",
        help="the back office's IP addresses for the firewall (else the URL's host, resolved)",
    )  # fmt: skip
    parser.add_argument(
        "--read-only-root",
        action="store_true",
        help="overlay the root file system (data stays writable)",
    )
    parser.add_argument(
        "--update-root", help="the update repository's root.json (docs/updates.md): updates on"
    )
    parser.add_argument(
        "--opening-hours", default="08:00-20:00",
        help="when the shop is open, e.g. 09:00-12:30,14:00-19:00: no release switch then",
    )  # fmt: skip
    parser.add_argument(
        "--reboot-at", default="03:30", help="when a reboot the OS's updates need may happen"
    )
    parser.add_argument("--source", default=source, help="the kiosk's source tree")
    return parser
