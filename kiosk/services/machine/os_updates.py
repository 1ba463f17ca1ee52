"""What `kiosk doctor` says of the operating system's own updates (docs/updates.md,
"The OS"): when unattended-upgrades last ran and what it last did, and whether a reboot
is waiting (Debian's /run/reboot-required, which the packages that need one write)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

STAMP = "var/lib/apt/periodic/unattended-upgrades-stamp"
LOG = "var/log/unattended-upgrades/unattended-upgrades.log"
REBOOT = "run/reboot-required"
REBOOT_PKGS = "run/reboot-required.pkgs"


def _last_action(log: Path) -> str:
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    for line in reversed(lines):
        if "Packages that will be upgraded:" in line or "No packages found" in line:
            return line.split(" INFO ", 1)[-1].strip()
    return ""


def os_update_lines(root: Path = Path("/")) -> list[str]:
    stamp = root / STAMP
    if stamp.exists():
        when = datetime.fromtimestamp(stamp.stat().st_mtime, UTC).strftime("%Y-%m-%d %H:%M UTC")
        did = _last_action(root / LOG)
        last = f"last run {when}" + (f" ({did})" if did else "")
    else:
        last = "never run (unattended-upgrades not installed or not yet due)"
    lines = [f"system updates: {last}"]
    if (root / REBOOT).exists():
        try:
            pkgs = " ".join((root / REBOOT_PKGS).read_text().split())
        except OSError:
            pkgs = ""
        lines.append("reboot pending" + (f" for {pkgs}" if pkgs else "") +
                     ": it happens in the closed hours (provisioning --reboot-at)")  # fmt: skip
    else:
        lines.append("reboot pending: no")
    return lines
