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
