"""The kiosk's configuration: one TOML file, typed and checked before anything starts.

A technician editing /etc/kiosk/kiosk.toml over SSH must learn of a typo at start-up,
with the file, the key and what was expected, not from a kiosk that misbehaves on the
shop floor a week later. So every key is declared here with its type and default, an
unknown key is an error (with the nearest known key suggested), and a missing required
key is an error too. `demo` is a built-in profile that needs no file.
"""

from __future__ import annotations

import codecs
import dataclasses
import difflib
import os
import re
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.domain.money import MINOR_UNITS

DEFAULT_PATH = Path("/etc/kiosk/kiosk.toml")
DEMO = "demo"
LANGUAGES = ("en", "fr")


class ConfigError(ValueError):
    """What is wrong in the configuration, and where."""


def _doc(text: str) -> dict[str, str]:
    return {"doc": text}


@dataclass(frozen=True)
class ShopConfig:
    name: str = field(metadata=_doc("shop name on the attract screen and receipts (required)"))
    currency: str = field(default="EUR", metadata=_doc("ISO 4217 code of the shop's money"))
    locale: str = field(default="fr_FR", metadata=_doc("locale for money and dates"))
    country_calling_code: str = field(
        default="33", metadata=_doc("digits added to national phone numbers (0612… → +33612…)")
    )
    prices_include_tax: bool = field(
        default=True, metadata=_doc("catalogue prices hold the tax (shelf prices)")
    )
    address_lines: list[str] = field(default_factory=list, metadata=_doc("receipt header lines"))


@dataclass(frozen=True)
class KioskConfig:
    id: str = field(metadata=_doc("this kiosk's id, prefix of the numbers it hands out (required)"))
    data_dir: str = field(default="/var/lib/kiosk", metadata=_doc("where the store lives"))
    languages: list[str] = field(
        default_factory=lambda: list(LANGUAGES),
        metadata=_doc("languages offered, first is default"),
    )
    idle_timeout_s: int = field(
        default=90, metadata=_doc("seconds without a touch before the warning")
    )
    idle_warning_s: int = field(default=15, metadata=_doc("countdown before the session is wiped"))
    dropoff_locker: str = field(
        default="", metadata=_doc("locker for drop-offs; empty: the counter")
    )
    screen_dpi: int = field(
        default=0,
        metadata=_doc("the panel's DPI, so mm are real mm (the 7-inch Pi display: 133); 0: guess"),
    )
    rotation: int = field(
        default=0,
        metadata=_doc(
            "degrees the picture turns, for a panel mounted the other way: 0, 90, 180, 270"
        ),
    )
    speech: bool = field(
        default=False, metadata=_doc("read every screen aloud from the start (else: Listen)")
    )
    control_socket: str = field(
        default="",
        metadata=_doc("where `kiosk run` answers the CLI (Unix socket); empty: in data_dir"),
    )


@dataclass(frozen=True)
class StorageConfig:
    compact_min_bytes: int = field(
        default=8 * 1024 * 1024, metadata=_doc("journal size before compaction is considered")
    )
    compact_ratio: float = field(
        default=2.0, metadata=_doc("compact when the journal exceeds this × the snapshot")
    )
    retention_days: int = field(
        default=90,
        metadata=_doc(
            "days a collected or cancelled order, its payments and finished card intents stay "
            "on the kiosk once the back office has them"
        ),
    )


@dataclass(frozen=True)
class OutboxConfig:
    max_attempts: int = field(default=10, metadata=_doc("failed sends before a dead letter"))
    retry_base_s: float = field(default=5.0, metadata=_doc("first retry delay"))
    retry_max_s: float = field(default=3600.0, metadata=_doc("longest retry delay"))


@dataclass(frozen=True)
class SyncConfig:
    url: str = field(default="", metadata=_doc("back office base URL; empty: the enrolled one"))
    interval_s: int = field(default=30, metadata=_doc("seconds between rounds"))
    timeout_s: float = field(default=10.0, metadata=_doc("time-out of every request"))
    batch_size: int = field(default=200, metadata=_doc("operations pushed per request"))
    ca_file: str = field(default="", metadata=_doc("CA bundle to verify the back office's TLS"))
    backoff_cap_s: float = field(default=300.0, metadata=_doc("longest wait between failed rounds"))


