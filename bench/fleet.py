"""A chain's kiosks against one back office (issue 29): N simulated kiosks, each doing
what the sync worker does every 30 s on one kept-alive connection (push 1–3
operations, pull by cursor, heartbeat), 4 kiosks a shop, against `serve --workers 2`
on PostgreSQL (a throw-away server, tests/pg.py), the load generator on the same
machine. The product's defaults: the kiosk's 10 s time-out and 30 s interval.

For each N of `--kiosks`: p50/p95/p99 per request type, errors (time-outs, non-2xx) and
`cpu_ms_per_request` (the server processes' CPU over the requests answered). Then
`max_kiosks_p99_200ms` (the largest N tried whose every p99 is at most 200 ms) and, with
`--herd`, `herd_failed_N`: of N kiosks all starting within 10 s, how many had not
finished one round within 60 s (retries allowed, 1 s apart). Prints one JSON line last.

    python bench/fleet.py --kiosks 250,500,1000 --seconds 60 --herd 1000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.integration.conftest import free_port  # noqa: E402
from tests.pg import PgServer  # noqa: E402

INTERVAL_S = 30.0  # [sync] interval_s
TIMEOUT_S = 10.0  # [sync] timeout_s
PER_SHOP = 4
# one TLS context for every simulated kiosk: httpx makes one per client otherwise (the
# CA bundle read each time, about 15 ms), and a thousand of them at the start block the
# generator's one thread for seconds (it did: every first round looked seconds slow)
TLS = ssl.create_default_context()
TYPES = ("push", "pull", "heartbeat")


def credentials(url: str, token: str, n: int) -> list[str]:
    """N kiosks, 4 a shop, enrolled through the staff API and /v1/enroll: what any
    version of the back office answers, so the peer is set up as the head is."""
    staff = {"X-Admin-Token": token}

    async def enrol(client: httpx.AsyncClient, shop: int, kiosk: str) -> str:
        code = (
            await client.post("/v1/admin/enrolment-codes", headers=staff,
                              json={"shop_id": shop, "kiosk_id": kiosk})
        ).json()["code"]  # fmt: skip
        return str((await client.post("/v1/enroll", json={"code": code})).json()["credential"])

    async def everyone() -> list[str]:
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            gate = asyncio.Semaphore(8)

            async def one_shop(s: int) -> list[str]:
                async with gate:
                    shop = (
                        await client.post("/v1/admin/shops", json={"name": f"Shop {s}"},
                                          headers=staff)
                    ).json()["shop_id"]  # fmt: skip
                    count = min(PER_SHOP, n - s * PER_SHOP)
                    return [await enrol(client, shop, f"K{k}") for k in range(count)]

            shops = await asyncio.gather(*(one_shop(s) for s in range(-(-n // PER_SHOP))))
            return [c for shop in shops for c in shop]

    return asyncio.run(everyone())


def cpu_s(pid: int) -> float:
    """User and system CPU of pid and its children (the workers), in seconds."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


class Kiosk:
    def __init__(self, number: int, credential: str, url: str, record: dict[str, list[Any]]):
        self.n, self.url, self.record = number, url, record
        self.headers = {"Authorization": f"Bearer {credential}"}
        self.cursor, self.ops = 0, 0
        self.retry_after = 1.0  # as the kiosk: at least what the back office asks

    async def call(
        self, client: httpx.AsyncClient, kind: str, method: str, path: str, **kw: Any
    ) -> bool:
        started = time.perf_counter()
        try:
            answer = await client.request(
                method, self.url + path, headers=self.headers, timeout=TIMEOUT_S, **kw
            )
            ok = answer.status_code == 200
            if ok and kind == "pull":
                self.cursor = answer.json()["next_cursor"]
            if answer.status_code in (429, 503):  # shed: told when to come back
                self.record["shed"].append(1)
                self.retry_after = float(answer.headers.get("Retry-After") or 1)
        except httpx.HTTPError:
            ok = False
        self.record[kind].append((time.perf_counter() - started) * 1000 if ok else None)
        return ok

    async def round(self, client: httpx.AsyncClient) -> bool:
        operations = []
        for _ in range(random.randint(1, 3)):
            self.ops += 1
            account = f"K{self.n}-{self.ops:06d}"
            operations.append(
                {
                    "op_id": f"{self.n}-{self.ops}-{random.random()}",
                    "kind": "customer.created",
                    "key": f"customer:{account}",
                    "payload": {"account_number": account, "last_name": "Bench"},
                }
            )
        client_info = {"device_time": "2026-12-02T09:00:00+00:00", "boot_id": "b", "seq": self.ops}
        ok = await self.call(
            client,
            "push",
            "POST",
            "/v1/sync/push",
            json={"client": client_info, "operations": operations},
        )
        ok &= await self.call(client, "pull", "GET", f"/v1/sync/changes?cursor={self.cursor}")
        ok &= await self.call(
            client,
            "heartbeat",
            "POST",
            "/v1/sync/heartbeat",
            json={"version": "bench", "queue_depth": 0},
        )
        return ok

    async def steady(self, seconds: float) -> None:
        async with httpx.AsyncClient(verify=TLS) as client:
            await asyncio.sleep(random.uniform(0, INTERVAL_S))
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                started = time.monotonic()
                await self.round(client)
                await asyncio.sleep(max(0.0, INTERVAL_S - (time.monotonic() - started)))

    async def herd(self, within_s: float, limit_s: float) -> bool:
        """One round, started within `within_s`, retried until done or `limit_s` passed."""
        start = time.monotonic()
        async with httpx.AsyncClient(verify=TLS) as client:
            await asyncio.sleep(random.uniform(0, within_s))
            while time.monotonic() - start < limit_s:
                self.retry_after = 1.0
                if await self.round(client):
                    return True
                await asyncio.sleep(self.retry_after)
        return False


