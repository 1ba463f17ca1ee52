"""Lockers on each backend's simulator, in one run (issues 14 and 23): how long from the
open command to the lock output seen energised, and how long to read every door.

- `*_open_p95_ms`: 200 opens spread over 48 lockers, from the driver's energise call to
  the moment the simulator sees the lock's output on (GPIO: gpiozero's mock pin, polled
  every millisecond; KR-CU16 and KR-CU48: the emulated board carrying out the unlock
  frame, after the status read the driver makes first, on a pty that takes as long as
  19200 baud 8N1 would; Modbus: the board's timed flash, at its factory 9600 baud;
  co-processor: the firmware's 74HC595 model reporting the output, the firmware running
  on MicroPython under Node).
- `*_poll_all_ms`: p95 of 100 reads of all 48 doors (KR-CU16 and Modbus: three 16-lock
  boards; KR-CU48: one board). The Pi's header has 26 usable GPIOs, one lock and one
  door each: the GPIO bank is the 13 lockers it can carry (`gpio_doors`), the largest
  bank that backend serves.
- `*_bytes_per_open`: bytes on the line for one open, both ways (Kerong: the status read
  before the unlock, the unlock, and the reads until the hook shows unlatched; Modbus:
  the flash and its echo).

Every backend runs with the product's defaults (`[lockers]` as `kiosk config example`
writes it). The Kerong boards' doors open 10 ms after the unlock (their hooks spring),
so an open is confirmed by the first status read after it; the others' doors do not
move (the locks alone are timed).

Targets: every open p95 ≤ 50 ms, every poll ≤ 100 ms.

    python bench/lockers.py --json
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gpiozero.pins.mock import MockFactory  # noqa: E402

from kiosk.drivers.drawer.cu16 import Cu16Hardware  # noqa: E402
from kiosk.drivers.drawer.cu48 import Cu48Hardware  # noqa: E402
from kiosk.drivers.drawer.gpio import GpioHardware, LockerPins  # noqa: E402
from kiosk.drivers.drawer.kerong import KerongLocker  # noqa: E402
from kiosk.drivers.drawer.kerong_sim import Cu16BusEmulator, Cu48BusEmulator  # noqa: E402
from kiosk.drivers.drawer.modbus import ModbusHardware, ModbusLocker  # noqa: E402
from kiosk.drivers.drawer.modbus_sim import ModbusBusSimulator  # noqa: E402
from kiosk.drivers.drawer.pico import PicoHardware, PicoLocker  # noqa: E402
from kiosk.drivers.drawer.pico_sim import PicoSimulator  # noqa: E402
from kiosk.drivers.drawer.simulator import DoorBehaviour, LockerBankSimulator  # noqa: E402

DOORS = 48
GPIO_DOORS = 13
OPENS = 200
POLLS = 100
PULSE_MS = 20
NAMES = [str(n) for n in range(1, DOORS + 1)]


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[94]


def rigs() -> dict[str, tuple[Any, Any]]:
    factory = MockFactory()
    pins = [LockerPins(NAMES[i], 2 + 2 * i, 3 + 2 * i) for i in range(GPIO_DOORS)]
    gpio_sim = LockerBankSimulator(factory, pins)
    gpio = GpioHardware(pins, factory)
    gpio_sim.start()
    places = {name: (i // 16, i % 16 + 1) for i, name in enumerate(NAMES)}
    doors = {"open_after_s": 0.01, "close_after_s": 0.2}
    cu16_bus = Cu16BusEmulator(places, **doors)
    cu16_bus.start()
    cu16 = Cu16Hardware.open_port(
        cu16_bus.path, 19200, [KerongLocker(n, b, lk) for n, (b, lk) in places.items()]
    )
    one_board = {name: (0, i + 1) for i, name in enumerate(NAMES)}
    cu48_bus = Cu48BusEmulator(one_board, **doors)
    cu48_bus.start()
    cu48 = Cu48Hardware.open_port(
        cu48_bus.path, 19200, [KerongLocker(n, b, lk) for n, (b, lk) in one_board.items()]
    )
    coils = {name: (1 + i // 16, i % 16 + 1) for i, name in enumerate(NAMES)}
    modbus_sim = ModbusBusSimulator(coils, baudrate=9600)
    modbus_sim.start()
    modbus = ModbusHardware.open_port(
        modbus_sim.path, 9600, [ModbusLocker(n, b, c) for n, (b, c) in coils.items()], flash=True
    )
    pico_sim = PicoSimulator({name: i + 1 for i, name in enumerate(NAMES)})
    pico = PicoHardware.open_port(
        pico_sim.path, [PicoLocker(n, i + 1) for i, n in enumerate(NAMES)]
    )
    for sim in (gpio_sim, modbus_sim, pico_sim):
        for name in sim.behaviour:
            sim.behaviour[name] = DoorBehaviour.JAMMED  # no door movement: locks only
    return {
        "gpio": (gpio, gpio_sim),
        "cu16": (cu16, cu16_bus),
        "cu48": (cu48, cu48_bus),
        "modbus": (modbus, modbus_sim),
        "pico": (pico, pico_sim),
    }


def open_times(hardware: Any, sim: Any) -> list[float]:
    names = hardware.locker_ids()
    times = []
    for k in range(OPENS):
        name = names[k % len(names)]
        seen = len(sim.energised_at)
        t0 = time.monotonic()
        hardware.energise(name, PULSE_MS)
        deadline = time.monotonic() + 2
        while len(sim.energised_at) == seen and time.monotonic() < deadline:
            time.sleep(0.0002)
        if len(sim.energised_at) == seen:
            raise RuntimeError(f"locker {name}: the simulator never saw its lock energised")
        times.append((sim.energised_at[-1][1] - t0) * 1000)
        time.sleep(PULSE_MS / 1000 + 0.005)  # the pulse ends before the next open
    return times


def poll_times(hardware: Any) -> list[float]:
    times = []
    for _ in range(POLLS):
        t0 = time.perf_counter()
        doors = hardware.read_open()
        times.append((time.perf_counter() - t0) * 1000)
        assert len(doors) == len(hardware.locker_ids())
    return times


def _line_bytes(hardware: Any) -> int:
    if hasattr(hardware, "line_bytes"):
        return sum(hardware.line_bytes)
    return int(hardware.bytes_sent + hardware.bytes_received)


def bytes_per_open(hardware: Any) -> float:
    before = _line_bytes(hardware)
    hardware.energise(NAMES[0], PULSE_MS)
    return _line_bytes(hardware) - before


def main() -> dict[str, float]:
    result: dict[str, float] = {}
    built = rigs()
    try:
        for backend, (hardware, sim) in built.items():
            hardware.read_open()  # the line is open and the co-processor greeted
            result[f"{backend}_open_p95_ms"] = round(p95(open_times(hardware, sim)), 2)
            result[f"{backend}_poll_all_ms"] = round(p95(poll_times(hardware)), 2)
            if backend != "gpio":
                time.sleep(0.05)
                result[f"{backend}_bytes_per_open"] = bytes_per_open(hardware)
    finally:
        for hardware, sim in built.values():
            hardware.close()
            sim.stop()
    result["doors"] = DOORS
    result["gpio_doors"] = GPIO_DOORS
    result["opens"] = OPENS
    return result


if __name__ == "__main__":
    print(json.dumps(main()))
