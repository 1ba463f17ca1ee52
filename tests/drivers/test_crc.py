"""One reflected CRC-16 (kiosk/drivers/crc.py) for ZVT's transport and Modbus RTU.

Check values from Greg Cook's "Catalogue of parametrised CRC algorithms" (reveng):
CRC-16/KERMIT check=0x2189, CRC-16/MODBUS check=0x4B37, both of "123456789". The Modbus
frame is the read-holding-registers request used as the example in the Modbus over
Serial Line specification's CRC appendix (V1.02, §6.2.2)."""

from __future__ import annotations

import binascii

from hypothesis import given
from hypothesis import strategies as st

from kiosk.drivers.crc import crc16_kermit, crc16_modbus


def _reverse(value: int, bits: int) -> int:
    return int(f"{value:0{bits}b}"[::-1], 2)


def test_catalogue_check_values():
    assert crc16_kermit(b"123456789") == 0x2189
    assert crc16_modbus(b"123456789") == 0x4B37


def test_a_modbus_request_from_the_specification():
    # 01 03 00 00 00 0A: read ten holding registers of slave 1; CRC sent C5 CD
    assert crc16_modbus(bytes.fromhex("01030000000A")).to_bytes(2, "little") == b"\xc5\xcd"


@given(st.binary(max_size=200))
def test_kermit_is_the_standard_librarys_ccitt_seen_in_a_mirror(data):
    # An independent oracle: a reflected CRC equals the unreflected CRC (binascii's
    # CRC-CCITT, polynomial 0x1021) of the bit-reversed bytes, itself bit-reversed.
    mirrored = bytes(_reverse(b, 8) for b in data)
    assert crc16_kermit(data) == _reverse(binascii.crc_hqx(mirrored, 0), 16)