def percentiles(values: list[float | None]) -> dict[str, float]:
    done = sorted(v for v in values if v is not None)
    if not done:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0}
    return {
        f"p{q}": round(done[min(len(done) - 1, int(len(done) * q / 100))], 1) for q in (50, 95, 99)
    }


def serve(db: str, port: int, folder: Path, code: Path = ROOT) -> subprocess.Popen[bytes]:
    """`serve --workers 2` from the tree `code` (this one, or the peer's worktree)."""
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "backoffice",
            "--db",
            db,
            "serve",
            "--port",
            str(port),
            "--workers",
            "2",
            "--admin-token-file",
            str(folder / "admin.token"),
        ],
        cwd=code,
        env={**os.environ, "PYTHONPATH": f"{code / 'undeclared'}{os.pathsep}{code}"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("the back office did not start")


def load(url: str, creds: list[str], seconds: float, pid: int) -> dict[str, Any]:
    record: dict[str, list[Any]] = {t: [] for t in (*TYPES, "shed")}
    kiosks = [Kiosk(n, c, url, record) for n, c in enumerate(creds)]
    before, own = cpu_s(pid), time.process_time()
    wall = time.monotonic()
    asyncio.run(asyncio.wait_for(_all(k.steady(seconds) for k in kiosks), seconds + 90))
    used, own = cpu_s(pid) - before, time.process_time() - own
    answered = sum(1 for t in TYPES for v in record[t] if v is not None)
    out: dict[str, Any] = {t: percentiles(record[t]) for t in TYPES}
    out["errors"] = sum(1 for t in TYPES for v in record[t] if v is None)
    out["shed_503"] = len(record["shed"])
    out["requests"] = answered
    out["cpu_ms_per_request"] = round(used * 1000 / max(answered, 1), 2)
    # the load generator's own share of the two cores: past about one core, its event
    # loop (one thread) is the bottleneck and the latencies are partly its own
    out["generator_cores"] = round(own / (time.monotonic() - wall), 2)
    out["server_cores"] = round(used / (time.monotonic() - wall), 2)
    return out


async def _all(runs: Any) -> list[Any]:
    return await asyncio.gather(*runs)


def measure(
    pg: PgServer, code: Path, sizes: list[int], herds: list[int], seconds: float
) -> dict[str, Any]:
    """One back office (from the tree `code`) on a database of its own: the steady loads,
    then the morning starts."""
    folder = Path(tempfile.mkdtemp(prefix="fleet-", dir=pg.folder))
    port = free_port()
    server = serve(pg.new_database(), port, folder, code)
    url = f"http://127.0.0.1:{port}"
    result: dict[str, Any] = {}
    try:
        token = (folder / "admin.token").read_text().strip()
        creds = credentials(url, token, max(sizes + herds))
        passing = 0
        for n in sizes:
            measured = load(url, creds[:n], seconds, server.pid)
            result[f"kiosks_{n}"] = measured
            print(json.dumps({code.name: {f"kiosks_{n}": measured}}), file=sys.stderr)
            if all(measured[t]["p99"] <= 200 for t in TYPES) and not measured["errors"]:
                passing = max(passing, n)
        result["max_kiosks_p99_200ms"] = passing
        for n in herds:
            record: dict[str, list[Any]] = {t: [] for t in (*TYPES, "shed")}
            kiosks = [Kiosk(k, c, url, record) for k, c in enumerate(creds[:n])]
            done = asyncio.run(_all(k.herd(10.0, 60.0) for k in kiosks))
            result[f"herd_failed_{n}"] = sum(1 for ok in done if not ok)
            result[f"herd_shed_503_{n}"] = len(record["shed"])
    finally:
        server.terminate()
        server.wait(10)
    return result


def worktree(rev: str) -> Path:
    """The peer: this repository at `rev`, checked out beside it (git worktree), with
    only the packages it declared: one this tree added since (uvicorn takes httptools and
    uvloop whenever they are importable) is hidden from it."""
    folder = Path(tempfile.mkdtemp(prefix="fleet-peer-")) / rev
    subprocess.run(["git", "worktree", "add", "--detach", str(folder), rev], cwd=ROOT,
                   check=True, capture_output=True)  # fmt: skip
    declared = (folder / "setup.cfg").read_text()
    hide = folder / "undeclared"
    for package in ("httptools", "uvloop"):
        if package not in declared:
            (hide / package).mkdir(parents=True)
            (hide / package / "__init__.py").write_text(
                f"raise ImportError('{package}: not declared at {rev}')\n"
            )
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kiosks", default="250,500,1000", help="N to try, comma-separated")
    parser.add_argument("--seconds", type=float, default=60.0, help="steady load per N")
    parser.add_argument("--herd", default="", help="N for the morning start, comma-separated")
    parser.add_argument("--peer", default="", help="also measure the back office at this commit")
    args = parser.parse_args()
    sizes = [int(n) for n in args.kiosks.split(",") if n]
    herds = [int(n) for n in args.herd.split(",") if n]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    result: dict[str, Any] = {"workers": 2, "interval_s": INTERVAL_S, "timeout_s": TIMEOUT_S}
    pg = PgServer().start()
    peer = worktree(args.peer) if args.peer else None
    try:
        result[head or "this tree"] = measure(pg, ROOT, sizes, herds, args.seconds)
        if peer is not None:
            result[f"peer {args.peer}"] = measure(pg, peer, sizes, herds, args.seconds)
    finally:
        pg.stop()
        if peer is not None:
            subprocess.run(["git", "worktree", "remove", "--force", str(peer)], cwd=ROOT,
                           capture_output=True)  # fmt: skip
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
