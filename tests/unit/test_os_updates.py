"""`kiosk doctor`'s lines on the OS's own updates, read from the files Debian's
unattended-upgrades and packages write (a staged root here)."""

import os
from datetime import UTC, datetime
from pathlib import Path

from kiosk.services.machine.os_updates import LOG, REBOOT, REBOOT_PKGS, STAMP, os_update_lines

# as unattended-upgrades 2.9 (Debian 12) logs a run
RUN = """2026-12-01 03:12:04,101 INFO Starting unattended upgrades script
2026-12-01 03:12:04,102 INFO Allowed origins are: origin=Debian,codename=bookworm-security
2026-12-01 03:12:09,554 INFO Packages that will be upgraded: libssl3 openssl
2026-12-01 03:12:31,870 INFO All upgrades installed
"""


def test_never_run_and_no_reboot(tmp_path: Path) -> None:
    assert os_update_lines(tmp_path) == [
        "system updates: never run (unattended-upgrades not installed or not yet due)",
        "reboot pending: no",
    ]


def test_last_run_what_it_did_and_a_reboot_waiting(tmp_path: Path) -> None:
    for name, text in ((STAMP, ""), (LOG, RUN), (REBOOT, "*** System restart required ***\n"),
                       (REBOOT_PKGS, "libssl3\nlinux-image-rpi-v8\n")):  # fmt: skip
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    at = datetime(2026, 12, 1, 3, 12, 31, tzinfo=UTC).timestamp()
    os.utime(tmp_path / STAMP, (at, at))
    assert os_update_lines(tmp_path) == [
        "system updates: last run 2026-12-01 03:12 UTC "
        "(Packages that will be upgraded: libssl3 openssl)",
        "reboot pending for libssl3 linux-image-rpi-v8: it happens in the closed hours "
        "(provisioning --reboot-at)",
    ]
