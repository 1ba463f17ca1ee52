"""Checksummed records: framing, and finding where the intact ones end.

A record on disk is a 10-byte header (magic "KJ", payload length, CRC-32 of the payload,
little-endian) followed by the payload. A crash can only tear the record being written
last; `scan` finds where the complete records end, and `later_record_after` tells a torn
tail (nothing valid follows) from damage in the middle of the file (valid records
follow), which recovery must not silently cut away.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

JOURNAL_NAME = "kiosk.journal"
SNAPSHOT_NAME = "kiosk.snapshot"

MAGIC = b"KJ"
HEADER = struct.Struct("<2sII")
MAX_PAYLOAD = 256 * 1024 * 1024


def frame(payload: bytes) -> bytes:
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"record of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    return HEADER.pack(MAGIC, len(payload), zlib.crc32(payload)) + payload


def _record_at(data: bytes | memoryview, pos: int) -> bytes | None:
    """The payload of a complete, intact record starting at pos, else None."""
    end_of_header = pos + HEADER.size
    if end_of_header > len(data):
        return None
    magic, length, crc = HEADER.unpack_from(data, pos)
    if magic != MAGIC or length > MAX_PAYLOAD or end_of_header + length > len(data):
        return None
    payload = bytes(data[end_of_header : end_of_header + length])
    if zlib.crc32(payload) != crc:
        return None
    return payload


@dataclass(frozen=True)
class Scan:
    payloads: list[tuple[int, bytes]]  # (offset, payload) of each complete record
    good_end: int  # where the complete records end
    size: int  # bytes in the file

    @property
    def clean(self) -> bool:
        return self.good_end == self.size


def scan(data: bytes) -> Scan:
    payloads: list[tuple[int, bytes]] = []
    pos = 0
    view = memoryview(data)
    while pos < len(data):
        payload = _record_at(view, pos)
        if payload is None:
            break
        payloads.append((pos, payload))
        pos += HEADER.size + len(payload)
    return Scan(payloads, pos, len(data))


def later_record_after(data: bytes, start: int) -> int | None:
    """Offset of the first intact record that begins after `start`, if any.

    Payloads are JSON text, which never holds the raw NUL bytes every header's length
    field has, so a record cannot hide inside another one's payload.
    """
    view = memoryview(data)
    pos = data.find(MAGIC, start + 1)
    while pos != -1:
        if _record_at(view, pos) is not None:
            return pos
        pos = data.find(MAGIC, pos + 1)
    return None
