"""CRC-16 in its reflected (least significant bit first) form, the one shared by ZVT's
serial transport (CRC-16/KERMIT) and Modbus RTU (CRC-16/MODBUS). The two differ only
in their initial value; both send the low byte first. The Pico link uses the
unreflected CRC-16/CCITT-FALSE, which the standard library has (`binascii.crc_hqx`).

Parameters as catalogued in Greg Cook's "Catalogue of parametrised CRC algorithms",
with its check value (the CRC of the ASCII bytes "123456789") for each."""

from __future__ import annotations

from functools import cache

KERMIT_POLY, KERMIT_INIT = 0x8408, 0x0000  # 0x1021 reflected; check 0x2189
MODBUS_POLY, MODBUS_INIT = 0xA001, 0xFFFF  # 0x8005 reflected; check 0x4B37


@cache
def _table(poly: int) -> tuple[int, ...]:
    rows = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        rows.append(crc)
    return tuple(rows)


def crc16_reflected(data: bytes, poly: int, init: int) -> int:
    """The reflected CRC-16 of `data` for the reflected polynomial `poly`, starting at
    `init`, with no final XOR."""
    table = _table(poly)
    crc = init
    for byte in data:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc


def crc16_kermit(data: bytes) -> int:
    return crc16_reflected(data, KERMIT_POLY, KERMIT_INIT)


def crc16_modbus(data: bytes) -> int:
    return crc16_reflected(data, MODBUS_POLY, MODBUS_INIT)
