"""The kiosk's configuration: one TOML file, typed and checked before anything starts.

A technician editing /etc/kiosk/kiosk.toml over SSH must learn of a typo at start-up,
with the file, the key and what was expected, not from a kiosk that misbehaves on the
shop floor a week later. So every key is declared here with its type and default, an
unknown key is an error (with the nearest known key suggested), and a missing required
key is an error too. `demo` is a built-in profile that needs no file.
"""

from __future__ import annotations

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


@dataclass(frozen=True)
class StorageConfig:
    compact_min_bytes: int = field(
        default=8 * 1024 * 1024, metadata=_doc("journal size before compaction is considered")
    )
    compact_ratio: float = field(
        default=2.0, metadata=_doc("compact when the journal exceeds this × the snapshot")
    )


@dataclass(frozen=True)
class OutboxConfig:
    max_attempts: int = field(default=10, metadata=_doc("failed sends before a dead letter"))
    retry_base_s: float = field(default=5.0, metadata=_doc("first retry delay"))
    retry_max_s: float = field(default=3600.0, metadata=_doc("longest retry delay"))


@dataclass(frozen=True)
class SyncConfig:
    url: str = field(default="", metadata=_doc("back office base URL; empty: offline only"))
    interval_s: int = field(default=30, metadata=_doc("seconds between pulls"))


@dataclass(frozen=True)
class Config:
    shop: ShopConfig
    kiosk: KioskConfig
    storage: StorageConfig = field(default_factory=StorageConfig)
    outbox: OutboxConfig = field(default_factory=OutboxConfig)
    sync: SyncConfig = field(default_factory=SyncConfig)
    source: str = field(default="", metadata={"internal": True})

    @property
    def data_path(self) -> Path:
        return Path(self.kiosk.data_dir)


def _sections() -> dict[str, type]:
    hints = typing.get_type_hints(Config)
    return {f.name: hints[f.name] for f in dataclasses.fields(Config) if not f.metadata}


def _type_name(tp: Any) -> str:
    if typing.get_origin(tp) is list:
        return f"a list of {typing.get_args(tp)[0].__name__}"
    return {str: "a string", int: "a whole number", float: "a number", bool: "true or false"}[tp]


def _check_type(where: str, tp: Any, value: Any) -> Any:
    if typing.get_origin(tp) is list:
        (item,) = typing.get_args(tp)
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
        "[storage] compact_min_bytes": config.storage.compact_min_bytes,
        "[storage] compact_ratio": config.storage.compact_ratio,
        "[outbox] max_attempts": config.outbox.max_attempts,
        "[outbox] retry_base_s": config.outbox.retry_base_s,
        "[outbox] retry_max_s": config.outbox.retry_max_s,
        "[sync] interval_s": config.sync.interval_s,
    }
    for where, value in positive.items():
        if value <= 0:
            raise ConfigError(f"{src}: {where}: must be greater than 0, got {value}")
    if config.sync.url and not re.match(r"^https?://", config.sync.url):
        raise ConfigError(
            f"{src}: [sync] url: expected http:// or https://, got {config.sync.url!r}"
        )


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


def demo(data_dir: str | None = None) -> Config:
    """The built-in profile for `make demo` and tests: simulated everything, no file."""
    return from_mapping(
        {
            "shop": {
                "name": "Atelier Demo — Repair & Vélo",
                "address_lines": ["12 rue des Artisans", "75011 Paris"],
            },
            "kiosk": {
                "id": "DEMO",
                "data_dir": data_dir or os.environ.get("KIOSK_DEMO_DIR", ".kiosk-demo"),
            },
        },
        source="<demo profile>",
    )


def load(path: str | os.PathLike[str] | None = None) -> Config:
    """Load and check a config file; `demo` selects the built-in demo profile."""
    target = str(path) if path is not None else os.environ.get("KIOSK_CONFIG", str(DEFAULT_PATH))
    if target == DEMO:
        return demo()
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
    for name, cls in _sections().items():
        lines.append(f"\n[{name}]")
        for f in dataclasses.fields(cls):
            if f.default is not dataclasses.MISSING:
                value: Any = f.default
            elif f.default_factory is not dataclasses.MISSING:
                value = f.default_factory()
            else:
                value = {"name": "My Repair Shop", "id": "K1"}[f.name]
            lines.append(f"# {f.metadata['doc']}")
            lines.append(f"{f.name} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return str(value)
