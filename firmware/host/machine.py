# A stand-in for MicroPython's `machine` module, for the firmware's tests and the
# simulator: pins that remember their values, an I2C bus that records writes, a
# watchdog that counts feeds. Outputs report changes to `Pin.listener`; inputs read
# `Pin.levels`, which a test or the simulator's host sets.
PWRON_RESET = 1
WDT_RESET = 3

_reset_cause = PWRON_RESET


def reset_cause():
    return _reset_cause


def set_reset_cause(cause):
    global _reset_cause
    _reset_cause = cause


reset_hook = None  # the simulated Pico's reboot (run.mjs pico)


def reset():
    if reset_hook is None:
        raise OSError("machine.reset: no simulated chip to reset")
    reset_hook()


class Pin:
    IN = 0
    OUT = 1
    PULL_UP = 1
    levels = {}  # pin number → level an input reads (1 when not set: the pull-up)
    outputs = {}  # pin number → level last written
    listener = None  # called with (pin number, level) on each output write

    def __init__(self, number, mode=IN, pull=None, value=None):
        self.number = number
        self.mode = mode
        if mode == Pin.OUT and value is not None:
            self.value(value)

    def value(self, level=None):
        if level is None:
            if self.mode == Pin.OUT:
                return Pin.outputs.get(self.number, 0)
            return Pin.levels.get(self.number, 1)
        level = 1 if level else 0
        Pin.outputs[self.number] = level
        if Pin.listener is not None:
            Pin.listener(self.number, level)


class I2C:
    writes = []  # (address, register, bytes)
    fail = False  # the expander does not answer: every write raises EIO

    def __init__(self, bus_id, sda=None, scl=None, freq=400000):
        self.bus_id = bus_id

    def writeto_mem(self, address, register, data):
        if I2C.fail:
            raise OSError(5)
        I2C.writes.append((address, register, bytes(data)))


class WDT:
    feeds = 0

    def __init__(self, timeout=5000):
        self.timeout = timeout

    def feed(self):
        WDT.feeds += 1
