"""The fleet page: one shop's kiosks at a glance, for its staff (`GET /fleet/{shop_id}`).

Every kiosk with when it was last heard from, its version, its queue (depth, oldest
pending), its devices that are not ready, payments it has not settled and customers
waiting for staff (all from its last heartbeat); the shop's recent alerts from kiosks;
and repairs ready for pickup that nobody collected for `uncollected_days`. Rendered on
the server as plain HTML (no script), every value escaped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html import escape
from typing import Any

from sqlalchemy import select

from backoffice.db import Entity, Kiosk, Shop, UpdateRollout
from backoffice.messages import queue
from backoffice.service import BackOffice
from backoffice.updates.rollout import describe as describe_rollout

SILENT_AFTER = timedelta(minutes=10)  # 20 sync rounds at the default 30 s


@dataclass(frozen=True)
class KioskRow:
    kiosk_id: str
    last_seen: datetime | None
    version: str
    queue_depth: int
    oldest_pending_s: float | None
    faults: list[str]
    unresolved_payments: int
    help_calls: int
    last_error: str
    reported: bool  # a heartbeat has come (else: nothing is known of its queue or devices)
    update: dict[str, Any] = field(default_factory=dict)  # kiosk/updates/manager.py report()
    rollout: str = ""  # what the back office asks of it (backoffice/updates/rollout.py)

    def silent(self, now: datetime) -> bool:
        return self.last_seen is None or now - self.last_seen > SILENT_AFTER


@dataclass
class FleetReport:
    shop: str
    now: datetime
    kiosks: list[KioskRow] = field(default_factory=list)
    alerts: list[tuple[datetime, str]] = field(default_factory=list)
    uncollected: list[tuple[str, str, datetime]] = field(default_factory=list)
    uncollected_days: int = 7
    messages: dict[str, int] = field(default_factory=dict)  # owed, sent, failed
    failed_messages: list[tuple[int, str, str, str]] = field(default_factory=list)


def _aware(value: datetime | None) -> datetime | None:
    from datetime import UTC

    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def report(
    office: BackOffice, shop_id: int, now: datetime, uncollected_days: int = 7
) -> FleetReport:
    with office.sessions() as s:
        shop = s.get(Shop, shop_id)
        if shop is None:
            raise LookupError(f"no shop {shop_id}")
        out = FleetReport(shop.name, now, uncollected_days=uncollected_days)
        rollouts = {
            row.kiosk_id: describe_rollout(row)
            for row in s.scalars(select(UpdateRollout).where(UpdateRollout.shop_id == shop_id))
        }
        for k in s.scalars(select(Kiosk).where(Kiosk.shop_id == shop_id).order_by(Kiosk.kiosk_id)):
            beat: dict[str, Any] = k.heartbeat or {}
            health = beat.get("health") or {}
            out.kiosks.append(
                KioskRow(
                    kiosk_id=k.kiosk_id,
                    last_seen=_aware(k.last_seen),
                    version=str(beat.get("version", "")),
                    queue_depth=int(beat.get("queue_depth", 0)),
                    oldest_pending_s=beat.get("oldest_pending_age_s"),
                    faults=[
                        f"{d}: {v}"
                        for d, v in sorted(health.items())
                        if not str(v).startswith("ready")
                    ],
                    unresolved_payments=int(beat.get("unresolved_payments", 0)),
                    help_calls=int(beat.get("help_calls", 0)),
                    last_error=str(beat.get("last_error", "")),
                    reported=bool(beat),
                    update=dict(beat.get("update") or {}),
                    rollout=rollouts.get(k.kiosk_id) or rollouts.get("") or "no rollout set",
                )
            )
        rows = s.execute(
            select(Entity.kind, Entity.key, Entity.data).where(
                Entity.shop_id == shop_id, Entity.kind.in_(("alert", "order"))
            )
        )
        since = now - timedelta(days=1)
        ready_before = now - timedelta(days=uncollected_days)
        for kind, key, data in rows:
            if not data:
                continue
            if kind == "alert":
                at = _when(data.get("at"))
                if at is not None and at >= since:
                    out.alerts.append((at, str(data.get("text", "")).removeprefix("ALERT: ")))
            elif data.get("state") == "done":
                ready = _when(data.get("state_changed_at"))
                if ready is not None and ready <= ready_before:
                    out.uncollected.append((key, str(data.get("customer_account", "")), ready))
        out.messages = queue.counts(s, shop_id)
        out.failed_messages = queue.failures(s, shop_id)
        names = _names(s, shop_id, [account for _, account, _ in out.uncollected])
        out.uncollected = [(n, names.get(a, a), at) for n, a, at in out.uncollected]
    out.alerts.sort(reverse=True)
    out.uncollected.sort(key=lambda row: row[2])
    return out


def _names(s: Any, shop_id: int, accounts: list[str]) -> dict[str, str]:
    """Account number → "First Last (account)" for the customers the page names."""
    if not accounts:
        return {}
    found = s.execute(
        select(Entity.key, Entity.data).where(
            Entity.shop_id == shop_id, Entity.kind == "customer", Entity.key.in_(accounts)
        )
    )
    names = {}
    for key, data in found:
        name = " ".join(
            p for p in ((data or {}).get("first_name"), (data or {}).get("last_name")) if p
        )
        names[key] = f"{name} ({key})" if name else key
    return names


def _when(text: Any) -> datetime | None:
    try:
        return _aware(datetime.fromisoformat(str(text)))
    except ValueError:
        return None


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"


STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 24px; color: #1d2430; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
.when { color: #5c6675; margin: 0 0 18px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid #dde2e8; }
td { vertical-align: top; }
th { background: #f2f4f7; font-weight: 600; }
.bad { color: #a4161a; font-weight: 600; } .warn { color: #8a5a00; } .ok { color: #1b6e3a; }
.none { color: #5c6675; }
"""


