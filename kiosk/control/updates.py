"""`kiosk update status|now|rollback` (docs/updates.md): the launcher's state read from
its file; "now" and "rollback" asked of the running kiosk, which alone knows whether
this is a quiet moment and what its store holds."""

from __future__ import annotations

import json
from argparse import Namespace
from datetime import UTC, datetime
from typing import TextIO

from kiosk import release
from kiosk.control.context import Context
from kiosk.updates.launcher import status
from kiosk.updates.wiring import update_dir


def _when(at: object) -> str:
    if not isinstance(at, int | float):
        return "?"
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def update_status(ctx: Context, args: Namespace, out: TextIO, err: TextIO) -> int:
    state = status(update_dir(ctx.config))
    report = ctx.updates.manager.report() if ctx.updates is not None else {}
    if getattr(args, "json", False):
        out.write(json.dumps({"launcher": state, "kiosk": report}) + "\n")
        return 0
    current = state.get("current") or {}
    previous = state.get("previous") or {}
    pending = state.get("pending") or {}
    out.write(f"running    {report.get('running') or current.get('version') or release()}\n")
    out.write(f"previous   {previous.get('version') or ('factory' if previous else '-')}\n")
    if pending:
        out.write(f"confirming {pending['version']} (deadline {_when(pending['deadline'])},"
                  f" starts {pending['starts']})\n")  # fmt: skip
    if report:
        out.write(f"downloaded {report['downloaded'] or '-'} ({report['activity']})\n")
        if report["error"]:
            out.write(f"error      {report['error']}\n")
    for version, reason in sorted((state.get("failed") or {}).items()):
        out.write(f"failed     {version}: {reason}\n")
    for event in (state.get("events") or [])[-5:]:
        reason = f": {event['reason']}" if event.get("reason") else ""
        out.write(f"  {_when(event.get('at'))}  {event['what']} {event['version']}{reason}\n")
    return 0


def _ask_the_kiosk(ctx: Context, err: TextIO, command: str) -> int:
    """`update now` and `update rollback`: only the running kiosk can; 0 when it will."""
    if ctx.updates is None:
        err.write(f"kiosk update {command}: only the running kiosk, taking updates, can\n")
        return 2
    why = ctx.updates.update_now() if command == "now" else ctx.updates.roll_back()
    if why:
        err.write(f"kiosk update {command}: {why}\n")
        return 1
    return 0


def update_now(ctx: Context, args: Namespace, out: TextIO, err: TextIO) -> int:
    code = _ask_the_kiosk(ctx, err, "now")
    if code == 0:
        out.write(f"switching to {ctx.updates.manager.downloaded} at the next quiet moment\n")
    return code


def update_rollback(ctx: Context, args: Namespace, out: TextIO, err: TextIO) -> int:
    code = _ask_the_kiosk(ctx, err, "rollback")
    if code == 0:
        out.write("going back to the previous release\n")
    return code
