"""Receipt sizes and their time on the printer's serial line, native vs raster, same run.

ticket_bytes: the drop-off ticket as the kiosk sends it (native QR, text logo).
ticket_raster_bytes: the same ticket with the QR and the logo sent as raster images,
as a printer without native QR needs it. The link times are the measured byte counts
on an 8N1 serial line (10 bits per byte) at 9600 and 115200 baud.

    python bench/receipt.py --json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kiosk.drivers.printer.simulator import SimulatedPrinter
from kiosk.receipts.document import to_escpos
from kiosk.receipts.samples import documents


def link_ms(nbytes: int, baud: int) -> float:
    return nbytes * 10 / baud * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="(always) one JSON line last")
    parser.parse_args()
    docs = documents("fr")
    started = time.perf_counter()
    ticket = to_escpos(docs["ticket"])
    build_ms = (time.perf_counter() - started) * 1000
    raster = to_escpos(docs["ticket"], raster=True)
    payment = to_escpos(docs["payment"])
    # both versions must print the same ticket: render each and compare the text
    printer = SimulatedPrinter()
    native_text = printer.render(ticket).pages[0].text
    raster_text = printer.render(raster).pages[0].text
    assert native_text.count("[QR ") == 1 and raster_text.count("[image ") == 2
    print(f"native {len(ticket)} B, raster {len(raster)} B", file=sys.stderr)
    result = {
        "ticket_bytes": len(ticket),
        "ticket_raster_bytes": len(raster),
        "payment_receipt_bytes": len(payment),
        "ticket_link_ms_9600": round(link_ms(len(ticket), 9600), 1),
        "ticket_link_ms_115200": round(link_ms(len(ticket), 115200), 1),
        "ticket_raster_link_ms_9600": round(link_ms(len(raster), 9600), 1),
        "raster_over_native": round(len(raster) / len(ticket), 1),
        "ticket_build_ms": round(build_ms, 2),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