def _release_row(k: KioskRow, cell: Any) -> str:
    """Running, asked for, downloading or confirming or refused, and what went back."""
    up = k.update
    activity = str(up.get("activity") or ("" if up else "not reported"))
    activity = "" if activity == "idle" else activity
    if up.get("downloaded") and activity == "downloaded":
        activity = f"{up['downloaded']} downloaded, waits for a quiet moment"
    state = "; ".join(p for p in (activity, str(up.get("error") or "")) if p) or "up to date"
    failed = "; ".join(f"{v}: {why}" for v, why in sorted((up.get("failed") or {}).items()))
    return (
        "<tr>"
        + cell(k.kiosk_id)
        + cell(str(up.get("running") or k.version or "-"))
        + cell(k.rollout, "none" if k.rollout == "no rollout set" else "")
        + cell(state, "bad" if up.get("error") else "warn" if activity else "ok")
        + cell(failed or "-", "bad" if failed else "none")
        + "</tr>"
    )


def render(r: FleetReport) -> str:
    def cell(text: str, kind: str = "") -> str:
        return f'<td class="{kind}">{escape(text)}</td>' if kind else f"<td>{escape(text)}</td>"

    rows = []
    for k in r.kiosks:
        seen = (
            "never" if k.last_seen is None else _age((r.now - k.last_seen).total_seconds()) + " ago"
        )
        seen_cell = cell(seen, "bad" if k.silent(r.now) else "ok")
        if not k.reported:  # enrolled, never reported: nothing else is known
            rows.append(f'<tr>{cell(k.kiosk_id)}{seen_cell}<td colspan="6" class="none">'
                        "No report from this kiosk yet.</td></tr>")  # fmt: skip
            continue
        oldest = "" if k.oldest_pending_s is None else f" (oldest {_age(k.oldest_pending_s)})"
        rows.append(
            "<tr>"
            + cell(k.kiosk_id)
            + seen_cell
            + cell(k.version or "-")
            + cell(f"{k.queue_depth}{oldest}", "warn" if k.queue_depth else "")
            + cell("; ".join(k.faults) or "all ready", "bad" if k.faults else "ok")
            + cell(str(k.unresolved_payments), "bad" if k.unresolved_payments else "")
            + cell(str(k.help_calls), "bad" if k.help_calls else "")
            + cell(k.last_error or "-", "warn" if k.last_error else "none")
            + "</tr>"
        )
    releases = "".join(_release_row(k, cell) for k in r.kiosks) or (
        '<tr><td colspan="5" class="none">No kiosk enrolled.</td></tr>'
    )
    kiosks = "".join(rows) or '<tr><td colspan="8" class="none">No kiosk enrolled.</td></tr>'
    alerts = (
        "".join(f"<tr>{cell(at.strftime('%d %b %H:%M'))}{cell(text)}</tr>" for at, text in r.alerts)
        or '<tr><td colspan="2" class="none">No alert in the last 24 hours.</td></tr>'
    )
    waiting = (
        "".join(
            f"<tr>{cell(number)}{cell(account)}{cell(at.strftime('%d %b %Y'))}"
            f"{cell(_age((r.now - at).total_seconds()), 'warn')}</tr>"
            for number, account, at in r.uncollected
        )
        or '<tr><td colspan="4" class="none">None.</td></tr>'
    )
    counts = r.messages or {"owed": 0, "sent": 0, "failed": 0, "dropped": 0}
    failed = (
        "".join(
            f"<tr>{cell(str(n))}{cell(channel)}{cell(subject)}{cell(reason, 'bad')}</tr>"
            for n, channel, subject, reason in r.failed_messages
        )
        or '<tr><td colspan="4" class="none">None.</td></tr>'
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(r.shop)}: kiosks</title>
<style>{STYLE}</style></head><body>
<h1>{escape(r.shop)}: kiosks</h1>
<p class="when">As of {r.now.strftime("%d %b %Y %H:%M")} UTC. A kiosk not heard from for
{SILENT_AFTER.seconds // 60} minutes is shown in red.</p>
<table><tr><th>Kiosk</th><th>Last seen</th><th>Version</th><th>Queue</th><th>Devices</th>
<th>Unresolved payments</th><th>Calls for staff</th><th>Last sync error</th></tr>
{kiosks}</table>
<h2>Releases</h2>
<table><tr><th>Kiosk</th><th>Running</th><th>Asked to run</th><th>Update</th>
<th>Rolled back</th></tr>
{releases}</table>
<h2>Alerts from kiosks (24 hours)</h2>
<table><tr><th>When</th><th>Alert</th></tr>{alerts}</table>
<h2>Ready for pickup, not collected for {r.uncollected_days} days or more</h2>
<table><tr><th>Order</th><th>Customer</th><th>Ready since</th><th>Waiting</th></tr>
{waiting}</table>
<h2>Messages to customers</h2>
<table><tr><th>Owed</th><th>Sent</th><th>Failed</th><th>Not sent: no longer true</th></tr>
<tr>{cell(str(counts["owed"]), "warn" if counts["owed"] else "")}{cell(str(counts["sent"]))}
{cell(str(counts["failed"]), "bad" if counts["failed"] else "")}{cell(str(counts["dropped"]))}</tr>
</table>
<h2>Messages that failed for good</h2>
<table><tr><th>#</th><th>Channel</th><th>Message</th><th>The server's answer</th></tr>
{failed}</table>
</body></html>
"""
