"""The kiosk's configuration: one TOML file, typed and checked before anything starts.

A technician editing /etc/kiosk/kiosk.toml over SSH must learn of a typo at start-up,
with the file, the key and what was expected, not from a kiosk that misbehaves on the
shop floor a week later. So every key is declared here with its type and default, an
unknown key is an error (with the nearest known key suggested), and a missing required
key is an error too. `demo` is a built-in profile that needs no file.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import typing
from pathlib import Path
from typing import Any

from kiosk.config.checks import from_mapping, section_types
from kiosk.config.sections import (
    LANGUAGES,
    Config,
    ConfigError,
    KioskConfig,
    LockerEntry,
    LockersConfig,
    OutboxConfig,
    PrinterConfig,
    ScannerConfig,
    ShopConfig,
    StorageConfig,
    SyncConfig,
    TerminalConfig,
)

__all__ = [
    "DEFAULT_PATH",
    "DEMO",
    "DEMO_SHOP",
    "LANGUAGES",
    "Config",
    "ConfigError",
    "KioskConfig",
    "LockerEntry",
    "LockersConfig",
    "OutboxConfig",
    "PrinterConfig",
    "ScannerConfig",
    "ShopConfig",
    "StorageConfig",
    "SyncConfig",
    "TerminalConfig",
    "demo",
    "example",
    "from_mapping",
    "load",
]

DEFAULT_PATH = Path("/etc/kiosk/kiosk.toml")
DEMO = "demo"


# The demo's one shop: its screens, its receipts and its reference back office say this.
DEMO_SHOP = ("Atelier Vélo & Réparation", ("12 rue des Artisans", "75011 Paris"))


def _demo_lockers(backend: str) -> dict[str, Any]:
    """Four lockers on each backend's simulator."""
    if backend in ("cu16", "cu48", "modbus"):  # two boards on the bus
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
    `demo-cu16`, `demo-cu48`, `demo-modbus` and `demo-pico` put the lockers on those backends'
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
    if target in tuple(f"{DEMO}-{backend}" for backend in ("cu16", "cu48", "modbus", "pico")):
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
    for name, cls in section_types().items():
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
