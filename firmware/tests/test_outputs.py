# Output drivers against fake pins and the 74HC595 model, run by MicroPython.
import unittest

import machine
from chips import Hc595Chain
from outputs import Mcp23017Outputs, PinOutputs, ShiftRegisterOutputs


class OutputsTest(unittest.TestCase):
    def setUp(self):
        machine.Pin.outputs = {}
        machine.Pin.listener = None
        machine.I2C.writes = []

    def test_pins_start_off_and_follow_set(self):
        out = PinOutputs((2, 3), active_high=False)
        self.assertEqual(machine.Pin.outputs, {2: 1, 3: 1})
        out.set(1, True)
        self.assertEqual(machine.Pin.outputs[3], 0)
        out.all_off()
        self.assertEqual(machine.Pin.outputs, {2: 1, 3: 1})

    def test_shift_registers_drive_the_chosen_output_only(self):
        chain = Hc595Chain(2, 3, 4, 24, enable=5)
        machine.Pin.listener = chain.pin_changed
        out = ShiftRegisterOutputs(2, 3, 4, 24, enable=5)
        self.assertEqual(chain.outputs(), [0] * 24)
        out.set(17, True)
        expected = [0] * 24
        expected[17] = 1
        self.assertEqual(chain.outputs(), expected)
        out.set(17, False)
        self.assertEqual(chain.outputs(), [0] * 24)

    def test_shift_registers_stay_disabled_until_cleared(self):
        seen = []

        def watch(number, level):
            chain.pin_changed(number, level)
            seen.append(list(chain.outputs()))

        chain = Hc595Chain(2, 3, 4, 8, enable=5)
        chain.latched = [1] * 8  # what a chip may hold at power-up
        machine.Pin.listener = watch
        ShiftRegisterOutputs(2, 3, 4, 8, enable=5)
        self.assertTrue(all(state == [0] * 8 for state in seen))

    def tearDown(self):
        machine.I2C.fail = False

    def test_mcp23017_latches_are_cleared_before_pins_become_outputs(self):
        out = Mcp23017Outputs(machine.I2C(0), 18, 0x21)
        self.assertEqual(machine.I2C.writes, [(0x21, 0x14, b"\x00\x00"), (0x21, 0x00, b"\x00\x00")])
        out.set(9, True)
        self.assertEqual(machine.I2C.writes[-1], (0x21, 0x14, b"\x00\x02"))

    def test_mcp23017_is_held_in_reset_until_its_latches_are_cleared(self):
        events = []
        machine.Pin.listener = lambda number, level: events.append(("pin", number, level))
        writes = machine.I2C.writes = Recording(events)
        Mcp23017Outputs(machine.I2C(0), 18, 0x20)
        self.assertEqual(events[:2], [("pin", 18, 0), ("pin", 18, 1)])
        self.assertEqual([e[0] for e in events[2:]], ["i2c", "i2c"])
        self.assertEqual(len(writes), 2)

    def test_mcp23017_that_does_not_answer_is_left_in_reset(self):
        machine.I2C.fail = True
        self.assertRaises(OSError, Mcp23017Outputs, machine.I2C(0), 18, 0x20)
        self.assertEqual(machine.Pin.outputs[18], 0)  # /RESET low: every expander pin off


class Recording(list):
    """I2C writes, noted in one list with the pin changes."""

    def __init__(self, events):
        super().__init__()
        self.events = events

    def append(self, item):
        self.events.append(("i2c",) + item)
        super().append(item)
