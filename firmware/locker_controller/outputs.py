# Lock outputs behind one small interface: set(index, on), all_off(), count. Each driver
# switches every output off when it is made, before anything else can run.
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
    """An MCP23017 I2C expander: 16 outputs (GPA0-7, GPB0-7)."""

    IODIRA = 0x00
    OLATA = 0x14

    def __init__(self, i2c, address=0x20, count=16):
        self._i2c = i2c
        self._address = address
        self.count = count
        self._bits = 0
        self._write_latches()  # latches low first, then the pins become outputs
        self._i2c.writeto_mem(address, self.IODIRA, bytes((0, 0)))

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
