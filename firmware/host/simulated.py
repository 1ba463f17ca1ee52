# The firmware itself as a simulated co-processor (run.mjs sim): a 74HC595 chain for the
# locks, door switches whose levels the world sets, and a watchdog that resets the chip
# when the loop stalls past board.WATCHDOG_MS, as the real one does. Everything the
# kiosk talks to is the firmware's own code (main.boot, main.Link).
import binascii
import json
import time

import machine
import main
import world
from chips import Hc595Chain

WATCHDOG_MS = 2000
DOOR_BASE = 100


class Board:
    OUTPUTS = "74hc595"
    SHIFT_PINS = {"data": 2, "clock": 3, "latch": 4, "enable": 5, "count": 8}
    DOOR_PINS = ()
    DOOR_CLOSED_IS_LOW = True
    DEBOUNCE_MS = 30


state = {"link": None, "chain": None, "hung_until": None, "fed": 0}


def start(doors, open_doors=(), cause=machine.PWRON_RESET):
    Board.SHIFT_PINS = dict(Board.SHIFT_PINS, count=doors)
    Board.DOOR_PINS = tuple(range(DOOR_BASE, DOOR_BASE + doors))
    # Shut doors pull their inputs low; an open one (it stayed open through a restart)
    # leaves the pull-up high.
    machine.Pin.levels = {pin: 0 for pin in Board.DOOR_PINS}
    for door in open_doors:
        machine.Pin.levels[DOOR_BASE + door - 1] = 1
    chain = Hc595Chain(2, 3, 4, doors, enable=5, on_change=lambda i, on: world.lock(i, on))
    state["chain"] = chain
    machine.Pin.listener = chain.pin_changed
    boot(cause)


def boot(cause):
    # A reset leaves every pin an input: /OE's pull-up disables the 595s' outputs.
    state["chain"].pin_changed(5, 1)
    machine.set_reset_cause(cause)
    controller = main.boot(Board)
    state["link"] = main.Link(controller, _read, _write)
    state["fed"] = time.ticks_ms()
    print(json.dumps({"boot": controller.boot_id, "cause": cause}))


def _read():
    return binascii.unhexlify(world.read())


def _write(data):
    world.write(binascii.hexlify(data).decode())


def step():
    try:
        _step()
    except main.Maintenance:
        main.enter_maintenance()  # writes the flag, then machine.reset(): run.mjs reboots


def _step():
    now = time.ticks_ms()
    hung = state["hung_until"]
    if hung is not None:
        if time.ticks_diff(now, state["fed"]) >= WATCHDOG_MS:
            state["hung_until"] = None
            boot(machine.WDT_RESET)
        elif time.ticks_diff(hung, now) > 0:
            return
        else:
            state["hung_until"] = None
    state["link"].step()
    state["fed"] = now


def world_line(line):
    event = json.loads(line)
    if "door" in event:
        level = 1 if event["open"] else 0  # the switch opens: the pull-up wins
        machine.Pin.levels[DOOR_BASE + event["door"] - 1] = level
    elif "hang_ms" in event:
        state["hung_until"] = time.ticks_add(time.ticks_ms(), event["hang_ms"])
