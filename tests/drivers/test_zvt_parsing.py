"""Random and garbled bytes against the ZVT decoders: no crash, no bad frame accepted,
and the next good frame is found again."""

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.drivers.terminal import apdu as z
from kiosk.drivers.terminal.apdu import Apdu, StatusInformation, ZvtError
from kiosk.drivers.terminal.frames import (
    BadFrame,
    Frame,
    FrameDecoder,
    encode_frame,
)

apdus = st.builds(
    Apdu,
    st.integers(0, 255),
    st.integers(0, 255),
    st.binary(max_size=300),
).map(lambda a: a.encode())


@given(apdus)
def test_every_frame_round_trips(apdu):
    frame = encode_frame(apdu)
    assert FrameDecoder().feed(frame) == [Frame(apdu)]
    # one byte at a time, as a slow serial line delivers it
    decoder = FrameDecoder()
    events = [e for b in frame for e in decoder.feed(bytes([b]))]
    assert events == [Frame(apdu)]


@given(st.binary(max_size=2000))
def test_random_bytes_never_crash_and_yield_only_valid_frames(noise):
    for event in FrameDecoder().feed(noise):
        if isinstance(event, Frame):
            # anything accepted carried its own valid CRC: find it in the input
            assert encode_frame(event.apdu)[2:] in noise


@given(apdus, st.integers(min_value=0), st.integers(1, 255))
def test_a_garbled_frame_is_never_accepted(apdu, where, flip):
    frame = bytearray(encode_frame(apdu))
    pos = 2 + where % (len(frame) - 2)  # anywhere after DLE STX
    frame[pos] ^= flip
    events = FrameDecoder().feed(bytes(frame))
    assert Frame(apdu) not in events or bytes(frame) == encode_frame(apdu)
    for event in events:
        if isinstance(event, Frame):
            # a flip that still decodes must have produced a *different* valid frame
            assert encode_frame(event.apdu) in bytes(frame)


@given(st.binary(max_size=500), apdus)
def test_resynchronises_on_the_next_frame(noise, apdu):
    """After any noise, a frame repeated (as the sender repeats after our NAK) is read."""
    frame = encode_frame(apdu)
    events = FrameDecoder().feed(noise + frame + frame)
    assert Frame(apdu) in events


@given(st.binary(max_size=500))
def test_apdu_and_status_parsers_refuse_garbage_cleanly(data):
    # ZvtError is the only way these may refuse input
    with contextlib.suppress(ZvtError):
        Apdu.decode(data)
    with contextlib.suppress(ZvtError):
        StatusInformation.parse(data)


def test_status_information_keeps_only_the_last_four_digits():
    pan = bytes.fromhex("4111111111111111")  # an unmasked PAN from a careless terminal
    data = b"\x27\x00\x04" + z.bcd(4990, 6) + b"\x22" + z.ll(pan) + b"\x8b" + z.ll(b"VISA")
    info = StatusInformation.parse(data)
    assert info.card_last4 == "1111" and info.amount_minor == 4990
    assert "411111" not in repr(info)


def test_extended_length_apdu():
    a = Apdu(0x06, 0xD3, bytes(300))
    assert a.encode()[2] == 0xFF and Apdu.decode(a.encode()) == a
    with pytest.raises(ZvtError, match="says 5 data bytes"):
        Apdu.decode(b"\x04\x0f\x05\x00")


def test_bad_frame_reasons_are_specific():
    frame = bytearray(encode_frame(b"\x80\x00\x00"))
    frame[-1] ^= 1
    (event,) = FrameDecoder().feed(bytes(frame))
    assert isinstance(event, BadFrame) and "CRC" in event.reason
