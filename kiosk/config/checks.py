"""Building the configuration from a parsed TOML mapping: every key's type checked, an
unknown key refused with the nearest known one, the sections checked together (devices,
lockers). Every error names the file, the key and what was expected."""

from __future__ import annotations

import codecs
import dataclasses
import difflib
import re
import typing
from typing import Any

from kiosk.config.sections import (
    LANGUAGES,
    Config,
    ConfigError,
    LockersConfig,
)
from kiosk.domain.money import MINOR_UNITS


def section_types() -> dict[str, type]:
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
            f"{src}: [kiosk] languages: expected some of {', '.join(LANGUAGES)}, got "
            f"{bad or '[]'} (a language is its catalogue and kiosk/locale/languages.toml)"
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
        "[updates] rate_kib_s": config.updates.rate_kib_s,
        "[updates] health_deadline_s": config.updates.health_deadline_s,
    }
    for where, value in positive.items():
        if value <= 0:
            raise ConfigError(f"{src}: {where}: must be greater than 0, got {value}")
    if config.kiosk.rotation not in (0, 90, 180, 270):
        raise ConfigError(
            f"{src}: [kiosk] rotation: expected 0, 90, 180 or 270, got {config.kiosk.rotation}"
        )
    _validate_devices(config)
    for span in config.updates.opening_hours:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d", span):
            raise ConfigError(
                f"{src}: [updates] opening_hours: expected spans like '09:00-19:00', got {span!r}"
            )
    for where, url in (
        ("[sync] url", config.sync.url),
        ("[updates] repository", config.updates.repository),
    ):
        if url and not re.match(r"^https?://", url):
            raise ConfigError(f"{src}: {where}: expected http:// or https://, got {url!r}")


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


# Board addresses and lock numbers each board backend takes.
BOARD_PLACES = {
    "cu16": (range(16), range(1, 17)),
    "cu48": (range(16), range(1, 49)),
    "modbus": (range(1, 248), range(1, 257)),
}


def _validate_lockers(lockers: LockersConfig, src: str) -> None:
    if lockers.backend == "rs485":
        raise ConfigError(
            f"{src}: [lockers] backend: 'rs485' is now named for the board it speaks to: "
            "cu16 (Kerong KR-CU16) or cu48 (KR-CU48); docs/hardware.md tells them apart"
        )
    if lockers.backend not in BOARD_PLACES and lockers.backend not in ("gpio", "pico"):
        raise ConfigError(
            f"{src}: [lockers] backend: {lockers.backend!r} is not gpio, cu16, cu48, modbus or pico"
        )
    if lockers.baudrate not in (0, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200):
        raise ConfigError(
            f"{src}: [lockers] baudrate: {lockers.baudrate} is not a serial line speed "
            "(0 for the boards' factory setting, or 1200 to 115200)"
        )
    if lockers.hook_closed_bit not in (0, 1):
        raise ConfigError(f"{src}: [lockers] hook_closed_bit: expected 0 or 1")
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
        elif lockers.backend in BOARD_PLACES:
            boards, locks = BOARD_PLACES[lockers.backend]
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
    sections = section_types()
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