@dataclass(frozen=True)
class PrinterConfig:
    backend: str = field(default="sim", metadata=_doc("sim, usb, serial, network, file or none"))
    profile: str = field(default="TM-T20II", metadata=_doc("python-escpos capability profile"))
    codepage: str = field(
        default="CP858", metadata=_doc("code page for text (CP858 has é, à, ç, €)")
    )
    usb_vendor: int = field(default=0x04B8, metadata=_doc("usb: vendor id (0x04b8 = Epson)"))
    usb_product: int = field(default=0x0E15, metadata=_doc("usb: product id"))
    port: str = field(default="/dev/kiosk-printer", metadata=_doc("serial or file: device path"))
    baudrate: int = field(default=38400, metadata=_doc("serial: line speed"))
    host: str = field(default="", metadata=_doc("network: printer address"))
    tcp_port: int = field(default=9100, metadata=_doc("network: printer port"))
    write_timeout_s: float = field(default=5.0, metadata=_doc("give up a write after this long"))
    status_timeout_s: float = field(default=0.5, metadata=_doc("wait this long for a status reply"))
    cash_drawer: bool = field(default=False, metadata=_doc("a cash drawer hangs on the printer"))
    sim_output_dir: str = field(
        default="", metadata=_doc("sim: write each printed page as PNG here")
    )


@dataclass(frozen=True)
class TerminalConfig:
    backend: str = field(default="sim", metadata=_doc("sim, serial, tcp or none"))
    port: str = field(default="/dev/kiosk-terminal", metadata=_doc("serial: device path"))
    baudrate: int = field(default=9600, metadata=_doc("serial: line speed (8N2)"))
    host: str = field(default="", metadata=_doc("tcp: terminal address"))
    tcp_port: int = field(default=20007, metadata=_doc("tcp: terminal port"))
    password: int = field(default=0, metadata=_doc("ZVT password (6 digits)"))
    currency_code: int = field(default=978, metadata=_doc("ISO 4217 number (978 = EUR)"))
    ack_timeout_s: float = field(default=2.0, metadata=_doc("serial: wait for ACK/NAK"))
    command_ack_s: float = field(default=5.0, metadata=_doc("wait for the terminal to accept"))
    idle_s: float = field(default=180.0, metadata=_doc("longest silence inside a transaction"))
    charset: str = field(
        default="cp437", metadata=_doc("character set of the terminal's print texts (ZVT: cp437)")
    )


@dataclass(frozen=True)
class ScannerConfig:
    backend: str = field(default="sim", metadata=_doc("sim, serial, evdev or none"))
    port: str = field(default="/dev/kiosk-scanner", metadata=_doc("serial: device path"))
    baudrate: int = field(default=9600, metadata=_doc("serial: line speed"))
    device: str = field(default="", metadata=_doc("evdev: /dev/input/by-id/… of the scanner"))


@dataclass(frozen=True)
class LockerEntry:
    id: str = field(metadata=_doc("the number on the door (required)"))
    lock_pin: int = field(default=0, metadata=_doc("gpio: BCM GPIO driving the lock"))
    door_pin: int = field(default=0, metadata=_doc("gpio: BCM GPIO of the door's reed switch"))
    board: int = field(default=0, metadata=_doc("rs485: address 0-15; modbus: device id 1-247"))
    lock: int = field(default=0, metadata=_doc("rs485: lock 1-16; modbus: coil and input 1-256"))
    channel: int = field(default=0, metadata=_doc("pico: the lock output and door input (1-64)"))


@dataclass(frozen=True)
class LockersConfig:
    backend: str = field(
        default="gpio",
        metadata=_doc("gpio (the Pi's header), rs485 (CU16 boards), modbus (RTU boards) or pico"),
    )
    port: str = field(
        default="/dev/kiosk-lockers",
        metadata=_doc("rs485, modbus, pico: the serial device; sim: the backend's simulator"),
    )
    baudrate: int = field(default=19200, metadata=_doc("rs485, modbus: line speed (8N1)"))
    pin_factory: str = field(
        default="mock",
        metadata=_doc("lgpio (Bookworm, any Pi), rpigpio (32-bit, Pi 4 and older), mock"),
    )
    pulse_ms: int = field(default=500, metadata=_doc("how long the lock coil is energised"))
    debounce_ms: int = field(default=50, metadata=_doc("a door state counts after this long"))
    open_timeout_s: float = field(default=8.0, metadata=_doc("door must be seen open within this"))
    left_open_alarm_s: float = field(default=120.0, metadata=_doc("alarm when a door stays open"))
    locks_active_high: bool = field(default=True, metadata=_doc("a high pin energises the lock"))
    door_closed_is_low: bool = field(default=True, metadata=_doc("reed switch to ground, pull-up"))
    locker: list[LockerEntry] = field(
        default_factory=list, metadata=_doc("[[lockers.locker]] tables: id, lock_pin, door_pin")
    )


