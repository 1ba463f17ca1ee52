"""The snapshot's layout: what compaction writes and opening reads.

The snapshot is one checksummed record (`journal.frame`). Its payload, format 2:

    {"v":2,"s":<seq>,"t":[[table, bytes], …],"i":[[index, table, fingerprint, bytes], …]}\\n
    each table:  <key>\\t<document JSON>\\n  per document
    each index:  its entries (`Index.dump`)

so opening splits each table's lines into keys and JSON bytes without decoding a
document, and takes each index's entries as they are. JSON from `documents.dumps` never
holds a raw tab or newline (both are escaped inside strings), and keys are TinyDB's ids.
Format 1 (one JSON object of decoded tables, before 2026-11) is still read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from kiosk.storage.documents import DocTable, dumps
from kiosk.storage.errors import StoreCorrupt

FORMAT_VERSION = 2
_SEPARATORS = re.compile(b"[\t\n]")


@dataclass(frozen=True)
class SavedIndex:
    table: str
    fingerprint: str
    entries: bytes


@dataclass
class Snapshot:
    seq: int = 0
    tables: dict[str, DocTable] = field(default_factory=dict)
    indexes: dict[str, SavedIndex] = field(default_factory=dict)


def encode(
    seq: int,
    tables: dict[str, DocTable],
    indexes: Iterable[tuple[str, str, str, bytes]],
) -> bytes:
    """The payload for tables and (name, table, fingerprint, entries) of each index."""
    sections: list[bytes] = []
    table_sizes = []
    for name, docs in tables.items():
        lines = []
        for key, doc in docs.raw_items():
            if "\t" in key or "\n" in key:
                raise ValueError(f"table {name}: key {key!r} holds a tab or newline")
            lines.append(b"%s\t%s\n" % (key.encode(), doc))
        section = b"".join(lines)
        sections.append(section)
        table_sizes.append([name, len(section)])
    index_sizes = []
    for name, table, fingerprint, entries in indexes:
        sections.append(entries)
        index_sizes.append([name, table, fingerprint, len(entries)])
    header = dumps({"v": FORMAT_VERSION, "s": seq, "t": table_sizes, "i": index_sizes})
    return header.encode() + b"\n" + b"".join(sections)


def decode(payload: bytes, where: str) -> Snapshot:
    end = payload.find(b"\n")
    try:
        header = json.loads(payload[: end if end >= 0 else len(payload)])
        version = header.get("v")
    except (ValueError, AttributeError) as exc:
        raise StoreCorrupt(f"{where}: the snapshot's header cannot be read ({exc})") from exc
    if version == 1:
        return Snapshot(
            header["s"], {name: DocTable.of(docs) for name, docs in header["t"].items()}
        )
    if version != FORMAT_VERSION:
        raise StoreCorrupt(f"{where}: unknown format version {version}")
    snapshot = Snapshot(header["s"])
    pos = end + 1
    for name, size in header["t"]:
        parts = _SEPARATORS.split(payload[pos : pos + size])
        parts.pop()  # after the last newline
        if len(parts) % 2:
            raise StoreCorrupt(f"{where}: table {name} has a line without a document")
        keys = [key.decode() for key in parts[0::2]]
        snapshot.tables[name] = DocTable(dict(zip(keys, parts[1::2], strict=True)))
        pos += size
    for name, table, fingerprint, size in header["i"]:
        snapshot.indexes[name] = SavedIndex(table, fingerprint, payload[pos : pos + size])
        pos += size
    if pos != len(payload):
        raise StoreCorrupt(f"{where}: {len(payload) - pos} bytes after the last section")
    return snapshot
