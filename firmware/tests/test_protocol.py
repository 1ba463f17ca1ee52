# Frames (docs/hardware.md, "Co-processor protocol"), run by MicroPython.
import unittest

import protocol


class FrameTest(unittest.TestCase):
    def test_crc_is_ccitt_false(self):
        # The CRC catalogue's check value for CRC-16/CCITT-FALSE over "123456789".
        self.assertEqual(protocol.crc16(b"123456789"), 0x29B1)

    def test_a_frame_comes_back_whole(self):
        body = bytes(range(40))
        self.assertEqual(protocol.Decoder().feed(protocol.frame(body)), [body])

    def test_frames_split_anywhere_are_reassembled(self):
        stream = protocol.frame(b"one") + protocol.frame(b"two")
        for cut in range(len(stream)):
            d = protocol.Decoder()
            got = d.feed(stream[:cut]) + d.feed(stream[cut:])
            self.assertEqual(got, [b"one", b"two"])

    def test_noise_and_a_corrupt_frame_cost_only_themselves(self):
        bad = bytearray(protocol.frame(b"lost"))
        bad[3] ^= 0x40
        stream = b"\x00\xa5\xff" + bytes(bad) + protocol.frame(b"kept")
        d = protocol.Decoder()
        self.assertEqual(d.feed(stream), [b"kept"])
        self.assertTrue(d.dropped > 0)

    def test_a_body_too_long_is_refused(self):
        self.assertRaises(ValueError, protocol.frame, bytes(protocol.MAX_BODY + 1))

    def test_a_stray_frame_start_holds_good_frames_only_until_a_silence(self):
        # 0xA5 then 80: "a frame of 80 bytes follows". The kiosk's real frame behind it
        # is whole, but would wait for 80 more bytes; after GAP_MS of silence the stray
        # start is skipped and the frame read.
        d = protocol.Decoder()
        good = protocol.frame(b"open door 3")
        self.assertEqual(d.feed(b"\xa5\x50" + good, now=1000), [])
        self.assertEqual(d.feed(b"", now=1000 + protocol.GAP_MS - 1), [])
        self.assertEqual(d.feed(b"", now=1000 + protocol.GAP_MS), [b"open door 3"])
        self.assertEqual(d.dropped, 2)

    def test_bytes_after_a_silence_are_not_held_by_those_before_it(self):
        d = protocol.Decoder()
        self.assertEqual(d.feed(b"\xa5\xc0", now=0), [])  # a glitch, then quiet
        good = protocol.frame(b"status")
        self.assertEqual(d.feed(good[:3], now=500), [])  # a new frame begins
        self.assertEqual(d.feed(good[3:], now=501), [b"status"])

    def test_a_frame_split_by_a_short_pause_is_still_read(self):
        d = protocol.Decoder()
        good = protocol.frame(b"slow host")
        self.assertEqual(d.feed(good[:5], now=0), [])
        self.assertEqual(d.feed(good[5:], now=protocol.GAP_MS - 1), [b"slow host"])