@dataclass(frozen=True)
class Config:
    shop: ShopConfig
    kiosk: KioskConfig
    storage: StorageConfig = field(default_factory=StorageConfig)
    outbox: OutboxConfig = field(default_factory=OutboxConfig)
    sync: SyncConfig = field(default_factory=SyncConfig)
    printer: PrinterConfig = field(default_factory=PrinterConfig)
    terminal: TerminalConfig = field(default_factory=TerminalConfig)
    scanner: ScannerConfig = field(default_factory=ScannerConfig)
    lockers: LockersConfig = field(default_factory=LockersConfig)
    source: str = field(default="", metadata={"internal": True})

    @property
    def data_path(self) -> Path:
        return Path(self.kiosk.data_dir)


def _sections() -> dict[str, type]:
    hints = typing.get_type_hints(Config)
    return {f.name: hints[f.name] for f in dataclasses.fields(Config) if not f.metadata}


def _type_name(tp: Any) -> str:
    if typing.get_origin(tp) is list:
        (item,) = typing.get_args(tp)
        return f"a list of {'tables' if dataclasses.is_dataclass(item) else item.__name__}"
    return {str: "a string", int: "a whole number", float: "a number", bool: "true or false"}[tp]


def _check_type(where: str, tp: Any, value: Any) -> Any:
    if typing.get_origin(tp) is list:
        (item,) = typing.get_args(tp)
        if isinstance(item, type) and dataclasses.is_dataclass(item):
            if not isinstance(value, list):
                raise ConfigError(f"{where}: expected {_type_name(tp)}, got {value!r}")
            source, _, rest = where.partition(": ")
            return [_build_section(source, f"{rest.strip('[]').replace('] ', '.')}[{i}]", item, v)
                    for i, v in enumerate(value)]  # fmt: skip
        if not isinstance(value, list) or not all(isinstance(v, item) for v in value):
            raise ConfigError(f"{where}: expected {_type_name(tp)}, got {value!r}")
        return list(value)
    ok = isinstance(value, tp) and not (tp is not bool and isinstance(value, bool))
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not ok:
        raise ConfigError(f"{where}: expected {_type_name(tp)}, got {value!r}")
    return value


def _unknown(where: str, key: str, known: list[str]) -> ConfigError:
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ConfigError(f"{where}: unknown key {key!r}{hint}; known keys: {', '.join(known)}")


def _build_section(source: str, name: str, cls: type, raw: Any) -> Any:
    where = f"{source}: [{name}]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a table of keys, got {raw!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in raw:
        if key not in fields:
            raise _unknown(where, key, list(fields))
    values: dict[str, Any] = {}
    for key, f in fields.items():
        if key in raw:
            values[key] = _check_type(f"{where} {key}", hints[key], raw[key])
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{where} {key}: required, {f.metadata['doc']}")
    return cls(**values)


def _validate(config: Config) -> None:
    src = config.source
    if config.shop.currency not in MINOR_UNITS:
        raise ConfigError(
            f"{src}: [shop] currency: {config.shop.currency!r} is not a supported ISO 4217 code "
            f"({', '.join(sorted(MINOR_UNITS))})"
        )
    if not config.shop.name.strip():
        raise ConfigError(f"{src}: [shop] name: must not be empty")
    if not re.fullmatch(r"\d{1,3}", config.shop.country_calling_code):
        raise ConfigError(f"{src}: [shop] country_calling_code: expected 1 to 3 digits like '33'")
    if not re.fullmatch(r"[a-z]{2}(_[A-Z]{2})?", config.shop.locale):
        raise ConfigError(f"{src}: [shop] locale: expected a locale like 'fr_FR' or 'en'")
    if not re.fullmatch(r"[A-Z0-9]{1,8}", config.kiosk.id):
        raise ConfigError(f"{src}: [kiosk] id: expected 1 to 8 capital letters or digits")
    bad = [lang for lang in config.kiosk.languages if lang not in LANGUAGES]
    if bad or not config.kiosk.languages:
        raise ConfigError(
            f"{src}: [kiosk] languages: expected some of {', '.join(LANGUAGES)}, got {bad or '[]'}"
        )
    positive = {
        "[kiosk] idle_timeout_s": config.kiosk.idle_timeout_s,
        "[kiosk] idle_warning_s": config.kiosk.idle_warning_s,
        "[storage] compact_min_bytes": config.storage.compact_min_bytes,
        "[storage] compact_ratio": config.storage.compact_ratio,
        "[storage] retention_days": config.storage.retention_days,
        "[outbox] max_attempts": config.outbox.max_attempts,
        "[outbox] retry_base_s": config.outbox.retry_base_s,
        "[outbox] retry_max_s": config.outbox.retry_max_s,
        "[sync] interval_s": config.sync.interval_s,
        "[sync] timeout_s": config.sync.timeout_s,
        "[sync] batch_size": config.sync.batch_size,
        "[sync] backoff_cap_s": config.sync.backoff_cap_s,
    }
    for where, value in positive.items():
        if value <= 0:
            raise ConfigError(f"{src}: {where}: must be greater than 0, got {value}")
    if config.kiosk.rotation not in (0, 90, 180, 270):
        raise ConfigError(
            f"{src}: [kiosk] rotation: expected 0, 90, 180 or 270, got {config.kiosk.rotation}"
        )
    _validate_devices(config)
    if config.sync.url and not re.match(r"^https?://", config.sync.url):
        raise ConfigError(
            f"{src}: [sync] url: expected http:// or https://, got {config.sync.url!r}"
        )


