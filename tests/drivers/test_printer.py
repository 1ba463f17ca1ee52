"""The printer driver through python-escpos connections: the simulator and a File."""

import time

import pytest
from escpos.printer import File

from kiosk.drivers.base import DeviceState
from kiosk.drivers.printer.codepages import profile_codepages
from kiosk.drivers.printer.escpos_printer import EscposPrinter, PrinterCashDrawer, PrinterFault
from kiosk.drivers.printer.interpreter import EscPosInterpreter
from kiosk.drivers.printer.simulator import SimulatedPrinter
from kiosk.receipts.document import Cut, Text, to_escpos

JOB = to_escpos([Text("Reçu : 12,50 €", bold=True), Cut()])


@pytest.fixture
def sim():
    return SimulatedPrinter()


@pytest.fixture
def printer(sim):
    return EscposPrinter(lambda: sim)


def test_prints_when_ready(sim, printer):
    assert printer.status().state is DeviceState.READY
    printer.print_job(JOB)
    assert list(sim.jobs) == [JOB]
    (page,) = sim.render(JOB).pages
    assert "Reçu : 12,50 €" in page.text


@pytest.mark.parametrize(
    ("setup", "detail"),
    [
        ({"paper": "out"}, "paper out"),
        ({"cover_open": True}, "cover open"),
        ({"offline": True}, "offline"),
    ],
)
def test_faults_refuse_the_job_with_a_reason(sim, printer, setup, detail):
    for key, value in setup.items():
        setattr(sim, key, value)
    with pytest.raises(PrinterFault, match=detail):
        printer.print_job(JOB)
    assert list(sim.jobs) == []
    assert printer.status_stream.latest.state is DeviceState.FAULT


def test_paper_low_is_a_warning_and_still_prints(sim, printer):
    sim.paper = "low"
    assert printer.status().state is DeviceState.WARNING
    printer.print_job(JOB)
    assert list(sim.jobs) == [JOB]


def test_no_reply_is_unknown_not_offline(sim, printer):
    sim.no_reply = True
    status = printer.status()
    assert status.state is DeviceState.UNKNOWN
    printer.print_job(JOB)  # tried anyway
    assert list(sim.jobs) == [JOB]


def test_stuck_printer_times_out_instead_of_hanging(sim, printer):
    sim.stuck = True
    with pytest.raises(PrinterFault, match="link lost while printing"):
        printer.print_job(JOB)
    assert printer.status_stream.latest.state is DeviceState.FAULT


def test_status_changes_are_published_once(sim, printer):
    seen = []
    printer.status_stream.subscribe(lambda s: seen.append((s.state, s.detail)))
    printer.status()
    printer.status()
    sim.paper = "out"
    printer.status()
    assert seen == [(DeviceState.READY, "ready"), (DeviceState.FAULT, "paper out")]


def test_file_connection_prints_the_same_bytes(tmp_path):
    path = tmp_path / "lp0"
    path.touch()
    printer = EscposPrinter(lambda: File(str(path), profile="TM-T20II"))
    assert printer.status().state is DeviceState.UNKNOWN  # a file cannot answer
    printer.print_job(JOB)
    printer.close()
    data = path.read_bytes()
    assert data.endswith(JOB)
    pages = EscPosInterpreter(profile_codepages("TM-T20II")).run(data).pages
    assert "Reçu : 12,50 €" in pages[0].text


def test_cash_drawer_kick_goes_through_the_printer(sim, printer):
    PrinterCashDrawer(printer).kick()
    assert sim.render(sim.jobs[-1]).drawer_pulses == 1


def test_missing_printer_is_a_fault():
    def connect():
        raise OSError("no such device /dev/usb/lp0")

    status = EscposPrinter(connect).status()
    assert status.state is DeviceState.FAULT and "/dev/usb/lp0" in status.detail


def _serial_printer(path):
    from escpos.printer import Serial

    def connect():
        p = Serial(path, baudrate=38400, timeout=0.3, profile="TM-T20II")
        p.open()
        p.device.write_timeout = 1.0
        return p

    return connect


def test_serial_printer_over_a_pty_reads_real_status_bytes():
    from kiosk.drivers.printer.simulator import StreamPrinterSimulator

    sim = StreamPrinterSimulator()
    path = sim.start_pty()
    printer = EscposPrinter(_serial_printer(path))
    try:
        assert printer.status().state is DeviceState.READY
        sim.printer.paper = "low"
        assert printer.status().state is DeviceState.WARNING
        printer.print_job(JOB)
        time.sleep(0.2)
        assert JOB in bytes(sim.received)
        sim.printer.cover_open = True
        with pytest.raises(PrinterFault, match="cover open"):
            printer.print_job(JOB)
        sim.printer.cover_open = False
        sim.printer.no_reply = True  # the serial read times out: unknown, not offline
        assert printer.status().state is DeviceState.UNKNOWN
    finally:
        printer.close()
        sim.stop()


def test_network_printer_over_tcp():
    from escpos.printer import Network

    from kiosk.drivers.printer.simulator import StreamPrinterSimulator

    sim = StreamPrinterSimulator()
    port = sim.start_tcp()
    printer = EscposPrinter(lambda: Network("127.0.0.1", port, timeout=0.5, profile="TM-T20II"))
    try:
        assert printer.status().state is DeviceState.READY
        sim.printer.paper = "out"
        with pytest.raises(PrinterFault, match="paper out"):
            printer.print_job(JOB)
    finally:
        printer.close()
        sim.stop()
