"""Opening the store: the snapshot, then every complete journal record after it; a torn
tail (a commit the power cut short) cut off; damage that a torn write cannot explain
refused, or kept aside with `--salvage`."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.storage import journal, snapshot
from kiosk.storage.documents import DocTable, encode
from kiosk.storage.errors import StoreCorrupt
from kiosk.storage.files import Files, write_durably
from kiosk.storage.journal import JOURNAL_NAME, SNAPSHOT_NAME
from kiosk.storage.snapshot import SavedIndex

log = logging.getLogger(__name__)


@dataclass
class RecoveryReport:
    snapshot_seq: int = 0
    records_replayed: int = 0
    records_skipped: int = 0  # already in the snapshot
    torn_bytes: int = 0  # an unacknowledged record cut off the tail
    salvaged_to: str = ""  # damaged middle of the journal, kept aside
    seconds: float = 0.0


@dataclass
class Recovered:
    report: RecoveryReport
    data: dict[str, DocTable] = field(default_factory=dict)
    seq: int = 0
    snapshot_bytes: int = 0
    # The indexes the snapshot carries, and the snapshot's version of every document the
    # journal changed since (table → key → JSON, None if it was not there): what a saved
    # index needs to catch up with the journal.
    indexes: dict[str, SavedIndex] = field(default_factory=dict)
    touched: dict[str, dict[str, bytes | None]] = field(default_factory=dict)


def recover(files: Files, directory: Path, salvage: bool) -> Recovered:
    """The database as the snapshot and the journal hold it; a torn tail cut off."""
    started = time.perf_counter()
    report = RecoveryReport()
    snapshot_path, journal_path = directory / SNAPSHOT_NAME, directory / JOURNAL_NAME
    state = Recovered(report)
    files.unlink(snapshot_path.with_name(snapshot_path.name + ".tmp"))
    data = files.read(snapshot_path)
    if data is not None:
        found = journal.scan(data)
        if len(found.payloads) != 1 or not found.clean:
            raise StoreCorrupt(
                f"{snapshot_path}: snapshot is damaged (checksum or length wrong); "
                "it is written by atomic replace, so this is media damage: restore it "
                "from a backup or the back office"
            )
        saved = snapshot.decode(found.payloads[0][1], str(snapshot_path))
        state.data, state.indexes = saved.tables, saved.indexes
        state.seq = report.snapshot_seq = saved.seq
        state.snapshot_bytes = len(data)
    data = files.read(journal_path)
    if data is None:
        report.seconds = time.perf_counter() - started
        return state
    found = journal.scan(data)
    for offset, payload in found.payloads:
        try:
            body = json.loads(payload)
            seq = body["s"]
        except (ValueError, KeyError, TypeError) as exc:
            raise StoreCorrupt(
                f"{journal_path}: record at byte {offset} has a valid checksum but "
                f"cannot be read ({exc}); was it written by a newer version?"
            ) from exc
        if seq <= state.seq:
            report.records_skipped += 1
            continue
        if seq != state.seq + 1:
            raise StoreCorrupt(
                f"{journal_path}: record at byte {offset} has sequence {seq}, "
                f"expected {state.seq + 1}: a commit is missing"
            )
        _replay(state, body["o"])
        state.seq = seq
        report.records_replayed += 1
    if not found.clean:
        later = journal.later_record_after(data, found.good_end)
        if later is not None:
            if not salvage:
                raise StoreCorrupt(
                    f"{journal_path}: the record at byte {found.good_end} is damaged "
                    f"and intact records follow at byte {later}; this is not a torn "
                    "write. Run `kiosk store check --salvage` to keep the damaged part "
                    "aside and open with the commits before it"
                )
            aside = directory / f"{JOURNAL_NAME}.damaged-{int(time.time())}"
            write_durably(files, aside, data[found.good_end :])
            report.salvaged_to = str(aside)
            log.error("journal damaged at byte %d; kept aside in %s", found.good_end, aside)
        else:
            report.torn_bytes = found.size - found.good_end
            log.warning("cut %d bytes of an unfinished commit", report.torn_bytes)
        # No fsync: the next commit's makes the cut durable; lost before then, the
        # torn tail comes back and is cut again (the power-loss test's double cut).
        fd = files.open_append(journal_path)
        try:
            files.truncate(fd, found.good_end)
        finally:
            files.close(fd)
    report.seconds = time.perf_counter() - started
    return state


def _replay(state: Recovered, ops: list[list[Any]]) -> None:
    for name, key, doc in ops:
        docs = state.data.get(name)
        touched = state.touched.setdefault(name, {})
        if key is None:
            if docs is not None:
                for gone in docs:
                    touched.setdefault(gone, docs.raw(gone))
            state.data.pop(name, None)
            continue
        if docs is None:
            docs = state.data[name] = DocTable()
        touched.setdefault(key, docs.raw(key))
        docs.set_raw(key, None if doc is None else encode(doc))
