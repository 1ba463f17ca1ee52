# The co-processor's start: switch every lock output off, then answer the kiosk over USB
# serial for ever, feeding the watchdog. If the loop ever stalls, the watchdog resets the
# chip, and a reset leaves every pin an input: the locks' drivers are off (the MCP23017
# option holds the expander in reset through its /RESET pin's pull-down, outputs.py).
#
# The loop never waits on the USB line: a reply written to USB CDC while the host does
# not read would block up to 500 ms (MicroPython's rp2 port, MICROPY_HW_USB_CDC_TX_TIMEOUT),
# and neither tick(), which ends a pulse, nor the watchdog's feed would run. Replies wait
# in a bounded queue and go out a byte at a time while the line says it has room.
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
        if "reset" not in c:
            raise ValueError("board.I2C: the MCP23017's /RESET must be on a Pico pin ('reset')")
        i2c = machine.I2C(c["id"], sda=machine.Pin(c["sda"]), scl=machine.Pin(c["scl"]))
        return Mcp23017Outputs(i2c, c["reset"], c["address"], c["count"])
    raise ValueError("board.OUTPUTS: " + cfg.OUTPUTS)


# A reset the firmware (or the kiosk's flashing) asks for leaves this file first: on the
# RP2040, machine.reset() is done by the watchdog, and reset_cause() then reads WDT_RESET
# as after a stalled loop. (The kiosk's `firmware flash` writes it before mpremote's
# reset; kiosk/services/machine/firmware.py.)
ASKED = "reset-asked"


def last_reset_flags():
    """Status flags: bit 0 the watchdog reset a stalled loop, bit 1 a reset was asked."""
    asked = take_flag(ASKED)
    if asked:
        return 2
    return 1 if machine.reset_cause() == machine.WDT_RESET else 0


def take_flag(name):
    try:
        os.remove(name)
        return True
    except OSError:
        return False


def reset_asked(why):
    with open(ASKED, "w") as f:
        f.write(why + "\n")
    machine.reset()


def boot(cfg=board):
    outputs = make_outputs(cfg)  # every output off, first thing
    doors = PinDoors(cfg.DOOR_PINS, cfg.DOOR_CLOSED_IS_LOW)
    flags = last_reset_flags()
    boot_id = random.getrandbits(16)
    return Controller(outputs, doors, boot_id, version.VERSION, cfg.DEBOUNCE_MS, flags)


class Maintenance(Exception):
    """The kiosk asked for the REPL (to flash new firmware): every output is off."""


OUT_MAX = 512  # bytes of replies held while the host does not read; older ones go


class Link:
    """Frames in and out of a byte stream: read() gives what has arrived (maybe b""),
    writable() says the line takes one more byte without waiting."""

    def __init__(self, controller, read, write, writable=None):
        self.controller = controller
        self._read = read
        self._write = write
        self._writable = writable or (lambda: True)
        self.decoder = protocol.Decoder()
        self._out = []  # reply frames, the first perhaps partly sent
        self._sent = 0  # bytes of the first already written
        self.dropped_replies = 0

    def step(self):
        for body in self.decoder.feed(self._read()):
            answer = self.controller.handle(body)
            if answer is not None:
                self._queue(protocol.frame(answer))
            if self.controller.maintenance:
                self.flush(200)
                raise Maintenance()
        self._send()
        self.controller.tick()

    def _queue(self, frame):
        self._out.append(frame)
        while len(self._out) > 1 and sum(len(f) for f in self._out) - self._sent > OUT_MAX:
            del self._out[1]  # the oldest not yet begun: the kiosk asks again for it
            self.dropped_replies += 1

    def _send(self):
        while self._out and self._writable():
            frame = self._out[0]
            self._write(frame[self._sent : self._sent + 1])
            self._sent += 1
            if self._sent == len(frame):
                self._out.pop(0)
                self._sent = 0

    def flush(self, within_ms):
        """Send what waits, for at most within_ms."""
        deadline = time.ticks_add(time.ticks_ms(), within_ms)
        while self._out and time.ticks_diff(deadline, time.ticks_ms()) > 0:
            self._send()
            time.sleep_ms(1)


def usb_link(controller):
    import select

    import micropython

    micropython.kbd_intr(-1)  # a 0x03 in a frame must not stop the program
    poll = select.poll()
    poll.register(sys.stdin, select.POLLIN)
    room = select.poll()
    room.register(sys.stdout, select.POLLOUT)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer

    def read():
        data = b""
        while poll.poll(0) and len(data) < 64:
            data += stdin.read(1)
        return data

    return Link(controller, read, stdout.write, lambda: bool(room.poll(0)))


# MAINTENANCE (for flashing) cannot just leave the loop: an RP2040's watchdog, once
# started, cannot be stopped, and would reset the chip under mpremote. So the firmware
# leaves a flag file and resets; the next start sees the flag, removes it, and stays in
# the REPL with no watchdog and every output off, until mpremote's `reset`.
FLAG = "maintenance"


def wants_maintenance():
    return take_flag(FLAG)


def enter_maintenance():
    with open(FLAG, "w") as f:
        f.write("requested by the kiosk\n")
    reset_asked("maintenance")


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
