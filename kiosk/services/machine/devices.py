"""Building the kiosk's devices from configuration: the only place that knows which
backend stands behind each protocol. With `sim` backends the simulators are started
here too, and the real drivers talk to them over a pty, gpiozero's MockFactory or a
python-escpos connection, exactly as they would to hardware."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.config import Config
from kiosk.drivers.drawer.bank import LockerBank, LockerError, LockerTimings, LockHardware
from kiosk.drivers.drawer.cu16 import Cu16Hardware
from kiosk.drivers.drawer.cu48 import Cu48Hardware
from kiosk.drivers.drawer.gpio import GpioHardware, LockerPins, NoPins, pin_factory
from kiosk.drivers.drawer.kerong import KerongLocker
from kiosk.drivers.drawer.modbus import ModbusHardware, ModbusLocker
from kiosk.drivers.drawer.pico import PicoHardware, PicoLocker
from kiosk.drivers.drawer.simulator import LockerBankSimulator
from kiosk.drivers.printer.codepages import check_codepage
from kiosk.drivers.printer.escpos_printer import EscposPrinter, PrinterCashDrawer
from kiosk.drivers.printer.simulator import SimulatedPrinter
from kiosk.drivers.scanner.reader import SerialScanner, WedgeScanner
from kiosk.drivers.scanner.simulator import ScannerSimulator
from kiosk.drivers.terminal.link import SerialLink, TcpLink, ZvtLink
from kiosk.drivers.terminal.simulator import TerminalSimulator
from kiosk.drivers.terminal.zvt import ZvtTerminal, ZvtTimeouts


@dataclass
class Devices:
    printer: EscposPrinter | None = None
    cash_drawer: PrinterCashDrawer | None = None
    terminal: ZvtTerminal | None = None
    scanner: SerialScanner | WedgeScanner | None = None
    lockers: LockerBank | None = None
    where: dict[str, tuple[str, str]] = field(default_factory=dict)  # device → (backend, port)
    simulators: dict[str, Any] = field(default_factory=dict)

    def close(self) -> None:
        for device in (self.printer, self.terminal, self.lockers):
            if device is not None:
                with contextlib.suppress(Exception):
                    device.close()
        if self.scanner is not None:
            self.scanner.stop()
        for sim in self.simulators.values():
            with contextlib.suppress(Exception):
                (getattr(sim, "stop", None) or sim.close)()


def _printer_connection(config: Config, devices: Devices) -> Any:
    cfg = config.printer
    check_codepage(cfg.profile, cfg.codepage)
    if cfg.backend == "sim":
        sim = SimulatedPrinter(
            profile=cfg.profile, output_dir=Path(cfg.sim_output_dir) if cfg.sim_output_dir else None
        )
        devices.simulators["printer"] = sim
        devices.where["printer"] = ("sim", cfg.sim_output_dir or "(in memory)")
        return lambda: sim
    if cfg.backend == "usb":
        from escpos.printer import Usb

        devices.where["printer"] = ("usb", f"{cfg.usb_vendor:04x}:{cfg.usb_product:04x}")
        return lambda: Usb(
            cfg.usb_vendor,
            cfg.usb_product,
            timeout=int(cfg.write_timeout_s * 1000),
            profile=cfg.profile,
        )
    if cfg.backend == "serial":
        from escpos.printer import Serial

        def serial_printer() -> Any:
            p = Serial(
                cfg.port, baudrate=cfg.baudrate, timeout=cfg.status_timeout_s, profile=cfg.profile
            )
            p.open()
            p.device.write_timeout = cfg.write_timeout_s  # python-escpos sets none
            return p

        devices.where["printer"] = ("serial", cfg.port)
        return serial_printer
    if cfg.backend == "network":
        from escpos.printer import Network

        devices.where["printer"] = ("network", f"{cfg.host}:{cfg.tcp_port}")
        return lambda: Network(
            cfg.host, cfg.tcp_port, timeout=cfg.write_timeout_s, profile=cfg.profile
        )
    from escpos.printer import File

    devices.where["printer"] = ("file", cfg.port)
    return lambda: File(cfg.port, profile=cfg.profile)


def _terminal_link(config: Config, devices: Devices) -> Any:
    cfg = config.terminal
    if cfg.backend == "tcp":
        devices.where["terminal"] = ("tcp", f"{cfg.host}:{cfg.tcp_port}")
        return lambda: TcpLink.open(cfg.host, cfg.tcp_port, timeout=cfg.command_ack_s)
    port = cfg.port
    if cfg.backend == "sim":
        sim = TerminalSimulator()
        port = sim.start_pty()
        devices.simulators["terminal"] = sim
    devices.where["terminal"] = (cfg.backend, port)

    def link() -> ZvtLink:
        return SerialLink.open(port, cfg.baudrate, ack_timeout=cfg.ack_timeout_s)

    return link


def open_devices(config: Config) -> Devices:
    devices = Devices()
    try:
        if config.printer.backend != "none":
            devices.printer = EscposPrinter(_printer_connection(config, devices))
            if config.printer.cash_drawer:
                devices.cash_drawer = PrinterCashDrawer(devices.printer)
        if config.terminal.backend != "none":
            t = config.terminal
            devices.terminal = ZvtTerminal(
                _terminal_link(config, devices),
                password=t.password,
                currency=t.currency_code,
                timeouts=ZvtTimeouts(command_ack_s=t.command_ack_s, idle_s=t.idle_s),
                charset=t.charset,
            )
        if config.scanner.backend == "sim":
            scan_sim = ScannerSimulator()
            devices.simulators["scanner"] = scan_sim
            devices.scanner = SerialScanner(scan_sim.path)
            devices.where["scanner"] = ("sim", scan_sim.path)
        elif config.scanner.backend == "serial":
            devices.scanner = SerialScanner(config.scanner.port, config.scanner.baudrate)
            devices.where["scanner"] = ("serial", config.scanner.port)
        elif config.scanner.backend == "evdev":
            devices.scanner = WedgeScanner(config.scanner.device)
            devices.where["scanner"] = ("evdev", config.scanner.device)
        if config.lockers.locker:
            lc = config.lockers
            devices.lockers = LockerBank(
                _locker_hardware(config, devices),
                LockerTimings(lc.pulse_ms, lc.debounce_ms, lc.open_timeout_s, lc.left_open_alarm_s),
            )
            if "lockers" in devices.simulators:
                devices.simulators["lockers"].start()
            devices.lockers.wait_stable()
            devices.lockers.start()
    except BaseException:
        devices.close()
        raise
    return devices


def _locker_hardware(config: Config, devices: Devices) -> LockHardware:
    """The configured backend; with `pin_factory = "mock"` (gpio) or `port = "sim"`, its
    simulator too (a GPIO one is started once the bank holds its pins)."""
    lc = config.lockers
    if lc.backend != "gpio":
        return _serial_lockers(config, devices)
    pins = [
        LockerPins(e.id, e.lock_pin, e.door_pin, lc.locks_active_high, lc.door_closed_is_low)
        for e in lc.locker
    ]
    devices.where["lockers"] = (lc.pin_factory, f"{len(pins)} lockers")
    try:
        factory = pin_factory(lc.pin_factory)
    except LockerError as exc:  # no GPIO here: the lockers are at fault, the kiosk runs
        return NoPins([p.locker for p in pins], str(exc))
    hardware = GpioHardware(pins, factory)
    if lc.pin_factory == "mock":
        devices.simulators["lockers"] = LockerBankSimulator(
            factory, pins, open_after_s=0.3, close_after_s=1.0
        )
    return hardware


# Each board backend's line speed as its boards leave the factory (`baudrate = 0`).
FACTORY_BAUDRATE = {"cu16": 19200, "cu48": 19200, "modbus": 9600}


def _serial_lockers(config: Config, devices: Devices) -> LockHardware:
    """Lock boards (Kerong, Modbus) or the co-processor, on a serial line or a simulator."""
    lc = config.lockers
    places: dict[str, Any] = {
        e.id: e.channel if lc.backend == "pico" else (e.board, e.lock) for e in lc.locker
    }
    port = lc.port
    baudrate = lc.baudrate or FACTORY_BAUDRATE.get(lc.backend, 0)
    if port == "sim":
        line = {"baudrate": baudrate} if baudrate else {}  # the co-processor is on USB
        simulator = _simulator(lc.backend)(places, open_after_s=0.3, close_after_s=1.0, **line)
        simulator.start()
        devices.simulators["lockers"] = simulator
        port = simulator.path
    devices.where["lockers"] = (lc.backend + (" sim" if lc.port == "sim" else ""), port)
    if lc.backend == "pico":
        return PicoHardware.open_port(port, [PicoLocker(n, c) for n, c in places.items()])
    if lc.backend == "modbus":
        coils = [ModbusLocker(n, board, lock) for n, (board, lock) in places.items()]
        return ModbusHardware.open_port(port, baudrate, coils, flash=lc.modbus_flash)
    boards = [KerongLocker(n, board, lock) for n, (board, lock) in places.items()]
    model = Cu48Hardware if lc.backend == "cu48" else Cu16Hardware
    return model.open_port(port, baudrate, boards, hook_closed_bit=lc.hook_closed_bit)


def _simulator(backend: str) -> Any:
    """The backend's simulator class (imported only when asked for)."""
    if backend == "pico":
        from kiosk.drivers.drawer.pico_sim import PicoSimulator

        return PicoSimulator
    if backend == "modbus":
        from kiosk.drivers.drawer.modbus_sim import ModbusBusSimulator

        return ModbusBusSimulator
    from kiosk.drivers.drawer.kerong_sim import Cu16BusEmulator, Cu48BusEmulator

    return Cu48BusEmulator if backend == "cu48" else Cu16BusEmulator
