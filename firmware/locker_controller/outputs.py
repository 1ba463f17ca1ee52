# Lock outputs behind one small interface: set(index, on), all_off(), count. Each driver
# switches every output off when it is made, before anything else can run.
import time

from machine import Pin


class PinOutputs:
    """One GPIO per lock, through a MOSFET or relay board."""

    def __init__(self, pins, active_high=True):
        self._on = 1 if active_high else 0
        self._pins = [Pin(p, Pin.OUT, value=1 - self._on) for p in pins]
        self.count = len(self._pins)

    def set(self, index, on):
        self._pins[index].value(self._on if on else 1 - self._on)

    def all_off(self):
        for pin in self._pins:
            pin.value(1 - self._on)


class ShiftRegisterOutputs:
    """A chain of 74HC595s: 8 locks a chip, three pins for any number of chips. The
    chips' /OE pin, when wired, is held high (outputs off) until the first latch."""

    def __init__(self, data, clock, latch, count, enable=None):
        self._data = Pin(data, Pin.OUT, value=0)
        self._clock = Pin(clock, Pin.OUT, value=0)
        self._latch = Pin(latch, Pin.OUT, value=0)
        self._enable = Pin(enable, Pin.OUT, value=1) if enable is not None else None
        self.count = count
        self._state = [False] * count
        self.all_off()
        if self._enable is not None:
            self._enable.value(0)

    def _shift(self):
        for on in reversed(self._state):  # the last chip's last output goes in first
            self._data.value(1 if on else 0)
            self._clock.value(1)
            self._clock.value(0)
        self._latch.value(1)
        self._latch.value(0)

    def set(self, index, on):
        self._state[index] = bool(on)
        self._shift()

    def all_off(self):
        self._state = [False] * self.count
        self._shift()


class Mcp23017Outputs:
    """An MCP23017 I2C expander: 16 outputs (GPA0-7, GPB0-7). A reset of the Pico does not
    reset the expander, whose latches would keep a lock powered; so its /RESET is wired
    to a Pico pin with a 10 kΩ pull-down: while the Pico resets (every pin an input) the
    pull-down holds the expander in reset, every pin of it an input, every lock off. The
    firmware holds /RESET low itself until the latches are cleared, and again when the
    expander does not answer (the Pico then restarts, the expander still held)."""

    IODIRA = 0x00
    OLATA = 0x14

    def __init__(self, i2c, reset, address=0x20, count=16):
        self._i2c = i2c
        self._address = address
        self.count = count
        self._bits = 0
        self._reset = Pin(reset, Pin.OUT, value=0)  # held in reset: all its pins inputs
        time.sleep_us(2)  # /RESET low for at least 1 µs (datasheet)
        self._reset.value(1)
        try:
            self._write_latches()  # latches low first, then the pins become outputs
            self._i2c.writeto_mem(address, self.IODIRA, bytes((0, 0)))
        except OSError:
            self._reset.value(0)
            raise

    def _write_latches(self):
        self._i2c.writeto_mem(
            self._address, self.OLATA, bytes((self._bits & 0xFF, self._bits >> 8))
        )

    def set(self, index, on):
        if on:
            self._bits |= 1 << index
        else:
            self._bits &= ~(1 << index)
        self._write_latches()

    def all_off(self):
        self._bits = 0
        self._write_latches()