BACKENDS = {
    "printer": ("sim", "usb", "serial", "network", "file", "none"),
    "terminal": ("sim", "serial", "tcp", "none"),
    "scanner": ("sim", "serial", "evdev", "none"),
}


def _validate_devices(config: Config) -> None:
    src = config.source
    for section, allowed in BACKENDS.items():
        backend = getattr(config, section).backend
        if backend not in allowed:
            raise ConfigError(
                f"{src}: [{section}] backend: {backend!r} is not one of {', '.join(allowed)}"
            )
    if config.printer.backend == "network" and not config.printer.host:
        raise ConfigError(f"{src}: [printer] host: required when backend is network")
    if config.terminal.backend == "tcp" and not config.terminal.host:
        raise ConfigError(f"{src}: [terminal] host: required when backend is tcp")
    if config.scanner.backend == "evdev" and not config.scanner.device:
        raise ConfigError(f"{src}: [scanner] device: required when backend is evdev")
    try:
        codecs.lookup(config.terminal.charset)
    except LookupError:
        raise ConfigError(
            f"{src}: [terminal] charset: {config.terminal.charset!r} is no character set "
            "Python knows (the ZVT default is cp437; iso8859_1 for some terminals)"
        ) from None
    if not 0 <= config.terminal.password <= 999999:
        raise ConfigError(f"{src}: [terminal] password: expected at most 6 digits")
    if config.lockers.pin_factory not in ("rpigpio", "lgpio", "mock"):
        factory = config.lockers.pin_factory
        raise ConfigError(
            f"{src}: [lockers] pin_factory: {factory!r} is not rpigpio, lgpio or mock"
        )
    _validate_lockers(config.lockers, src)


def _validate_lockers(lockers: LockersConfig, src: str) -> None:
    if lockers.backend not in ("gpio", "rs485", "modbus", "pico"):
        raise ConfigError(
            f"{src}: [lockers] backend: {lockers.backend!r} is not gpio, rs485, modbus or pico"
        )
    ids: set[str] = set()
    used: dict[object, str] = {}
    for i, entry in enumerate(lockers.locker):
        where = f"{src}: [[lockers.locker]] #{i + 1} (id {entry.id!r})"
        if entry.id in ids:
            raise ConfigError(f"{where}: id used twice")
        ids.add(entry.id)
        if lockers.backend == "gpio":
            for name, pin in (("lock_pin", entry.lock_pin), ("door_pin", entry.door_pin)):
                if pin == 0:
                    raise ConfigError(f"{where} {name}: required for the gpio backend")
                if not 2 <= pin <= 27:
                    raise ConfigError(f"{where}: {name} {pin} is not a usable BCM GPIO (2-27)")
                if pin in used:
                    raise ConfigError(f"{where}: {name} GPIO {pin} is already {used[pin]}")
                used[pin] = f"{name} of locker {entry.id}"
        elif lockers.backend in ("rs485", "modbus"):
            boards, locks = (range(16), range(1, 17))
            if lockers.backend == "modbus":
                boards, locks = (range(1, 248), range(1, 257))
            if entry.board not in boards or entry.lock not in locks:
                place = f"board {entry.board} lock {entry.lock}"
                expected = f"board {boards[0]}-{boards[-1]}, lock {locks[0]}-{locks[-1]}"
                raise ConfigError(f"{where}: {place}: expected {expected}")
            if (entry.board, entry.lock) in used:
                raise ConfigError(
                    f"{where}: board {entry.board} lock {entry.lock} is already "
                    f"{used[(entry.board, entry.lock)]}"
                )
            used[(entry.board, entry.lock)] = f"locker {entry.id}"
        else:
            if not 1 <= entry.channel <= 64:
                raise ConfigError(f"{where}: channel {entry.channel}: expected 1-64")
            if entry.channel in used:
                raise ConfigError(
                    f"{where}: channel {entry.channel} is already {used[entry.channel]}"
                )
            used[entry.channel] = f"locker {entry.id}"


