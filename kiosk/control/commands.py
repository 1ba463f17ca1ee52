"""The CLI's commands that need the store, written once for both ways of running them:
in the `kiosk` process on a store it opened itself (the kiosk is stopped), or inside the
running kiosk, on the store, devices and sync worker it holds (through the control
socket). Each writes what it has to say to `out` and `err` and returns the exit code, so
the answer is the same either way."""

from __future__ import annotations

import json
import time
from argparse import Namespace
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TextIO

from kiosk import STARTED_AT
from kiosk.config import Config
from kiosk.control.context import Context
from kiosk.control.updates import update_now, update_rollback, update_status


def _now() -> datetime:
    return datetime.now(UTC)


def age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def outbox(ctx: Context, args: Namespace, out: TextIO, err: TextIO) -> int:
    stats = ctx.repos.outbox.stats(_now())
    if getattr(args, "json", False):
        dead = [
            {"op_id": e.op_id, "kind": e.kind, "key": e.key, "reason": e.dead_reason}
            for e in stats.dead_letters
        ]
        body = {"pending": stats.pending, "oldest_pending_age_s": stats.oldest_pending_age_s,
                "dead_letters": dead}  # fmt: skip
        out.write(json.dumps(body) + "\n")
        return 0
    out.write(f"pending        {stats.pending}\n")
    out.write(f"oldest pending {age(stats.oldest_pending_age_s)}\n")
    out.write(f"dead letters   {len(stats.dead_letters)}\n")
    for entry in stats.dead_letters:
        out.write(f"  {entry.op_id}  {entry.kind:<20} {entry.key:<24} {entry.dead_reason}\n")
    return 0


def sync_status(ctx: Context, args: Namespace, out: TextIO, err: TextIO) -> int:
    from kiosk.services.sync import sync_status as status

    st = status(ctx.repos, _now())
    if getattr(args, "json", False):
        out.write(json.dumps(st.__dict__) + "\n")
        return 0
    out.write(f"queue depth    {st.queue_depth}\n")
    out.write(f"oldest pending {age(st.oldest_pending_age_s)}\n")
    out.write(f"dead letters   {st.dead_letters}\n")
    out.write(f"last success   {st.last_success or 'never'}\n")
    when = f" ({st.last_error_at})" if st.last_error_at else ""
    out.write(f"last error     {st.last_error or '-'}{when}\n")
    out.write(f"cursor         {st.cursor}\n")
    return 0


# what the command keeps for itself after the round: its report, closing the store,
# the interpreter's exit (0.3-0.5 s measured on this 2-core machine under load)
SYNC_NOW_MARGIN_S = 0.8


def sync_time_left_s(config: Config) -> float:
    """What is left of `kiosk sync now`'s time: it answers within the sync time-out and
    a second of its process's start."""
    budget = config.sync.timeout_s + 1.0 - SYNC_NOW_MARGIN_S
    return budget - (time.monotonic() - STARTED_AT)


def sync_now(ctx: Context, args: Namespace, out: TextIO, err: TextIO) -> int:
    from kiosk.services.sync import make_worker
    from kiosk.sync.credentials import CredentialError

    worker = ctx.worker
    if worker is None:
        try:
            worker = make_worker(ctx.config, ctx.repos, _now)
        except CredentialError as exc:
            err.write(f"kiosk sync: {exc}\n")
            return 1
        ctx.opened.append(worker.client)
    # the whole command within [sync] timeout_s + 1 s of its start: the CLI counts its
    # own start-up and says how long is left (args.within_s) when the kiosk answers it
    within = getattr(args, "within_s", None)
    if within is None:
        within = sync_time_left_s(ctx.config)
    report = worker.run_once(time.monotonic() + within)  # rounds take turns with the kiosk's
    out.write(
        f"pushed {report.pushed} (acknowledged {report.acked},"
        f" dead letters {report.dead_lettered}), pulled {report.pulled} changes"
        f" in {report.requests} requests\n"
    )
    if report.error:
        err.write(f"kiosk sync: {report.error}\n")
        return 1
    return 0


def store_check(ctx: Context, args: Namespace, out: TextIO, err: TextIO) -> int:
    storage = ctx.repos.store.storage
    report = storage.recovery
    out.write(f"store          {ctx.config.data_path}\n")
    out.write(f"commits        {storage.seq}\n")
    out.write(f"snapshot       {storage.snapshot_bytes} bytes (sequence {report.snapshot_seq})\n")
    out.write(f"journal        {storage.journal_bytes} bytes, {report.records_replayed} replayed\n")
    if report.torn_bytes:
        out.write(f"recovered      cut {report.torn_bytes} bytes of an unfinished commit\n")
    if report.salvaged_to:
        out.write(f"salvaged       damaged journal kept in {report.salvaged_to}\n")
    out.write(f"opened in      {report.seconds * 1000:.1f} ms\n")
    for name in sorted(ctx.repos.store.db.tables()):
        out.write(f"  {name:<12} {len(ctx.repos.store.table(name))}\n")
    stale = storage.stale_indexes()
    verdict = f"differ from a rebuild: {', '.join(stale)}" if stale else "match a rebuild"
    out.write(f"indexes        {storage.index_bytes} bytes, {verdict}\n")
    return 1 if stale else 0


