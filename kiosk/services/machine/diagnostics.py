"""`kiosk doctor`: every configured device opened and asked how it is, in one table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from kiosk.drivers.base import DeviceState, DeviceStatus
from kiosk.receipts.document import Barcode, Cut, Document, Feed, Pair, Qr, Rule, Text, to_escpos
from kiosk.services.machine.devices import Devices


@dataclass(frozen=True)
class Check:
    device: str
    backend: str
    port: str
    state: DeviceState
    detail: str

    @property
    def faulty(self) -> bool:
        return self.state is DeviceState.FAULT


def _row(devices: Devices, name: str, status: DeviceStatus) -> Check:
    backend, port = devices.where.get(name, ("?", "?"))
    return Check(name, backend, port, status.state, status.detail)


def check_devices(devices: Devices, *, probe_scanner: bool = True) -> list[Check]:
    """probe_scanner=False when the kiosk is running and already listening to it."""
    checks = []
    if devices.printer is not None:
        checks.append(_row(devices, "printer", devices.printer.status()))
    if devices.terminal is not None:
        checks.append(_row(devices, "terminal", devices.terminal.status()))
    if devices.scanner is not None and not probe_scanner:
        checks.append(_row(devices, "scanner", devices.scanner.status_stream.latest))
    elif devices.scanner is not None:
        try:
            devices.scanner.start(lambda code: None)
            status = devices.scanner.status_stream.latest
        except Exception as exc:  # the port or device could not be opened
            status = DeviceStatus("scanner", DeviceState.FAULT, str(exc))
        finally:
            devices.scanner.stop()
        checks.append(_row(devices, "scanner", status))
    if devices.lockers is not None:
        lockers = devices.lockers
        doors = ", ".join(f"{i}:{lockers.door(i)}" for i in lockers.locker_ids())
        latest = lockers.status_stream.latest
        checks.append(
            _row(devices, "lockers", DeviceStatus("lockers", latest.state, f"doors {doors}"))
        )
        for healthy, text in lockers.describe():
            state = DeviceState.READY if healthy else DeviceState.FAULT
            checks.append(_row(devices, "lockers", DeviceStatus("lockers", state, text)))
    return checks


def device_health(devices: Devices) -> dict[str, str]:
    """Each device's last known state, from its status stream (no I/O): the heartbeat's
    `health`, which the back office's fleet page shows."""
    found = {}
    for name in ("printer", "terminal", "scanner", "lockers"):
        stream = getattr(getattr(devices, name, None), "status_stream", None)
        if stream is not None:
            latest = stream.latest
            found[name] = f"{latest.state.value}: {latest.detail}"[:200]
    return found


def format_table(checks: list[Check]) -> str:
    rows = [("DEVICE", "BACKEND", "PORT", "STATUS", "DETAIL")]
    rows += [(c.device, c.backend, c.port, c.state.value, c.detail) for c in checks]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join(
        "  ".join(cell.ljust(widths[i]) if i < 4 else cell for i, cell in enumerate(row))
        for row in rows
    )


def test_page(shop_name: str, codepage: str) -> Document:
    """What a technician prints to check paper, cutter, code page, QR and barcode."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return [
        Text(shop_name, align="center", bold=True, size=2),
        Text("Printer test / Test imprimante", align="center", bold=True),
        Rule(),
        Pair("Date", now),
        Pair("Code page", codepage),
        Text("Accents : é è ê à ç ù ô î ï ë"),
        Text("Euro : 12,50 € - Pound : £3.20"),
        Rule("="),
        Qr("KIOSK-TEST-QR", size=5),
        Barcode("KIOSK-TEST"),
        Feed(2),
        Cut(),
    ]


def print_test_page(devices: Devices, shop_name: str, codepage: str) -> None:
    if devices.printer is None:
        raise RuntimeError("no printer is configured")
    devices.printer.print_job(to_escpos(test_page(shop_name, codepage), codepage=codepage))
