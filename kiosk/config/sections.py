"""The configuration's sections: each key with its type, default and meaning (the
`doc` each field carries is what `kiosk config example` prints)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kiosk.i18n import LOCALES

LANGUAGES = tuple(LOCALES)  # what kiosk/locale/languages.toml describes


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
    status_url: str = field(
        default="",
        metadata=_doc(
            "the back office's public address of order status pages, as a phone reaches it "
            "(https://pos.example.com/s/); empty: tickets carry no status code"
        ),
    )


@dataclass(frozen=True)
class KioskConfig:
    id: str = field(metadata=_doc("this kiosk's id, prefix of the numbers it hands out (required)"))
    data_dir: str = field(default="/var/lib/kiosk", metadata=_doc("where the store lives"))
    languages: list[str] = field(
        default_factory=lambda: ["en", "fr"],
        metadata=_doc("languages offered, first is default (kiosk/locale/languages.toml)"),
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
    board: int = field(
        default=0, metadata=_doc("cu16, cu48: address 0-15 (DIP switches); modbus: device id 1-247")
    )
    lock: int = field(
        default=0, metadata=_doc("cu16: lock 1-16; cu48: lock 1-48; modbus: coil and input 1-256")
    )
    channel: int = field(default=0, metadata=_doc("pico: the lock output and door input (1-64)"))


@dataclass(frozen=True)
class LockersConfig:
    backend: str = field(
        default="gpio",
        metadata=_doc(
            "gpio (the Pi's header), cu16 or cu48 (Kerong boards), modbus (RTU boards) or pico"
        ),
    )
    port: str = field(
        default="/dev/kiosk-lockers",
        metadata=_doc("cu16, cu48, modbus, pico: the serial device; sim: the backend's simulator"),
    )
    baudrate: int = field(
        default=0,
        metadata=_doc("cu16, cu48, modbus: line speed (8N1); 0: the boards' factory setting"),
    )
    hook_closed_bit: int = field(
        default=1,
        metadata=_doc("cu16, cu48: the hook bit a latched lock reports (kiosk doctor shows it)"),
    )
    modbus_flash: bool = field(
        default=True,
        metadata=_doc("modbus: the board times each pulse (flash command 0x0200 + coil)"),
    )
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
class UpdatesConfig:
    root: str = field(
        default="",
        metadata=_doc(
            "the update repository's first trusted root.json (provisioning installs it); "
            "empty: this kiosk takes no updates (docs/updates.md)"
        ),
    )
    repository: str = field(
        default="", metadata=_doc("the TUF repository's URL; empty: the back office's /v1/updates")
    )
    rate_kib_s: int = field(default=256, metadata=_doc("download rate limit, KiB a second"))
    health_deadline_s: int = field(
        default=300, metadata=_doc("seconds a new release has to become healthy, or it goes back")
    )
    opening_hours: list[str] = field(
        default_factory=lambda: ["08:00-20:00"],
        metadata=_doc('local times the shop is open ("09:00-12:30"): no switch then, unless staff'),
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
    updates: UpdatesConfig = field(default_factory=UpdatesConfig)
    source: str = field(default="", metadata={"internal": True})

    @property
    def data_path(self) -> Path:
        return Path(self.kiosk.data_dir)
