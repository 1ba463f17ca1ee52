# The co-processor's start: switch every lock output off, then answer the kiosk over USB
# serial for ever, feeding the watchdog. If the loop ever stalls, the watchdog resets the
# chip, and a reset leaves every pin an input: the locks' drivers are off.
import os
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


class Maintenance(Exception):
    """The kiosk asked for the REPL (to flash new firmware): every output is off."""


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
                if self.controller.maintenance:
                    raise Maintenance()
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


# MAINTENANCE (for flashing) cannot just leave the loop: an RP2040's watchdog, once
# started, cannot be stopped, and would reset the chip under mpremote. So the firmware
# leaves a flag file and resets; the next start sees the flag, removes it, and stays in
# the REPL with no watchdog and every output off, until mpremote's `reset`.
FLAG = "maintenance"


def wants_maintenance():
    try:
        os.remove(FLAG)
        return True
    except OSError:
        return False


def enter_maintenance():
    with open(FLAG, "w") as f:
        f.write("requested by the kiosk\n")
    machine.reset()


def run():
    wdt = machine.WDT(timeout=board.WATCHDOG_MS)
    link = usb_link(boot())
    try:
        while True:
            link.step()
            wdt.feed()
            time.sleep_ms(1)
    except Maintenance:
        enter_maintenance()


if __name__ == "__main__":
    if wants_maintenance():
        make_outputs()  # every output off; the REPL is the technician's
    else:
        run()
