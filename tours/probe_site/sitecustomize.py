"""Loaded by Python at start-up when this folder is on PYTHONPATH (the person test
only): with KIOSK_PROBE_DIR set, the kiosk answers the test's questions about its
widgets (tours/probe.py). The kiosk itself is started unchanged."""

import os
from pathlib import Path

if os.environ.get("KIOSK_PROBE_DIR"):
    from tours.probe import start

    start(Path(os.environ["KIOSK_PROBE_DIR"]))
