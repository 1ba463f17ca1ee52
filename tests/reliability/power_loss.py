"""What a power cut leaves of the store's files, at every sync point (issue 13 §1).

`RecordingFiles` is the store's file layer (kiosk/storage/files.py) doing the real
operations in a real folder while writing each one down, with its bytes. `crash_states`
replays that log on a model of a disk and, just before every sync call, builds the
states a power cut may leave:

- a file's content: what its last sync made durable, plus any prefix of the writes and
  truncations since, the last of them torn at a 512-byte sector; or one later write
  without the earlier ones (a reordered write: the gap reads as zeros);
- the folder's names: those its last directory fsync made durable, plus any prefix of
  the renames, creations and removals since (a journaling file system orders its
  metadata).

The model is the one SQLite's crash tests and ALICE use; the difference from a process
kill (tests/reliability/test_crash.py) is that the kernel's page cache is lost too, so a
missing fsync shows.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.storage.files import Files

SECTOR = 512
SYNCS = ("datasync", "fsync", "fsync_dir")


@dataclass
class Op:
    kind: str  # create, open, write, truncate, datasync, fsync, rename, unlink, fsync_dir, mark
    path: str = ""  # the file's name (for fd operations, the name it was opened as)
    fid: int = -1  # which file (an inode)
    data: bytes = b""
    size: int = 0  # a truncation's new size; a write's offset
    dst: str = ""
    site: str = ""  # where in the store a sync was called (function:line)
    mark: tuple[str, int] = ("", 0)  # the workload's own notes: ("begin"|"ack", n)


class RecordingFiles(Files):
    """The real file operations, each written down. `skip` names one sync call site
    ("function:line") to leave out, as if the store had no such call (mutation test)."""

    def __init__(self, skip: str = "") -> None:
        self.ops: list[Op] = []
        self.skip = skip
        self._fids: dict[int, int] = {}  # fd → file id
        self._by_name: dict[str, int] = {}  # current name → file id
        self._next = 0
        self.sites: set[str] = set()

    def adopt(self, folder: Path) -> None:
        """The files already in `folder` (a state a power cut left), as durable."""
        for path in sorted(folder.iterdir()):
            if path.is_file() and path.name != "LOCK":
                self._next += 1
                self._by_name[path.name] = self._next
                self.ops += [Op("create", path.name, self._next),
                             Op("write", fid=self._next, data=path.read_bytes()),
                             Op("fsync", fid=self._next, site="adopted")]  # fmt: skip
        self.ops.append(Op("fsync_dir", site="adopted"))

    def note(self, kind: str, n: int) -> None:
        self.ops.append(Op("mark", mark=(kind, n)))

    def _file(self, path: Path, fd: int, *, new: bool) -> None:
        name = path.name
        if new or name not in self._by_name:
            self._next += 1
            self._by_name[name] = self._next
            self.ops.append(Op("create", name, self._next))
        self._fids[fd] = self._by_name[name]

    def open_append(self, path: Path) -> int:
        fd = super().open_append(path)
        self._file(path, fd, new=False)
        return fd

    def create(self, path: Path) -> int:
        existed = path.name in self._by_name
        fd = super().create(path)
        self._file(path, fd, new=False)
        if existed:  # O_TRUNC of an existing file: its content goes, its name stays
            self.ops.append(Op("truncate", path.name, self._fids[fd], size=0))
        return fd

    def write(self, fd: int, data: bytes) -> None:
        super().write(fd, data)
        self.ops.append(Op("write", fid=self._fids[fd], data=bytes(data)))

    def truncate(self, fd: int, size: int) -> None:
        super().truncate(fd, size)
        self.ops.append(Op("truncate", fid=self._fids[fd], size=size))

    def _sync(self, kind: str, **where: object) -> bool:
        caller = inspect.stack()[2]
        site = f"{caller.function}:{caller.lineno}"
        self.sites.add(site)
        if site == self.skip:
            return False
        self.ops.append(Op(kind, site=site, **where))  # type: ignore[arg-type]
        return True

    def datasync(self, fd: int) -> None:
        if self._sync("datasync", fid=self._fids[fd]):
            super().datasync(fd)

    def fsync(self, fd: int) -> None:
        if self._sync("fsync", fid=self._fids[fd]):
            super().fsync(fd)

    def fsync_dir(self, path: Path) -> None:
        if self._sync("fsync_dir"):
            super().fsync_dir(path)

    def close(self, fd: int) -> None:
        super().close(fd)
        self._fids.pop(fd, None)

    def rename(self, src: Path, dst: Path) -> None:
        super().rename(src, dst)
        self._by_name[dst.name] = self._by_name.pop(src.name)
        self.ops.append(Op("rename", src.name, dst=dst.name))

    def unlink(self, path: Path) -> None:
        super().unlink(path)
        if path.name in self._by_name:
            del self._by_name[path.name]
            self.ops.append(Op("unlink", path.name))


@dataclass
class _File:
    durable: bytes = b""
    current: bytes = b""
    pending: list[Op] = field(default_factory=list)  # writes and truncations since the sync


def _apply(content: bytes, op: Op, tear: int | None = None) -> bytes:
    if op.kind == "truncate":
        return content[: op.size] + b"\0" * max(0, op.size - len(content))
    data = op.data if tear is None else op.data[:tear]
    return content + data  # the store only appends (O_APPEND, or a new file)


def _contents(f: _File) -> Iterator[bytes]:
    """Every content a power cut may leave this file with."""
    seen: set[bytes] = set()

    def once(content: bytes) -> Iterator[bytes]:
        if content not in seen:
            seen.add(content)
            yield content

    content = f.durable
    yield from once(content)
    for op in f.pending:
        if op.kind == "write":
            for tear in range(SECTOR, len(op.data), SECTOR):  # torn at each sector
                yield from once(_apply(content, op, tear))
        content = _apply(content, op)
        yield from once(content)
    if len(f.pending) > 1 and f.pending[-1].kind == "write":
        # the last write reached the disk and the writes or truncation before it did not:
        # its bytes land where it put them, over the old content or past a zero gap
        last = f.pending[-1]
        reordered = bytearray(f.durable)
        reordered.extend(b"\0" * max(0, last.size - len(reordered)))
        reordered[last.size : last.size + len(last.data)] = last.data
        yield from once(bytes(reordered))


@dataclass
class CrashState:
    at: int  # index in the log of the sync call the power was cut before
    site: str
    acked: int  # commits the store had acknowledged
    in_flight: bool  # a commit had begun and not been acknowledged
    files: dict[str, bytes]  # name → content

    def write_to(self, folder: Path) -> None:
        folder.mkdir(parents=True)
        for name, content in self.files.items():
            (folder / name).write_bytes(content)


def crash_states(ops: list[Op], limit_per_point: int = 64) -> Iterator[CrashState]:
    files: dict[int, _File] = {}
    names_durable: dict[str, int] = {}
    names_now: dict[str, int] = {}
    pending_names: list[Op] = []
    acked, in_flight = 0, False

    def states(at: int, site: str) -> Iterator[CrashState]:
        namings = [dict(names_durable)]
        names = dict(names_durable)
        for op in pending_names:
            _name_op(names, op)
            namings.append(dict(names))
        count = 0
        for naming in namings:
            fids = sorted(set(naming.values()))
            for combo in itertools.product(*(list(_contents(files[f])) for f in fids)):
                content = dict(zip(fids, combo, strict=True))
                yield CrashState(at, site, acked, in_flight,
                                 {name: content[fid] for name, fid in naming.items()})  # fmt: skip
                count += 1
                if count >= limit_per_point:
                    return

    for at, op in enumerate(ops):
        if op.kind == "mark":
            kind, n = op.mark
            acked, in_flight = (n, False) if kind == "ack" else (acked, True)
            continue
        if op.kind in SYNCS and op.site != "adopted":  # not the files found at the start
            yield from states(at, op.site)
        if op.kind == "create":
            files[op.fid] = _File()
            names_now[op.path] = op.fid
            pending_names.append(op)
        elif op.kind in ("write", "truncate"):
            f = files[op.fid]
            if op.kind == "write":
                op.size = len(f.current)  # where it lands: the store only appends
            f.current = _apply(f.current, op)
            f.pending.append(op)
        elif op.kind in ("datasync", "fsync"):
            f = files[op.fid]
            f.durable, f.pending = f.current, []
        elif op.kind in ("rename", "unlink"):
            _name_op(names_now, op)
            pending_names.append(op)
        elif op.kind == "fsync_dir":
            names_durable = dict(names_now)
            pending_names = []
    yield from states(len(ops), "end")


def _name_op(names: dict[str, int], op: Op) -> None:
    if op.kind == "create":
        names[op.path] = op.fid
    elif op.kind == "rename":
        if op.path in names:
            names[op.dst] = names.pop(op.path)
    elif op.kind == "unlink":
        names.pop(op.path, None)
