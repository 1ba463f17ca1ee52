# The co-processor's start: switch every lock output off, then answer the kiosk over USB
# serial for ever, feeding the watchdog. If the loop ever stalls, the watchdog resets the
# chip, and a reset leaves every pin an input: the locks' drivers are off.
import random
import sys
import time

import board
import machine
import protocol
import version
from controller import Controller
from doors import PinDoors
from outputs import Mcp23017Outputs, PinOutputs, ShiftRegisterOutputs


def make_outputs(cfg=board):
    if cfg.OUTPUTS == "pins":
        return PinOutputs(cfg.LOCK_PINS)
    if cfg.OUTPUTS == "74hc595":
        s = cfg.SHIFT_PINS
        return ShiftRegisterOutputs(s["data"], s["clock"], s["latch"], s["count"], s.get("enable"))
    if cfg.OUTPUTS == "mcp23017":
        c = cfg.I2C
        i2c = machine.I2C(c["id"], sda=machine.Pin(c["sda"]), scl=machine.Pin(c["scl"]))
        return Mcp23017Outputs(i2c, c["address"], c["count"])
    raise ValueError("board.OUTPUTS: " + cfg.OUTPUTS)


def boot(cfg=board):
    outputs = make_outputs(cfg)  # every output off, first thing
    doors = PinDoors(cfg.DOOR_PINS, cfg.DOOR_CLOSED_IS_LOW)
    flags = 1 if machine.reset_cause() == machine.WDT_RESET else 0
    boot_id = random.getrandbits(16)
    return Controller(outputs, doors, boot_id, version.VERSION, cfg.DEBOUNCE_MS, flags)


class Link:
    """Frames in and out of a byte stream: read() gives what has arrived (maybe b"")."""

    def __init__(self, controller, read, write):
        self.controller = controller
        self._read = read
        self._write = write
        self.decoder = protocol.Decoder()

    def step(self):
        data = self._read()
        if data:
            for body in self.decoder.feed(data):
                answer = self.controller.handle(body)
                if answer is not None:
                    self._write(protocol.frame(answer))
        self.controller.tick()


def usb_link(controller):
    import select

    import micropython

    micropython.kbd_intr(-1)  # a 0x03 in a frame must not stop the program
    poll = select.poll()
    poll.register(sys.stdin, select.POLLIN)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer

    def read():
        data = b""
        while poll.poll(0) and len(data) < 64:
            data += stdin.read(1)
        return data

    return Link(controller, read, stdout.write)


def run():
    wdt = machine.WDT(timeout=board.WATCHDOG_MS)
    link = usb_link(boot())
    while True:
        link.step()
        wdt.feed()
        time.sleep_ms(1)


if __name__ == "__main__":
    run()