def from_mapping(raw: dict[str, Any], source: str) -> Config:
    sections = _sections()
    for key in raw:
        if key not in sections:
            raise _unknown(f"{source}: top level", key, list(sections))
    built = {
        name: _build_section(source, name, cls, raw[name])
        for name, cls in sections.items()
        if name in raw
    }
    for name in ("shop", "kiosk"):
        if name not in built:
            raise ConfigError(f"{source}: [{name}] section is required")
    config = Config(**built, source=source)
    _validate(config)
    return config


# The demo's one shop: its screens, its receipts and its reference back office say this.
DEMO_SHOP = ("Atelier Vélo & Réparation", ("12 rue des Artisans", "75011 Paris"))


def _demo_lockers(backend: str) -> dict[str, Any]:
    """Four lockers on each backend's simulator."""
    if backend in ("rs485", "modbus"):  # two boards on the bus
        places = [{"board": 1 + n // 2, "lock": 1 + n % 2} for n in range(4)]
        return {"backend": backend, "port": "sim", "locker": _numbered(places)}
    if backend == "pico":
        places = [{"channel": n} for n in (1, 2, 3, 4)]
        return {"backend": "pico", "port": "sim", "locker": _numbered(places)}
    pins = [(17, 27), (22, 23), (24, 25), (5, 6)]
    places = [{"lock_pin": lock, "door_pin": door} for lock, door in pins]
    return {"backend": "gpio", "pin_factory": "mock", "locker": _numbered(places)}


def _numbered(places: list[dict[str, int]]) -> list[dict[str, Any]]:
    return [{"id": str(n), **place} for n, place in enumerate(places, start=1)]


def demo(data_dir: str | None = None, lockers: str = "gpio") -> Config:
    """The built-in profile for `make demo` and tests: simulated everything, no file.
    `demo-rs485`, `demo-modbus` and `demo-pico` put the lockers on those backends'
    simulators."""
    folder = data_dir or os.environ.get("KIOSK_DEMO_DIR", ".kiosk-demo")
    return from_mapping(
        {
            "shop": {"name": DEMO_SHOP[0], "address_lines": list(DEMO_SHOP[1])},
            "kiosk": {"id": "DEMO", "data_dir": folder, "dropoff_locker": "4"},
            "printer": {"sim_output_dir": str(Path(folder) / "printed")},
            "lockers": _demo_lockers(lockers),
        },
        source=f"<demo profile{'' if lockers == 'gpio' else ', lockers on ' + lockers}>",
    )


def load(path: str | os.PathLike[str] | None = None) -> Config:
    """Load and check a config file; `demo` selects the built-in demo profile."""
    target = str(path) if path is not None else os.environ.get("KIOSK_CONFIG", str(DEFAULT_PATH))
    if target == DEMO:
        return demo()
    if target in (f"{DEMO}-rs485", f"{DEMO}-modbus", f"{DEMO}-pico"):
        return demo(lockers=target.split("-", 1)[1])
    file = Path(target)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{file}: no such file; write one (see `kiosk config example`) or use --config demo"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot be read: {exc}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    return from_mapping(raw, str(file))


def example() -> str:
    """A complete config file with every key, its default and what it is for."""
    lines = ["# /etc/kiosk/kiosk.toml: every key, with its default."]
    tables: list[str] = []
    for name, cls in _sections().items():
        lines.append(f"\n[{name}]")
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            item = (
                typing.get_args(hints[f.name])[0]
                if typing.get_origin(hints[f.name]) is list
                else None
            )
            if item is not None and dataclasses.is_dataclass(item):
                tables.append(f"\n# {f.metadata['doc']}")
                for n, (lock, door) in enumerate([(17, 27), (22, 23)], start=1):
                    tables += [
                        f"[[{name}.{f.name}]]",
                        f'id = "{n}"',
                        f"lock_pin = {lock}",
                        f"door_pin = {door}",
                    ]
                continue
            if f.default is not dataclasses.MISSING:
                value: Any = f.default
            elif f.default_factory is not dataclasses.MISSING:
                value = f.default_factory()
            else:
                value = {"name": "My Repair Shop", "id": "K1"}[f.name]
            lines.append(f"# {f.metadata['doc']}")
            lines.append(f"{f.name} = {_toml_value(value)}")
    return "\n".join(lines + tables) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return str(value)
