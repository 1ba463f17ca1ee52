"""Domain objects to plain JSON values and back, driven by the dataclasses' type hints.

Storage and sync both need this; doing it once from the type hints means a field added
to a dataclass is stored and synced without a second place to forget. Decoding checks
types and names the path of a bad value ("ServiceOrder.lines[2].unit_price"), since
what comes back may be a damaged file or a back office answering garbage.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from functools import cache
from typing import Any, TypeVar, get_args, get_origin

from kiosk.domain.claim_codes import ClaimCode, InvalidClaimCode
from kiosk.domain.money import Money, MoneyError

T = TypeVar("T")


class DecodeError(ValueError):
    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


def to_plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Money):
        return value.to_plain()
    if isinstance(value, ClaimCode):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {to_plain(k): to_plain(v) for k, v in value.items()}
    raise TypeError(f"no plain form for {type(value).__name__}")


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_plain(tp: type[T], value: Any, path: str = "") -> T:
    return _decode(tp, value, path or getattr(tp, "__name__", str(tp)))  # type: ignore[no-any-return]


def _decode(tp: Any, value: Any, path: str) -> Any:
    origin = get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        args = get_args(tp)
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _decode(inner, value, path)
    if origin is tuple:
        item_type = get_args(tp)[0]
        if not isinstance(value, list):
            raise DecodeError(path, f"expected a list, got {type(value).__name__}")
        return tuple(_decode(item_type, v, f"{path}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        key_type, value_type = get_args(tp)
        if not isinstance(value, dict):
            raise DecodeError(path, f"expected an object, got {type(value).__name__}")
        return {
            _decode(key_type, k, f"{path}.{k}"): _decode(value_type, v, f"{path}.{k}")
            for k, v in value.items()
        }
    if tp is Any:
        return value
    try:
        return _decode_leaf(tp, value, path)
    except DecodeError:
        raise
    except (ValueError, TypeError, InvalidOperation, MoneyError, InvalidClaimCode) as exc:
        raise DecodeError(path, str(exc)) from exc


def _decode_leaf(tp: Any, value: Any, path: str) -> Any:
    if isinstance(tp, type) and issubclass(tp, Enum):
        return tp(value)
    if tp is Money:
        return Money.from_plain(value)
    if tp is ClaimCode:
        return ClaimCode.parse(_expect(str, value, path))
    if tp is Decimal:
        return Decimal(_expect(str, value, path))
    if tp is datetime:
        return datetime.fromisoformat(_expect(str, value, path))
    if tp is date:
        return date.fromisoformat(_expect(str, value, path))
    if tp in (str, bool):
        return _expect(tp, value, path)
    if tp is int:
        if isinstance(value, bool):
            raise DecodeError(path, "expected a whole number, got a boolean")
        return _expect(int, value, path)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise DecodeError(path, f"expected an object, got {type(value).__name__}")
        hints = _hints(tp)
        known = {f.name for f in dataclasses.fields(tp)}
        unknown = sorted(set(value) - known)
        if unknown:
            raise DecodeError(path, f"unknown field(s) {', '.join(unknown)}")
        kwargs = {name: _decode(hints[name], v, f"{path}.{name}") for name, v in value.items()}
        return tp(**kwargs)
    raise DecodeError(path, f"cannot decode into {tp!r}")


def _expect(tp: type[T], value: Any, path: str) -> T:
    if not isinstance(value, tp):
        raise DecodeError(path, f"expected {tp.__name__}, got {type(value).__name__} {value!r}")
    return value