def store_compact(ctx: Context, args: Namespace, out: TextIO, err: TextIO) -> int:
    ctx.repos.store.compact()
    snapshot = ctx.repos.store.storage.snapshot_bytes
    out.write(f"compacted: snapshot {snapshot} bytes, journal empty\n")
    return 0


def store_prune(ctx: Context, args: Namespace, out: TextIO, err: TextIO) -> int:
    from kiosk.services.retention import Retention

    days = ctx.config.storage.retention_days
    report = Retention(ctx.repos, _now, days).prune()
    out.write(
        f"pruned (older than {days} days, already synced): "
        f"{report.orders} orders, {report.invoices} invoices, {report.payments} payments, "
        f"{report.intents} card intents, {report.shifts} shifts\n"
    )
    return 0


def staff_add(ctx: Context, args: Namespace, out: TextIO, err: TextIO) -> int:
    """args.pin: checked by the caller (asked twice, or read from stdin)."""
    from kiosk.domain.staff import Role, StaffMember

    repos = ctx.repos
    if repos.staff.pin_taken(args.pin):
        err.write("kiosk staff add: that PIN is already someone's\n")
        return 2
    member = StaffMember.create(args.id, args.name, Role(args.role), args.pin, args.card)
    existing = repos.staff.get(args.id)
    if existing is not None and not args.replace:
        err.write(f"kiosk staff add: {args.id} exists (--replace to change)\n")
        return 2
    repos.staff.save(member) if existing is not None else repos.staff.add(member)
    out.write(f"{member.staff_id}  {member.name}  {member.role}  card {member.card or '-'}\n")
    return 0


def staff_list(ctx: Context, args: Namespace, out: TextIO, err: TextIO) -> int:
    for m in sorted(ctx.repos.staff.all(), key=lambda m: m.staff_id):
        state = "" if m.active else "  (inactive)"
        out.write(f"{m.staff_id:<8} {m.name:<20} {m.role:<11} card {m.card or '-'}{state}\n")
    return 0


def doctor(ctx: Context, args: Namespace, out: TextIO, err: TextIO) -> int:
    """Every device's state (the running kiosk's own devices, or opened here), a test
    page, a locker opened."""
    from kiosk.services.machine.devices import open_devices
    from kiosk.services.machine.diagnostics import check_devices, format_table, print_test_page
    from kiosk.services.machine.os_updates import os_update_lines

    devices = ctx.devices
    if devices is None:
        try:
            devices = open_devices(ctx.config)
        except Exception as exc:  # a device that cannot even be set up is the first fault
            err.write(f"kiosk doctor: cannot set up the devices: {exc}\n")
            return 2
        ctx.opened.append(devices)
    checks = check_devices(devices, probe_scanner=not ctx.running)
    out.write(format_table(checks) + "\n")
    out.write("".join(line + "\n" for line in os_update_lines()))
    failed = [c for c in checks if c.faulty]
    if getattr(args, "print_test", False):
        try:
            print_test_page(devices, ctx.config.shop.name, ctx.config.printer.codepage)
            out.write("test page: sent to the printer\n")
        except Exception as exc:
            out.write(f"test page: not printed: {exc}\n")
            failed.append(checks[0])
    if getattr(args, "open_locker", None):
        if devices.lockers is None:
            out.write("open locker: no lockers are configured\n")
            return 2
        result = devices.lockers.open(args.open_locker)
        verdict = "opened" if result.opened else "NOT opened"
        out.write(f"locker {result.locker}: {verdict} ({result.detail})\n")
        out.write(_hook_report(devices.lockers.hardware, result.locker))
        if not result.opened:
            return 1
    if failed:
        err.write(f"{len(failed)} device(s) faulty: {', '.join(c.device for c in failed)}\n")
        return 1
    return 0


def _hook_report(hardware: object, locker: str) -> str:
    """On Kerong boards, the lock's hook bit around the open: which way the board reads
    its hooks (`hook_closed_bit`) is seen here on a known-shut lock."""
    from kiosk.drivers.drawer.bank import LockerFault
    from kiosk.drivers.drawer.kerong import KerongBoards

    if not isinstance(hardware, KerongBoards):
        return ""
    try:
        return hardware.hook_report(locker) + "\n"
    except LockerFault as exc:
        return f"hook bit not read: {exc}\n"


Command = Callable[[Context, Namespace, TextIO, TextIO], int]
COMMANDS: dict[str, Command] = {
    "outbox": outbox,
    "sync status": sync_status,
    "sync now": sync_now,
    "store check": store_check,
    "store compact": store_compact,
    "store prune": store_prune,
    "staff add": staff_add,
    "staff list": staff_list,
    "doctor": doctor,
    "update status": update_status,
    "update now": update_now,
    "update rollback": update_rollback,
}
