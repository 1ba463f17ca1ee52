"""Issue 13 §1–2: the store against power loss, not just a killed process.

A workload of transactions (inserts, updates, removals across two tables, a compaction
in the middle) runs on RecordingFiles; then, before every sync call it made, every state
a power cut may leave (tests/reliability/power_loss.py) is written to a fresh folder and
the store opened from it. The store must open, and hold exactly the acknowledged
commits, or those and the one in flight: nothing half-applied, nothing lost, nothing
corrupt. The expected contents come from the workload's own model, not from the store.

The mutation test leaves out each sync call of the store in turn (as if the line were
deleted) and requires this check to fail: a test that passes without the fsyncs proves
nothing (the SIGKILL test in test_crash.py passes without them).

Fast variant in `make test`; `pytest -m slow` runs 240 commits with compactions.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from kiosk.storage import journal
from kiosk.storage.store import Store, StoreError
from tests.reliability.power_loss import CrashState, RecordingFiles, crash_states

Model = dict[str, dict[int, dict]]


def workload(
    folder: Path, files: RecordingFiles, commits: int, seed: int = 7, start: Model | None = None
) -> list[Model]:
    """Transactions on a store in `folder` (holding `start`, if given); the model after
    each acknowledged one."""
    rng = random.Random(seed)
    # a small journal limit, so compaction (snapshot, rename, journal emptied) happens
    store = Store(folder, files=files, compact_min_bytes=6_000, compact_ratio=1.0)
    model: Model = _copy(start) if start else {"customers": {}, "outbox": {}}
    states = [_copy(model)]
    try:
        for n in range(1, commits + 1):
            files.note("begin", n)
            with store.transaction():
                customers, outbox = store.table("customers"), store.table("outbox")
                ids = sorted(model["customers"])
                action = rng.choice(["insert", "insert", "update", "remove"] if ids else ["insert"])
                if action == "insert":
                    doc = {
                        "name": f"Łukasiewicz {n}",
                        "phone": f"06{n:08d}",
                        "note": "é" * rng.randint(0, 300),
                    }
                    model["customers"][customers.insert(doc)] = doc
                elif action == "update":
                    doc_id = rng.choice(ids)
                    customers.update({"note": f"visit {n}"}, doc_ids=[doc_id])
                    model["customers"][doc_id] = {
                        **model["customers"][doc_id],
                        "note": f"visit {n}",
                    }
                else:
                    doc_id = rng.choice(ids)
                    customers.remove(doc_ids=[doc_id])
                    del model["customers"][doc_id]
                entry = {"kind": action, "n": n}
                model["outbox"][outbox.insert(entry)] = entry  # in the same commit
            files.note("ack", n)
            states.append(_copy(model))
    finally:
        store.close()
    return states


def _copy(model: Model) -> Model:
    return {t: {k: dict(v) for k, v in docs.items()} for t, docs in model.items()}


def read_back(folder: Path) -> Model:
    with Store(folder) as store:
        return {
            t: {d.doc_id: dict(d) for d in store.table(t).all()} for t in ("customers", "outbox")
        }


def violations(
    ops, states: list[Model], tmp: Path, stop_at_first: bool = False, limit: int = 64
) -> list[str]:
    found = []
    for i, crash in enumerate(crash_states(ops, limit)):
        why = check(crash, states, tmp / f"s{i}")
        if why:
            found.append(why)
            if stop_at_first:
                break
    return found


def check(crash: CrashState, states: list[Model], folder: Path) -> str:
    crash.write_to(folder)
    where = f"power cut before {crash.site} (log entry {crash.at}, {crash.acked} acknowledged)"
    try:
        got = read_back(folder)
    except (StoreError, ValueError) as exc:
        return f"{where}: the store does not open: {exc}"
    allowed = [states[crash.acked]] + ([states[crash.acked + 1]] if crash.in_flight else [])
    if got not in allowed:
        counts = {t: len(d) for t, d in got.items()}
        return f"{where}: holds {counts}, not the state after commit {crash.acked}"
    return ""


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    files = RecordingFiles()
    states = workload(tmp_path_factory.mktemp("run"), files, commits=40)
    return files, states


def test_every_power_cut_leaves_exactly_the_acknowledged_commits(recorded, tmp_path):
    files, states = recorded
    points = sum(1 for op in files.ops if op.kind in ("datasync", "fsync", "fsync_dir"))
    compactions = sum(1 for op in files.ops if op.kind == "rename")
    assert compactions >= 1 and points >= 40  # the workload did compact, and synced
    assert violations(files.ops, states, tmp_path) == []


def test_each_sync_call_left_out_is_caught(recorded, tmp_path):
    """Mutation test: every sync call site the workload reaches, removed in turn."""
    files, _ = recorded
    sites = sorted(files.sites)
    # the journal's commit, the snapshot's data, its rename, the journal's creation and
    # its emptying after compaction
    assert len(sites) >= 4, sites
    survived = []
    for n, site in enumerate(sites):
        mutant = RecordingFiles(skip=site)
        states = workload(tmp_path / f"run{n}", mutant, commits=40)
        if not violations(mutant.ops, states, tmp_path / f"m{n}", stop_at_first=True):
            survived.append(site)
    assert survived == [], f"removing these sync calls goes unnoticed: {survived}"


def test_a_power_cut_during_recovery_and_after_it(recorded, tmp_path):
    """Power cuts while the store recovers from a power cut (cutting a torn commit off
    the journal) and in the commits after: each of those states opens to the commits
    acknowledged, too."""
    files, _ = recorded
    torn = [c for c in crash_states(files.ops)
            if not journal.scan(c.files.get("kiosk.journal", b"")).clean]  # fmt: skip
    assert torn
    tried = 0
    for i, crash in enumerate(torn[:: max(1, len(torn) // 6)]):
        crash.write_to(tmp_path / f"look{i}")
        before = read_back(tmp_path / f"look{i}")  # what the cut left (checked above)
        first = tmp_path / f"first{i}"
        crash.write_to(first)  # again, untouched: opening it is what is tested
        again = RecordingFiles()
        again.adopt(first)
        after = workload(first, again, commits=8, seed=i, start=before)
        assert violations(again.ops, after, tmp_path / f"again{i}") == []
        opening = again.ops[: next(n for n, op in enumerate(again.ops) if op.kind == "mark")]
        tried += any(op.kind == "truncate" for op in opening)
    assert tried >= 1  # at least one reopening cut a torn commit, through the file layer


@pytest.mark.slow
def test_power_cuts_over_240_commits_with_compactions(tmp_path):
    files = RecordingFiles()
    states = workload(tmp_path / "run", files, commits=240, seed=11)
    assert sum(1 for op in files.ops if op.kind == "rename") >= 3
    every = sum(1 for _ in crash_states(files.ops, limit_per_point=10**9))
    assert every >= 500  # every state at every sync point, none left out
    assert violations(files.ops, states, tmp_path, limit=10**9) == []
