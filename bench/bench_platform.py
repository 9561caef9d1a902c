"""Load test of the service on loopback, PostgreSQL and DuckDB side by side (issues 6 §5, 10 §1).

Run by hand:

    .venv/bin/python bench/bench_platform.py [--clients 50] [--seconds 20] [--ingest-share 0.2]
        [--pg-url postgresql+psycopg://user@host:port/postgres] [--pg-workers 2] [--only pg,duckdb,trivial]

Each configuration is served the same way (uvicorn, ``--workers N`` processes, 127.0.0.1) and loaded
by the same closed loop in the same run:

- ``carbonpeak on PostgreSQL`` with ``--pg-workers`` processes (default 2), a fresh database;
- ``carbonpeak on DuckDB`` with 1 process (a DuckDB file has one writer process), a fresh file;
- ``trivial FastAPI`` with 1 and with ``--pg-workers`` processes: the same routes answering at once
  (a small page, a login token, an upload read and counted): the floor of this machine, server and
  load generator included.

Mixed phase: N concurrent clients (asyncio + httpx) for ``--seconds``; each request is an upload
(a 96-row readings batch, enterprise, ``POST /api/submissions``) with probability
``--ingest-share``, else a dashboard read (province page, cities page, submissions list, in
turn).  ``--think T`` adds an exponential pause of mean T seconds between a client's requests (0:
closed loop).  Upload phase: only uploads, by 1 client and then by ``--upload-clients`` clients;
uploads/s of the many over the one says whether uploads run side by side (≈ the number of cores
the server may use) or queue behind one lock (≈ 1).

Prints one table (throughput and p50/p95/p99 latency per configuration and kind), the ratios
to the trivial app, and the machine.  Without ``--pg-url`` a temporary PostgreSQL cluster is started
(Debian's binaries, default durability settings; as ``nobody`` under root) and removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import os
import platform
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Form, UploadFile
from fastapi.responses import HTMLResponse

PW = "correct horse battery"
HERE = Path(__file__).resolve().parent
SERVER = """
import sys, uvicorn
sys.path.insert(0, sys.argv[4])
uvicorn.run(sys.argv[1], factory=True, host="127.0.0.1", port=int(sys.argv[2]), workers=int(sys.argv[3]),
            log_level="warning")
"""
READS = ["/province", "/cities", "/api/submissions"]


# -- the apps the server processes build (``bench_platform:<name>``, factory=True) ---------------


def carbonpeak_app() -> Any:
    """The carbonpeak service and dashboard on the store in ``CP_BENCH_STORE``."""
    from carbonpeak.web import create_site

    return create_site(os.environ["CP_BENCH_STORE"], login_limit=1000)


def trivial_app() -> Any:
    """The same routes, answering at once: the floor of server + client on this machine."""
    app = FastAPI()
    page = "<html><body>" + "<p>row</p>" * 200 + "</body></html>"

    @app.get("/api/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/auth/login")
    def login() -> dict[str, str]:
        return {"token": uuid.uuid4().hex}

    @app.get("/province", response_class=HTMLResponse)
    @app.get("/cities", response_class=HTMLResponse)
    def pages() -> str:
        return page

    @app.get("/api/submissions")
    def submissions() -> list[dict[str, Any]]:
        return [{"submission_id": f"s{i}", "version": 1} for i in range(20)]

    @app.post("/api/submissions")
    def submit(file: UploadFile, kind: str = Form(...), period: str = Form(...)) -> dict[str, Any]:
        return {"kind": kind, "period": period, "rows": file.file.read().count(b"\n") - 1}

    return app


# -- load ------------------------------------------------------------------------------------


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _batch(i: int, month: str) -> bytes:
    """96 quarter-hour readings of one meter of ENT-A on one day of ``month`` (YYYY-MM)."""
    rows = ["meter_id,ts,value"] + [
        f"M{i % 50},{month}-{1 + (i // 50) % 28:02d}T{k // 4:02d}:{(k % 4) * 15:02d}:00+08:00,{random.random() * 100:.3f}"
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
    async with httpx.AsyncClient(base_url=base, timeout=60) as c:
        i = cid * 1_000_000 + random.randrange(1000) * 1000
        while time.monotonic() < until:
            if think > 0:
                await asyncio.sleep(random.expovariate(1 / think))
            i += 1
            t0 = time.perf_counter()
            try:
                if random.random() < share:
                    month = f"{random.randrange(2000, 2026)}-{random.randrange(1, 13):02d}"
                    r = await c.post(
                        "/api/submissions",
                        headers={"Authorization": f"Bearer {tokens['ent']}"},
                        data={"kind": "readings", "period": month, "enterprise_id": "ENT-A"},
                        files={"file": ("r.csv", _batch(i, month), "text/csv")},
                    )
                    kind, status = "upload", r.status_code
                else:
                    path = READS[i % len(READS)]
                    r = await c.get(path, cookies={"cp_session": tokens["analyst"]})
                    kind, status = "read " + path, r.status_code
            except httpx.HTTPError:
                kind, status = "error", 599
            out.append((kind, time.perf_counter() - t0, status))


def load(base: str, tokens: dict[str, str], clients: int, seconds: float, share: float, think: float):
    out: list[tuple[str, float, int]] = []
    until = time.monotonic() + seconds

    async def run() -> None:
        await asyncio.gather(*(client(base, tokens, share, until, out, k, think) for k in range(clients)))

    t0 = time.perf_counter()
    asyncio.run(run())
    return out, time.perf_counter() - t0


def cpu_seconds() -> float:
    """CPU time of this process (the load generator) so far, user + system."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def tree_cpu_seconds(root: int) -> float:
    """CPU time (user + system) of process ``root`` and its live descendants (the server's
    workers), read from /proc (Linux; 0 elsewhere).  Independent of what else loads the machine."""
    tick = os.sysconf("SC_CLK_TCK")
    parent: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for d in Path("/proc").glob("[0-9]*"):
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parent[int(d.name)] = int(fields[1])
        cpu[int(d.name)] = (int(fields[11]) + int(fields[12])) / tick
    total = 0.0
    for pid, c in cpu.items():
        p = pid
        while p > 1 and p != root:
            p = parent.get(p, 0)
        if p == root:
            total += c
    return total


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


@dataclass
class Result:
    name: str
    workers: int
    rows: list[dict[str, Any]] = field(default_factory=list)
    uploads: dict[int, float] = field(default_factory=dict)  # clients -> uploads/s (upload phase)
    upload_bad: int = 0
    client_cores: float = 0.0  # CPU of the load generator / wall time of the mixed phase
    server_ms: float = 0.0  # CPU of the server processes per request of the mixed phase, ms
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average before and after the mixed phase

    def row(self, kind: str) -> dict[str, Any] | None:
        return next((r for r in self.rows if r["kind"] == kind), None)


def summarise(res: Result, out: list[tuple[str, float, int]], wall: float) -> None:
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
        res.rows.append(
            {
                "kind": k,
                "n": len(sel),
                "rps": len(sel) / wall,
                "p50": statistics.median(lat),
                "p95": pct(lat, 95),
                "p99": pct(lat, 99),
                "bad": sum(1 for x in sel if x[2] >= 300),
            }
        )


# -- servers ---------------------------------------------------------------------------------


class Server:
    def __init__(self, factory: str, workers: int, env: dict[str, str]) -> None:
        self.port = _port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                SERVER,
                f"bench_platform:{factory}",
                str(self.port),
                str(workers),
                str(HERE),
            ],
            env={**os.environ, **env},
        )
        for _ in range(600):
            try:
                if httpx.get(self.base + "/api/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"the {factory} server stopped (exit {self.proc.returncode})")
            time.sleep(0.2)
        raise RuntimeError(f"the {factory} server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def seed(place: str, demo: bool = False) -> None:
    """Users, the registry of ENT-A's meters and, with ``demo``, the bundled demo (`carbonpeak demo load`)."""
    import pandas as pd

    from carbonpeak.store import Store
    from carbonpeak.store.users import add_user

    s = Store(place)
    if demo:
        from carbonpeak.workflows.demo import load_demo

        load_demo(s)
    add_user(s, "analyst", PW, "province_analyst")
    add_user(s, "ent", PW, "enterprise", enterprise_id="ENT-A")
    # one unit of ENT-A with the 50 meters the uploads name (written straight to the registry
    # tables as the platform tests do: ENT-A is not a unified social credit code)
    unit = {
        "unit_id": "U-A",
        "name": "U-A",
        "uscc": "ENT-A",
        "industry_code": "C30",
        "city": "GD-GZ",
        "kind": "industrial",
        "hub_node": False,
        "registered_level": "provincial",
        "synthetic": True,
    }
    meters = [
        {
            "meter_id": f"M{k}",
            "unit_id": "U-A",
            "energy_type": "electricity",
            "point": "site",
            "kind": "interval",
            "unit": "kWh",
            "interval_minutes": 15,
            "parent_meter_id": "",
            "product": "",
            "rollover": None,
            "max_interval_value": None,
        }
        for k in range(50)
    ]
    s.import_frame("mon_units", pd.DataFrame([unit]), kind="mon_units", source="bench registry")
    s.import_frame("mon_meters", pd.DataFrame(meters), kind="mon_meters", source="bench registry")
    s.close()


def tokens_of(base: str) -> dict[str, str]:
    def tok(user: str) -> str:
        r = httpx.post(base + "/api/auth/login", json={"username": user, "password": PW}, timeout=60)
        return str(r.json()["token"])

    return {"analyst": tok("analyst"), "ent": tok("ent")}


def run_config(name: str, factory: str, workers: int, env: dict[str, str], a: argparse.Namespace) -> Result:
    res = Result(name, workers)
    srv = Server(factory, workers, env)
    try:
        tokens = tokens_of(srv.base)
        # warm-up: every worker builds its caches (the first province page compiles the inventory)
        for _ in range(4 * workers):
            for p in READS:
                httpx.get(srv.base + p, cookies={"cp_session": tokens["analyst"]}, timeout=120)
        la0, c0, s0 = os.getloadavg()[0], cpu_seconds(), tree_cpu_seconds(srv.proc.pid)
        out, wall = load(srv.base, tokens, a.clients, a.seconds, a.ingest_share, a.think)
        res.client_cores, res.load = (cpu_seconds() - c0) / wall, (la0, os.getloadavg()[0])
        res.server_ms = (tree_cpu_seconds(srv.proc.pid) - s0) * 1000 / max(1, len(out))
        summarise(res, out, wall)
        for n in (1, a.upload_clients):
            up, upwall = load(srv.base, tokens, n, a.upload_seconds, 1.0, 0.0)
            res.uploads[n] = sum(1 for u in up if u[2] < 300) / upwall
            res.upload_bad += sum(1 for u in up if u[2] >= 300)
    finally:
        srv.stop()
    return res


# -- a PostgreSQL server for the run ------------------------------------------------------------


def start_postgres(root: Path) -> tuple[str, Any]:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    initdb = found[-1] if found else shutil.which("initdb")
    if not initdb:
        raise SystemExit("no PostgreSQL binaries: apt-get install postgresql, or give --pg-url")
    bindir = Path(initdb).parent
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        as_user = ["runuser", "-u", "nobody", "--"]
        shutil.chown(root, "nobody")
    port = _port()
    subprocess.run(
        [
            *as_user,
            str(bindir / "initdb"),
            "-D",
            str(root / "data"),
            "-U",
            "postgres",
            "--auth=trust",
            "--locale=C",
            "-E",
            "UTF8",
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *as_user,
            str(bindir / "pg_ctl"),
            "-D",
            str(root / "data"),
            "-l",
            str(root / "log"),
            "-w",
            "-o",
            f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=200",
            "start",
        ],
        check=True,
        capture_output=True,
    )

    def stop() -> None:
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", str(root / "data"), "-m", "fast", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)

    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", stop


def new_database(server: str) -> str:
    """A new, empty database on ``server``; its URL."""
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    u = make_url(server)
    name = "cp_bench_" + uuid.uuid4().hex[:8]
    with psycopg.connect(
        host=u.host, port=u.port, user=u.username, password=u.password, dbname=u.database, autocommit=True
    ) as con:
        con.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return u.set(database=name).render_as_string(hide_password=False)


# -- report ------------------------------------------------------------------------------------


def report(results: list[Result], a: argparse.Namespace) -> None:
    print(f"machine: {platform.platform()}, {os.cpu_count()} cpus, python {platform.python_version()}")
    print(
        f"clients={a.clients} seconds={a.seconds} ingest_share={a.ingest_share} think={a.think}s "
        f"upload phase: 1 and {a.upload_clients} clients x {a.upload_seconds}s  (server and clients on this machine)"
        f"  store: {'demo loaded' if a.demo else 'users and registry only (no inventory data)'}"
    )
    head = f"{'configuration':<34}{'kind':<20}{'n':>7}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'non-2xx':>9}"
    print(head)
    print("-" * len(head))
    for r in results:
        label = f"{r.name} ({r.workers} worker{'s' if r.workers > 1 else ''})"
        for row in r.rows:
            print(
                f"{label:<34}{row['kind']:<20}{row['n']:>7}{row['rps']:>9.1f}{row['p50']:>9.1f}"
                f"{row['p95']:>9.1f}{row['p99']:>9.1f}{row['bad']:>9}"
            )
            label = ""
    print()
    print(
        f"{'configuration':<34}{'uploads/s 1 client':>20}{f'uploads/s {a.upload_clients} clients':>22}{'scaling':>9}"
        f"{'non-2xx':>9}"
    )
    for r in results:
        one, many = r.uploads.get(1, 0.0), r.uploads.get(a.upload_clients, 0.0)
        label = f"{r.name} ({r.workers} worker{'s' if r.workers > 1 else ''})"
        print(f"{label:<34}{one:>20.1f}{many:>22.1f}{(many / one if one else 0):>8.2f}x{r.upload_bad:>9}")
    print()
    print(
        f"{'configuration':<34}{'server CPU ms/request':>22}{'client CPU (cores)':>20}{'load avg before':>17}"
        f"{'after':>8}"
    )
    for r in results:
        label = f"{r.name} ({r.workers} worker{'s' if r.workers > 1 else ''})"
        print(
            f"{label:<34}{r.server_ms:>22.1f}{r.client_cores:>20.2f}{r.load[0]:>17.1f}{r.load[1]:>8.1f}"
        )
    print()
    trivial = {r.workers: r for r in results if r.name.startswith("trivial")}
    for r in results:
        if r.name.startswith("trivial"):
            continue
        t = trivial.get(r.workers)
        reads, treads = r.row("ALL reads"), t.row("ALL reads") if t else None
        if reads and treads:
            print(
                f"{r.name} ({r.workers}w) / trivial ({r.workers}w): reads p99 x{reads['p99'] / treads['p99']:.1f}, "
                f"reads/s x{reads['rps'] / treads['rps']:.2f}; goal reads p99 < 200 ms: "
                f"{'met' if reads['p99'] < 200 else 'NOT met'} ({reads['p99']:.0f} ms)"
            )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--ingest-share", type=float, default=0.2)
    ap.add_argument(
        "--think", type=float, default=0.0, help="mean think time between requests, s (0 = closed loop)"
    )
    ap.add_argument("--upload-clients", type=int, default=8)
    ap.add_argument("--upload-seconds", type=float, default=8)
    ap.add_argument("--pg-url", default=None, help="a PostgreSQL server (a role that may create databases)")
    ap.add_argument("--pg-workers", type=int, default=2)
    ap.add_argument("--only", default="pg,duckdb,trivial")
    ap.add_argument(
        "--demo", action="store_true",
        help="load the bundled demo into the stores (the pages then show the inventory, targets and "
        "outlook; each worker builds them once in the warm-up)",
    )
    a = ap.parse_args()
    only = set(a.only.split(","))
    d = Path(tempfile.mkdtemp(prefix="cp-load-"))
    env = {"CARBONPEAK_STATE_DIR": str(d / "state")}  # audit keys of the PostgreSQL store
    stop_pg = None
    results: list[Result] = []
    try:
        if "pg" in only:
            server = a.pg_url
            if server is None:
                server, stop_pg = start_postgres(Path(tempfile.mkdtemp(prefix="cp-load-pg-")))
            url = new_database(server)
            os.environ.update(env)
            seed(url, a.demo)
            results.append(
                run_config(
                    "carbonpeak on PostgreSQL",
                    "carbonpeak_app",
                    a.pg_workers,
                    {**env, "CP_BENCH_STORE": url},
                    a,
                )
            )
        if "duckdb" in only:
            db = d / "load.duckdb"
            seed(str(db), a.demo)
            results.append(
                run_config("carbonpeak on DuckDB", "carbonpeak_app", 1, {"CP_BENCH_STORE": str(db)}, a)
            )
        if "trivial" in only:
            results.append(run_config("trivial FastAPI", "trivial_app", 1, {}, a))
            if a.pg_workers != 1:
                results.append(run_config("trivial FastAPI", "trivial_app", a.pg_workers, {}, a))
    finally:
        if stop_pg is not None:
            stop_pg()
        shutil.rmtree(d, ignore_errors=True)
    report(results, a)


if __name__ == "__main__":
    main()
