"""Every file operation the store makes, through one small interface (as SQLite's VFS).

`Files` is the real thing, the operating system's calls. The power-loss test
(tests/reliability/power_loss.py) passes a layer that records each operation with its
bytes, so it can build every state a power cut may leave at every sync point: only what
was synced survives; unsynced writes lost, torn at a sector, or reordered; a rename or a
new file's name lost without its directory's fsync.

What each call promises, and what the store relies on:

- `datasync(fd)` / `fsync(fd)`: the file's bytes and size written so far survive a power
  cut (not its name: a new or renamed file needs `fsync_dir` of its directory).
- `rename(src, dst)`: atomic; after a power cut `dst` names the old or the new file, and
  only `fsync_dir` makes it the new one for sure.
- Everything else may be lost, torn or reordered until the next sync.

The directory's LOCK file (an advisory flock between processes) holds no data and stays
outside this interface.
"""

from __future__ import annotations

import os
from pathlib import Path


class Files:
    """The operating system's file calls (the store's default)."""

    def open_append(self, path: Path) -> int:
        """Open for appending, creating the file if missing (its name is not durable
        until the directory is fsynced)."""
        return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def create(self, path: Path) -> int:
        """A new, empty file for writing (an existing one is emptied)."""
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)

    def write(self, fd: int, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]

    def datasync(self, fd: int) -> None:
        os.fdatasync(fd)

    def fsync(self, fd: int) -> None:
        os.fsync(fd)

    def truncate(self, fd: int, size: int) -> None:
        os.ftruncate(fd, size)

    def size(self, fd: int) -> int:
        return os.fstat(fd).st_size

    def close(self, fd: int) -> None:
        os.close(fd)

    def read(self, path: Path) -> bytes | None:
        """The whole file, or None if there is none."""
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None

    def exists(self, path: Path) -> bool:
        return path.exists()

    def rename(self, src: Path, dst: Path) -> None:
        os.replace(src, dst)

    def unlink(self, path: Path) -> None:
        path.unlink(missing_ok=True)

    def fsync_dir(self, path: Path) -> None:
        fsync_dir(path)


def fsync_dir(path: Path) -> None:
    """Make a rename or a new file's name durable: fsync its directory."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_synced(files: Files, path: Path, data: bytes) -> None:
    fd = files.create(path)
    try:
        files.write(fd, data)
        files.fsync(fd)
    finally:
        files.close(fd)


def write_durably(files: Files, path: Path, data: bytes) -> None:
    """A new file with data, durable with its name (salvaged bytes kept aside)."""
    _write_synced(files, path, data)
    files.fsync_dir(path.parent)


def replace_atomically(files: Files, target: Path, data: bytes) -> None:
    """Write data to target so that target is always either the old or the new file,
    and the new one once this returns."""
    tmp = target.with_name(target.name + ".tmp")
    _write_synced(files, tmp, data)
    files.rename(tmp, target)
    files.fsync_dir(target.parent)
