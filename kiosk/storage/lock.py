"""One process at a time: an exclusive flock on the store folder's LOCK file."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from kiosk.storage.errors import StoreError


def lock_directory(directory: Path) -> int:
    """TinyDB is single-process: a second process writing the same files would lose
    commits. An exclusive flock on LOCK makes a second opener fail at once, by name."""
    fd = os.open(directory / "LOCK", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode(errors="replace").strip() or "another process"
        os.close(fd)
        raise StoreError(
            f"{directory} is in use by process {holder} (is `kiosk run` running?); "
            "only one process may open the store"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd
