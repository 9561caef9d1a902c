"""Bounded load test of the service on loopback (issue 6 §5).  Run by hand:

    .venv/bin/python bench/bench_platform.py [--clients 50] [--seconds 30] [--ingest-share 0.2]

--think T gives each client a random pause (exponential, mean T seconds) between requests, like
people using the dashboard; 0 is a closed loop (every client fires its next request at once).
Starts `carbonpeak serve` in a subprocess on 127.0.0.1 with a fresh store, logs in one analyst
and one enterprise, then runs N concurrent clients (asyncio + httpx) for a fixed time: each
request is an ingest (a 96-row readings batch, enterprise) with probability --ingest-share,
else a dashboard read (province page, cities page, submissions list, alternately).  Prints
throughput and p50/p95/p99 latency per kind, and the machine.  Traffic goes to loopback only;
the loop stops by itself after --seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

PW = "correct horse battery"
SERVER = """
import sys, uvicorn
from carbonpeak.web import create_site
uvicorn.run(create_site(sys.argv[1], login_limit=1000), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""
READS = ["/province", "/cities", "/api/submissions"]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _batch(i: int) -> bytes:
    rows = ["meter_id,ts,value"] + [
        f"M{i % 50},2025-01-{1 + (i // 50) % 28:02d}T{k // 4:02d}:{(k % 4) * 15:02d}:00+08:00,{random.random() * 100:.3f}"
        for k in range(96)
    ]
    return ("\n".join(rows) + "\n").encode()


async def client(
    base: str,
    tokens: dict[str, str],
    share: float,
    until: float,
    out: list[tuple[str, float, int]],
    cid: int,
    think: float,
) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        i = cid * 1_000_000
        while time.monotonic() < until:
            if think > 0:
                await asyncio.sleep(random.expovariate(1 / think))
            i += 1
            t0 = time.perf_counter()
            if random.random() < share:
                r = await c.post(
                    "/api/submissions",
                    headers={"Authorization": f"Bearer {tokens['ent']}"},
                    data={"kind": "readings", "period": f"p{i}", "enterprise_id": "ENT-A"},
                    files={"file": ("r.csv", _batch(i), "text/csv")},
                )
                kind = "ingest"
            else:
                path = READS[i % len(READS)]
                r = await c.get(path, cookies={"cp_session": tokens["analyst"]})
                kind = "read " + path
            out.append((kind, time.perf_counter() - t0, r.status_code))


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--ingest-share", type=float, default=0.2)
    ap.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="mean think time between a client's requests, s (0 = closed loop, no pause)",
    )
    a = ap.parse_args()
    from carbonpeak.store import Store
    from carbonpeak.store.users import add_user

    d = Path(tempfile.mkdtemp(prefix="cp-load-"))
    db = d / "load.duckdb"
    s = Store(db)
    add_user(s, "analyst", PW, "province_analyst")
    add_user(s, "ent", PW, "enterprise", enterprise_id="ENT-A")
    s.close()
    port = _port()
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(db), str(port)])
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        tokens = {
            "analyst": httpx.post(
                base + "/api/auth/login", json={"username": "analyst", "password": PW}
            ).json()["token"],
            "ent": httpx.post(base + "/api/auth/login", json={"username": "ent", "password": PW}).json()[
                "token"
            ],
        }
        # warm-up: the first province page compiles the inventory once (cached afterwards)
        httpx.get(base + "/province", cookies={"cp_session": tokens["analyst"]}, timeout=120)
        out: list[tuple[str, float, int]] = []
        until = time.monotonic() + a.seconds

        async def run() -> None:
            await asyncio.gather(
                *(client(base, tokens, a.ingest_share, until, out, k, a.think) for k in range(a.clients))
            )

        t0 = time.perf_counter()
        asyncio.run(run())
        wall = time.perf_counter() - t0
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print(f"machine: {platform.platform()}, {os.cpu_count()} cpus, python {platform.python_version()}")
    print(
        f"clients={a.clients} seconds={a.seconds} ingest_share={a.ingest_share} think={a.think}s"
        "  (server and clients on this machine)"
    )
    print(f"{'kind':<22}{'n':>7}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'non-2xx':>9}")
    kinds = sorted({k for k, _, _ in out})
    for k in [*kinds, "ALL reads", "ALL"]:
        if k == "ALL":
            sel = out
        elif k == "ALL reads":
            sel = [o for o in out if o[0].startswith("read")]
        else:
            sel = [o for o in out if o[0] == k]
        if not sel:
            continue
        lat = [x[1] * 1000 for x in sel]
        bad = sum(1 for x in sel if x[2] >= 300)
        print(
            f"{k:<22}{len(sel):>7}{len(sel) / wall:>9.1f}{statistics.median(lat):>9.1f}{pct(lat, 95):>9.1f}{pct(lat, 99):>9.1f}{bad:>9}"
        )


if __name__ == "__main__":
    main()
