"""`kiosk doctor` on the demo's simulated devices, and with faults."""

import re

import pytest

from kiosk import config
from kiosk.cli import main
from kiosk.drivers.base import DeviceState
from kiosk.services.machine.devices import open_devices
from kiosk.services.machine.diagnostics import check_devices
from kiosk.services.machine.firmware import source_dir, source_version


def test_doctor_on_the_demo_devices(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KIOSK_DEMO_DIR", str(tmp_path))
    assert main(["--config", "demo", "doctor", "--print-test", "--open-locker", "1"]) == 0
    out = capsys.readouterr().out
    for device in ("printer", "terminal", "scanner", "lockers"):
        assert device in out
    assert "test page: sent to the printer" in out and "locker 1: opened" in out
    assert "Using hardware" not in out


@pytest.mark.parametrize(
    ("profile", "board"),
    [
        ("demo-cu16", "KR-CU16 board 2: answers; 2 lockers, hooks 1111111111111111"),
        ("demo-cu48", "KR-CU48 board 2: answers; 2 lockers"),
        ("demo-modbus", "Modbus board 2: answers; doors all shut; pulses timed by the board"),
        ("demo-pico", f"firmware {source_version(source_dir())}, boot "),
    ],
)
def test_doctor_on_each_locker_backends_simulator(tmp_path, monkeypatch, capsys, profile, board):
    monkeypatch.setenv("KIOSK_DEMO_DIR", str(tmp_path))
    assert main(["--config", profile, "doctor", "--open-locker", "3"]) == 0
    out = capsys.readouterr().out
    assert board in out and "locker 3: opened" in out
    assert "doors 1:closed, 2:closed, 3:closed, 4:closed" in out


def test_a_silent_locker_board_makes_doctor_fail(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KIOSK_DEMO_DIR", str(tmp_path))
    devices = open_devices(config.demo(str(tmp_path), lockers="cu16"))
    try:
        devices.simulators["lockers"].boards[2].silent = True
        checks = [c for c in check_devices(devices) if c.device == "lockers"]
        assert [c.state for c in checks[1:]] == [DeviceState.READY, DeviceState.FAULT]
        assert checks[2].detail == "KR-CU16 board 2: no answer"
    finally:
        devices.close()


def test_doctor_exits_1_on_a_faulty_device(tmp_path, capsys):
    cfg_file = tmp_path / "k.toml"
    cfg_file.write_text(
        f'[shop]\nname = "x"\n[kiosk]\nid = "K1"\ndata_dir = "{tmp_path}"\n'
        f'[terminal]\nbackend = "serial"\nport = "{tmp_path}/no-terminal"\n'
        '[scanner]\nbackend = "none"\n'
    )
    assert main(["--config", str(cfg_file), "doctor"]) == 1
    captured = capsys.readouterr()
    assert "terminal" in captured.out and "fault" in captured.out
    assert "1 device(s) faulty: terminal" in captured.err


def test_paper_out_shows_in_the_table(tmp_path):
    devices = open_devices(config.demo(str(tmp_path)))
    try:
        devices.simulators["printer"].paper = "out"
        checks = {c.device: c for c in check_devices(devices)}
        assert (
            checks["printer"].state is DeviceState.FAULT and checks["printer"].detail == "paper out"
        )
        assert checks["terminal"].state is DeviceState.READY
    finally:
        devices.close()


def test_jammed_locker_fails_open_locker(tmp_path, capsys, monkeypatch):
    from kiosk.drivers.drawer.simulator import DoorBehaviour

    monkeypatch.setenv("KIOSK_DEMO_DIR", str(tmp_path))
    real_open = open_devices

    def jammed(cfg):
        devices = real_open(cfg)
        devices.simulators["lockers"].behaviour["3"] = DoorBehaviour.JAMMED
        devices.lockers.timings = type(devices.lockers.timings)(pulse_ms=50, open_timeout_s=0.5)
        return devices

    monkeypatch.setattr("kiosk.services.machine.devices.open_devices", jammed)
    assert main(["--config", "demo", "doctor", "--open-locker", "3"]) == 1
    assert "locker 3: NOT opened" in capsys.readouterr().out


def test_doctor_shows_the_terminals_software_and_status(tmp_path, monkeypatch, capsys):
    """The status enquiry's completion (PA00P015 §2.56.5): software version and terminal
    status code; DF (out of order) makes the terminal faulty, DC (card inserted) busy."""
    monkeypatch.setenv("KIOSK_DEMO_DIR", str(tmp_path))
    assert main(["--config", "demo", "doctor"]) == 0
    assert "ready (software GER-APP 5.2.1)" in capsys.readouterr().out
    devices = open_devices(config.demo(str(tmp_path)))
    try:
        for code, state, detail in (
            (0xDF, DeviceState.FAULT, "out of order"),
            (0xDC, DeviceState.BUSY, "card inserted"),
        ):
            devices.simulators["terminal"].terminal_status = code
            checks = {c.device: c for c in check_devices(devices)}
            assert checks["terminal"].state is state
            assert checks["terminal"].detail == f"{detail} (software GER-APP 5.2.1)"
    finally:
        devices.close()


def test_gpio_lockers_without_a_gpio_device_are_a_fault_and_the_rest_runs(
    tmp_path, monkeypatch, capsys
):
    """lgpio on a machine with no /dev/gpiochip* (a chroot, a container, not a Pi): the
    lockers' rows say so, every other device is ready, the kiosk is not stopped."""
    monkeypatch.setattr("kiosk.drivers.drawer.gpio.glob.glob", lambda pattern: [])
    cfg_file = tmp_path / "k.toml"
    cfg_file.write_text(
        f'[shop]\nname = "x"\n[kiosk]\nid = "K1"\ndata_dir = "{tmp_path}"\n'
        '[lockers]\nbackend = "gpio"\npin_factory = "lgpio"\n'
        '[[lockers.locker]]\nid = "1"\nlock_pin = 17\ndoor_pin = 27\n'
    )
    assert main(["--config", str(cfg_file), "doctor", "--open-locker", "1"]) == 1
    out = capsys.readouterr().out
    assert "no /dev/gpiochip* here: not a Raspberry Pi" in out
    assert "locker 1: NOT opened (the door cannot be read: pin factory 'lgpio'" in out
    for device in ("printer", "terminal", "scanner"):
        assert re.search(rf"^{device}\s.*\sready\s", out, re.M), out
