"""Child for test_crash: commits forever, printing each commit number once durable.

Each commit updates a customer-like document, inserts a new one, and enqueues an outbox
entry in one transaction; compaction is made frequent so kills land inside it too.
"""

import sys

from kiosk.storage.store import Store


def main() -> None:
    path, start = sys.argv[1], int(sys.argv[2])
    store = Store(path, compact_min_bytes=16 * 1024, compact_ratio=0.5)
    customers, outbox, meta = store.table("customers"), store.table("outbox"), store.table("meta")
    if not len(meta):
        meta.insert({"last": start - 1})
    i = start
    while True:
        with store.transaction():
            customers.insert({"i": i, "name": "Lefèvre", "pad": "é" * (i % 200)})
            outbox.insert({"i": i, "kind": "customer.created"})
            meta.update({"last": i}, doc_ids=[1])
        sys.stdout.write(f"{i}\n")
        sys.stdout.flush()
        i += 1


if __name__ == "__main__":
    main()
