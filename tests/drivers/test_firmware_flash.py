"""`kiosk firmware flash` with the real mpremote against a simulated Pico: MicroPython
(WebAssembly port) on a pty whose file system is a folder, running main.py at start or
its REPL. A blank Pico gets the firmware; a running old one is put into maintenance,
updated (its wiring kept) and answers with the new version; a second flash does
nothing."""

import pytest

from kiosk.drivers.drawer.bank import LockerBank, LockerTimings
from kiosk.drivers.drawer.pico import PicoHardware, PicoLocker
from kiosk.drivers.drawer.pico_sim import PicoSimulator, flashed
from kiosk.services.machine.firmware import device_version, flash, source_dir, source_version

WANT = source_version(source_dir())


@pytest.fixture
def chip(tmp_path):
    sims = []

    def start(folder):
        sim = PicoSimulator({"1": 1, "2": 2}, flash=folder, open_after_s=0.05, close_after_s=0.2)
        sims.append(sim)
        return sim

    yield start
    for sim in sims:
        sim.stop()


def test_a_blank_pico_gets_the_firmware_and_then_opens_lockers(chip, tmp_path):
    blank = tmp_path / "flash"
    blank.mkdir()
    sim = chip(blank)
    assert sim.mode == "repl" and device_version(sim.path) is None
    result = flash(sim.path, say=lambda _: None)
    assert result.changed and result.version == WANT
    assert sorted(p.name for p in blank.glob("*.py")) == sorted(
        p.name for p in source_dir().glob("*.py")
    )
    assert (blank / "lib" / "logging" / "__init__.py").exists()
    assert sim.mode == "firmware"
    hardware = PicoHardware.open_port(sim.path, [PicoLocker("1", 1)])
    bank = LockerBank(hardware, LockerTimings())
    try:
        # mpremote's reset goes through the RP2040's watchdog: the flag left before it
        # says it was asked for, not a stalled loop
        assert "last reset asked for" in hardware.describe()[0][1]
        assert bank.wait_stable()
        assert bank.open("1").opened
    finally:
        bank.close()
    again = flash(sim.path, say=lambda _: None)
    assert not again.changed and "already" in again.detail


def test_an_old_firmware_is_updated_and_the_wiring_kept(chip, tmp_path):
    old = flashed(tmp_path)
    (old / "version.py").write_text('VERSION = "0.9.0"\n')
    wiring = (old / "board.py").read_text() + "# bank 3, rewired by the technician\n"
    (old / "board.py").write_text(wiring)
    sim = chip(old)
    assert device_version(sim.path) == "0.9.0"
    said = []
    result = flash(sim.path, say=said.append)
    assert result.changed and "was 0.9.0" in result.detail
    assert said == ["firmware 0.9.0 running: asking it for maintenance"]
    assert device_version(sim.path) == WANT
    assert (old / "board.py").read_text() == wiring
    assert not (old / "maintenance").exists()
