"""Benchmark of the monitoring pipeline (issues 5 and 14), run by hand; prints a table.

    .venv/bin/python bench/bench_monitoring.py [--sizes 1000000,10000000,100000000]
        [--spark-sizes 10000000,100000000] [--spark-timeout 1800] [--cache DIR] [--skip-spark]
        [--skip-cli] [--pandas] [--repeat N]

1. Generates (once, cached under ``--cache``, default ``$TMPDIR/carbonpeak-bench``; keep it out
   of the git tree) a SYNTHETIC lake per size: 15-minute readings over 365 days, Parquet
   partitioned by ``date=``.
2. Measures, each in its own subprocess (peak memory = the largest RSS of the process tree,
   sampled every 0.1 s; the JVM included for Spark), with the 1-minute load average of the
   machine before and after each measurement:

   * ``pipeline``: the full pipeline on DuckDB — one scan of the lake (interval and cumulative
     meters, resets, rollovers, bad values), tce, CO2, unit totals, PUE and every rule and
     data-quality check, the national platform's checks on the lake's ``uploads.csv`` included;
   * ``floor``: the single hand-written DuckDB aggregation query over the same Parquet files
     (daily tce per meter: sum for interval meters, max − min for counters; no quality);
   * ``incremental``: on the largest lake, a new 15-minute batch (the first slot of the next
     day, all meters) added as a new partition: the full run, then the incremental run that
     recomputes only the days the batch touches (stage 1) followed by stage 2 and every rule;
   * ``spark``: the same pipeline on Spark ``local[2]`` for ``--spark-sizes`` (stopped after
     ``--spark-timeout`` seconds, reported as such);
   * the command line: ``carbonpeak --help`` and ``carbonpeak monitor run`` on a tiny lake, against
     the same run as a Python program (fresh process) and as a warm call.

DuckDB runs with ``threads`` and ``memory_limit`` (``BENCH_DUCKDB_THREADS``/``BENCH_DUCKDB_MEMORY``,
the settings ``CARBONPEAK_MONITOR_DUCKDB_*`` of ``monitor run``; the pipeline's connection and the
floor's are made by ``engine.connect``, so both run with ``preserve_insertion_order = false`` and a
spill directory); ``--repeat N`` alternates N
pipeline/floor pairs per size and prints each and their medians (the machine may be shared).

Goals (issue 14): pipeline ≤ 2 × floor at 100M readings, peak memory < 1 GB; the batch in time
proportional to the days it touches; the command line adds ≤ 0.5 s to ``monitor run``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

START = dt.date(2025, 1, 1)
DAYS = 365
CST = dt.timezone(dt.timedelta(hours=8))
DUCKDB_THREADS = 2
DUCKDB_MEMORY = "512MB"  # the stage-1 aggregation fits; a lower limit leaves room for stage 2 and the rules


def lake_for(cache: Path, rows: int, days: int) -> Path:
    from carbonpeak.monitoring.synthetic import generate, units_for_rows

    d = cache / f"lake-{rows}-{days}"
    if (d / "faults.json").exists():
        return d
    units = units_for_rows(rows, days)
    t0 = time.perf_counter()
    s = generate(d, units=units, days=days, start=START, seed=2025)
    print(f"generated {s['readings']:,} readings ({units} units, {s['meters']} meters, {days} days) "
          f"in {time.perf_counter() - t0:.0f} s -> {d}", flush=True)  # fmt: skip
    return d


def _factor_set():
    from carbonpeak.catalog.factors import FactorSet

    return FactorSet.default()


def _registry(lake: Path) -> dict:
    from carbonpeak.io import read_table
    from carbonpeak.monitoring.registry import validate_kind

    out = {}
    for k in ("units", "meters", "output", "budgets", "reported", "uploads"):
        f = lake / "registry" / f"{k}.csv"
        if k == "uploads" and not f.exists():
            raise SystemExit(f"{f} is missing: the lake predates the platform uploads; delete it to regenerate")
        df = read_table(f)
        out[k] = validate_kind(df, k) if len(df) else None  # a window shorter than a month has no output rows
    return out


def _duckdb_con():
    from carbonpeak.monitoring.engine import connect

    # the same settings `monitor run` takes from CARBONPEAK_MONITOR_DUCKDB_MEMORY_LIMIT / _THREADS
    # (a connection of its own also gets preserve_insertion_order = false and a spill directory)
    return connect("duckdb", memory_limit=os.environ.get("BENCH_DUCKDB_MEMORY", DUCKDB_MEMORY),
                   threads=int(os.environ.get("BENCH_DUCKDB_THREADS", DUCKDB_THREADS)))  # fmt: skip


def _full(con, lake: Path, reg: dict, eng: str, date_to: dt.date, readings=None):
    from carbonpeak.monitoring.catalog import catalog_coefficients, load_catalog
    from carbonpeak.monitoring.engine import read_lake
    from carbonpeak.monitoring.pipeline import run_pipeline
    from carbonpeak.monitoring.rules import evaluate

    coef = catalog_coefficients(_factor_set())
    cat = load_catalog()
    t0 = time.perf_counter()
    r = readings if readings is not None else read_lake(con, lake / "readings")
    res = run_pipeline(con, r, reg["meters"], reg["units"], coef, date_from=START, date_to=date_to, engine=eng)
    t1 = time.perf_counter()
    rr = evaluate(res, cat, output=reg["output"], budgets=reg["budgets"], reported=reg["reported"], uploads=reg["uploads"])
    t2 = time.perf_counter()
    return res, rr, t1 - t0, t2 - t1


def measure(name: str, lake: Path, days: int) -> dict:
    """Runs inside the child process; returns rows and seconds of the measured work."""
    reg = _registry(lake)
    date_to = START + dt.timedelta(days=days - 1)
    if name in ("pipeline", "spark"):
        if name == "spark":
            from carbonpeak.monitoring.engine import connect

            con = connect("spark")
            con.raw_sql("SELECT 1")  # start the JVM before timing
        else:
            con = _duckdb_con()
        res, rr, s1, s2 = _full(con, lake, reg, "spark" if name == "spark" else "duckdb", date_to)
        return {"rows": res.info["intervals"], "secs": s1 + s2, "stage12": s1, "rules": s2, "alerts": len(rr.alerts),
                "tce": res.info["tce"]}  # fmt: skip
    if name == "floor":
        con = _duckdb_con().con
        coef = catalog_coefficients_frame(reg["meters"])
        con.register("coef", coef)
        glob = str(lake / "readings" / "**" / "*.parquet")
        t0 = time.perf_counter()
        out = con.execute(
            """
            SELECT r.meter_id, (epoch(r.ts)::BIGINT + 28800) // 86400 AS day,
                   CASE WHEN any_value(c.kind) = 'cumulative' THEN max(r.value) - min(r.value) ELSE sum(r.value) END
                   * any_value(c.tce_per_unit) AS tce
            FROM read_parquet(?) r JOIN coef c USING (meter_id)
            GROUP BY 1, 2
            """,
            [glob],
        ).df()
        secs = time.perf_counter() - t0
        return {"rows": int(con.execute("SELECT count(*) FROM read_parquet(?)", [glob]).fetchone()[0]), "secs": secs,
                "groups": len(out), "tce": float(out["tce"].sum())}  # fmt: skip
    if name == "incremental":
        return _incremental(lake, reg, date_to)
    if name == "pandas":
        import pyarrow.dataset as ds

        coef = catalog_coefficients_frame(reg["meters"])
        files = [str(f) for f in sorted((lake / "readings").glob("date=*/*.parquet"))]
        t0 = time.perf_counter()
        df = ds.dataset(files, format="parquet").to_table(columns=["meter_id", "ts", "value"]).to_pandas()
        df["day"] = df["ts"].dt.tz_convert("Asia/Shanghai").dt.date
        df = df.merge(coef[["meter_id", "kind", "tce_per_unit"]], on="meter_id")
        g = df.groupby(["meter_id", "day"]).agg(s=("value", "sum"), lo=("value", "min"), hi=("value", "max"),
                                                kind=("kind", "first"), c=("tce_per_unit", "first"))  # fmt: skip
        g["tce"] = g["s"].where(g["kind"] == "interval", g["hi"] - g["lo"]) * g["c"]
        return {"rows": len(df), "secs": time.perf_counter() - t0, "groups": len(g)}
    raise SystemExit(f"unknown measurement {name}")


def _incremental(lake: Path, reg: dict, date_to: dt.date) -> dict:
    """Full run, then one new 15-minute batch (the next day's first slot, every meter) run incrementally."""
    import pandas as pd

    from carbonpeak.monitoring.catalog import catalog_coefficients, load_catalog
    from carbonpeak.monitoring.engine import read_lake
    from carbonpeak.monitoring.pipeline import run_pipeline
    from carbonpeak.monitoring.rules import evaluate

    con = _duckdb_con()
    _res, _rr, f1, f2 = _full(con, lake, reg, "duckdb", date_to)
    new_day = date_to + dt.timedelta(days=1)
    part = lake / "readings" / f"date={new_day}"
    if part.exists():
        raise SystemExit(f"{part} exists: a previous incremental measurement did not clean up; remove it")
    # the batch: every meter's first reading of the new day (a counter continues from its last value)
    last = con.con.execute(
        "SELECT meter_id, arg_max(value, ts) AS v FROM read_parquet(?) GROUP BY meter_id",
        [str(lake / "readings" / f"date={date_to}" / "*.parquet")],
    ).df()
    kinds = reg["meters"].set_index("meter_id")["kind"]
    ts = pd.Timestamp(dt.datetime.combine(new_day, dt.time(), tzinfo=CST)).tz_convert("UTC")
    batch = pd.DataFrame({"meter_id": last["meter_id"].astype(str), "ts": ts,
                          "value": last["v"].where(last["meter_id"].map(kinds) == "cumulative", 1.0)})  # fmt: skip
    coef = catalog_coefficients(_factor_set())
    cat = load_catalog()
    part.mkdir()
    try:
        batch.to_parquet(part / "part-0.parquet", index=False)
        t0 = time.perf_counter()
        res = run_pipeline(con, read_lake(con, lake / "readings"), reg["meters"], reg["units"], coef,
                           date_from=START, date_to=new_day, engine="duckdb", previous=_res.meter_day,
                           changed=(new_day, new_day))  # fmt: skip
        t1 = time.perf_counter()
        rr = evaluate(res, cat, output=reg["output"], budgets=reg["budgets"], reported=reg["reported"], uploads=reg["uploads"])
        t2 = time.perf_counter()
    finally:
        shutil.rmtree(part)
    return {"rows": len(batch), "secs": t2 - t0, "stage12": t1 - t0, "rules": t2 - t1, "full": f1 + f2,
            "full_stage12": f1, "recomputed": res.info["recomputed_days"], "alerts": len(rr.alerts)}  # fmt: skip


def catalog_coefficients_frame(meters):
    import pandas as pd

    from carbonpeak.monitoring.catalog import catalog_coefficients

    fn = catalog_coefficients(_factor_set())
    rows = []
    for m in meters.itertuples(index=False):
        c = fn(m.energy_type, m.unit, START.year)
        rows.append({"meter_id": m.meter_id, "kind": m.kind, "tce_per_unit": c.tce_per_unit})
    return pd.DataFrame(rows)


def load1() -> float:
    return os.getloadavg()[0]


def run_child(name: str, lake: Path, days: int, timeout: float | None = None) -> dict:
    """Run one measurement in a subprocess and sample the RSS of its whole process tree."""
    cmd = [sys.executable, __file__, "--child", name, "--lake", str(lake), "--days", str(days)]
    la0 = load1()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    proc = psutil.Process(p.pid)
    peak = 0
    t0 = time.monotonic()
    while p.poll() is None:
        try:
            rss = proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(recursive=True))
            peak = max(peak, rss)
        except psutil.Error:
            pass
        if timeout and time.monotonic() - t0 > timeout:
            for c in proc.children(recursive=True):
                c.kill()
            p.kill()
            p.wait()
            return {"timeout": timeout, "peak_gb": peak / 1e9, "load": (la0, load1())}
        time.sleep(0.1)
    out = p.stdout.read() if p.stdout else ""
    if p.returncode != 0:
        raise SystemExit(f"measurement {name} failed (exit {p.returncode})")
    res = json.loads(out.strip().splitlines()[-1])
    res["peak_gb"] = peak / 1e9
    res["load"] = (la0, load1())
    return res


def _timed(cmd: list[str], env: dict) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    return time.perf_counter() - t0


def cli_costs(cache: Path, repeat: int = 3) -> dict:
    """``carbonpeak --help`` and ``monitor run`` on a tiny lake against the same run from Python."""
    tiny = cache / "tiny"
    lake = tiny / "lake"
    db = tiny / "db.duckdb"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    cli = [sys.executable, "-c", "import sys; from carbonpeak.cli import main; sys.exit(main())"]
    if not (lake / "faults.json").exists():
        subprocess.run([*cli, "monitor", "generate", "--out", str(lake), "--units", "3", "--days", "2"], check=True,
                       capture_output=True, env=env)  # fmt: skip
    if not db.exists():
        files = [str(lake / "registry" / f"{k}.csv") for k in ("units", "meters")]
        subprocess.run([*cli, "monitor", "ingest", *files, "--db", str(db)], check=True, capture_output=True, env=env)
    win = ["--from", str(START), "--to", str(START + dt.timedelta(days=1))]
    py = (
        "import datetime as dt, sys, time\n"
        "t0 = time.perf_counter()\n"
        "from carbonpeak.workflows.monitoring_run import run_monitoring\nfrom carbonpeak.store import Store\n"
        "s = Store(sys.argv[1])\nt1 = time.perf_counter()\n"
        "run_monitoring(s, dt.date(2025, 1, 1), dt.date(2025, 1, 2), lake=sys.argv[2])\nt2 = time.perf_counter()\n"
        "run_monitoring(s, dt.date(2025, 1, 1), dt.date(2025, 1, 2), lake=sys.argv[2])\nt3 = time.perf_counter()\n"
        "print(t1 - t0, t2 - t1, t3 - t2)\n"
    )
    out: dict[str, list[float]] = {"python_start": [], "help": [], "cli_run": [], "py_run": [], "warm_call": []}
    la0 = load1()
    for _ in range(repeat):
        out["python_start"].append(_timed([sys.executable, "-c", "pass"], env))
        out["help"].append(_timed([*cli, "--help"], env))
        out["cli_run"].append(_timed([*cli, "monitor", "run", *win, "--lake", str(lake / "readings"), "--db", str(db)], env))
        t0 = time.perf_counter()
        r = subprocess.run([sys.executable, "-c", py, str(db), str(lake / "readings")], check=True, capture_output=True,
                           text=True, env=env)  # fmt: skip
        out["py_run"].append(time.perf_counter() - t0)
        out["warm_call"].append(float(r.stdout.split()[2]))
    res = {k: min(v) for k, v in out.items()}
    res["load"] = (la0, load1())
    return res


def _fmt_load(r: dict) -> str:
    a, b = r["load"]
    return f"{a:4.1f}/{b:4.1f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000000,10000000,100000000")
    ap.add_argument("--spark-sizes", default="10000000,100000000")
    ap.add_argument("--spark-timeout", type=float, default=1800)
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "carbonpeak-bench")
    ap.add_argument("--skip-spark", action="store_true")
    ap.add_argument("--skip-cli", action="store_true")
    ap.add_argument("--skip-incremental", action="store_true")
    ap.add_argument("--repeat", type=int, default=1, help="pipeline/floor pairs per size; the table shows medians")
    ap.add_argument("--pandas", action="store_true", help="also time a plain-pandas daily aggregate (issue 5 peer)")
    ap.add_argument("--child")
    ap.add_argument("--lake", type=Path)
    ap.add_argument("--days", type=int, default=DAYS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(measure(a.child, a.lake, a.days)))
        return
    a.cache.mkdir(parents=True, exist_ok=True)
    sizes = [int(x) for x in a.sizes.split(",") if x]
    spark_sizes = [] if a.skip_spark else [int(x) for x in a.spark_sizes.split(",") if x]
    lakes = {n: lake_for(a.cache, n, DAYS) for n in sorted(set(sizes) | set(spark_sizes))}
    total = {n: json.loads((lakes[n] / "faults.json").read_text())["readings"] for n in lakes}
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
          f"{psutil.virtual_memory().total / 1e9:.1f} GB RAM, Python {platform.python_version()}, "
          f"DuckDB threads={os.environ.get('BENCH_DUCKDB_THREADS', DUCKDB_THREADS)} "
          f"memory_limit={os.environ.get('BENCH_DUCKDB_MEMORY', DUCKDB_MEMORY)}; load = 1-min load average before/after")  # fmt: skip
    print()
    print(f"{'readings':>13s} {'pipeline s':>10s} {'(rules s)':>9s} {'floor s':>8s} {'ratio':>6s} {'peak GB':>8s} "
          f"{'rows/s':>12s} {'load pipe':>10s} {'load floor':>10s}")  # fmt: skip
    for n in sizes:
        t = total[n]
        runs = []
        for _ in range(a.repeat):  # pipeline and floor alternate, so that both see the same load
            rp = run_child("pipeline", lakes[n], DAYS)
            rf = run_child("floor", lakes[n], DAYS)
            runs.append((rp, rf))
            if a.repeat > 1:
                print(f"{'  (run)':>13s} {rp['secs']:>10.2f} {rp['rules']:>9.2f} {rf['secs']:>8.2f} "
                      f"{rp['secs'] / rf['secs']:>6.2f} {rp['peak_gb']:>8.2f} {'':>12s} {_fmt_load(rp):>10s} "
                      f"{_fmt_load(rf):>10s}", flush=True)  # fmt: skip
        med = statistics.median
        p_secs, p_rules = med(r[0]["secs"] for r in runs), med(r[0]["rules"] for r in runs)
        fs = med(r[1]["secs"] for r in runs)
        ratio = med(r[0]["secs"] / r[1]["secs"] for r in runs)
        peak = max(r[0]["peak_gb"] for r in runs)
        la = (min(r[0]["load"][0] for r in runs), max(r[0]["load"][1] for r in runs))
        lf = (min(r[1]["load"][0] for r in runs), max(r[1]["load"][1] for r in runs))
        print(f"{t:>13,d} {p_secs:>10.2f} {p_rules:>9.2f} {fs:>8.2f} {ratio:>6.2f} {peak:>8.2f} {t / p_secs:>12,.0f} "
              f"{_fmt_load({'load': la}):>10s} {_fmt_load({'load': lf}):>10s}"
              + (f"  median of {a.repeat} (ratio: median of the runs' ratios; peak: the largest)" if a.repeat > 1 else ""),
              flush=True)  # fmt: skip
        if a.pandas:
            rb = run_child("pandas", lakes[n], DAYS)
            print(f"{'':>13s} plain pandas daily tce: {rb['secs']:.2f} s, peak {rb['peak_gb']:.2f} GB", flush=True)
    if not a.skip_incremental and sizes:
        n = max(sizes)
        ri = run_child("incremental", lakes[n], DAYS)
        print()
        print(f"incremental, {total[n]:,} readings: one 15-minute batch ({ri['rows']:,} readings, recomputed days "
              f"{' to '.join(ri['recomputed'])}): {ri['secs']:.2f} s (stage 1+2 {ri['stage12']:.2f} s, rules "
              f"{ri['rules']:.2f} s) against the full run {ri['full']:.2f} s (stage 1+2 {ri['full_stage12']:.2f} s) "
              f"in the same process; peak {ri['peak_gb']:.2f} GB; load {_fmt_load(ri)}", flush=True)  # fmt: skip
    if spark_sizes:
        print()
        print(f"{'readings':>13s} {'Spark s':>9s} {'DuckDB s':>9s} {'Spark/DuckDB':>12s} {'Spark peak GB':>13s} {'load':>10s}")
        for n in spark_sizes:
            rs = run_child("spark", lakes[n], DAYS, timeout=a.spark_timeout)
            rd = run_child("pipeline", lakes[n], DAYS)
            if "timeout" in rs:
                print(f"{total[n]:>13,d} {'>' + str(int(rs['timeout'])):>9s} {rd['secs']:>9.2f} {'n/a':>12s} "
                      f"{rs['peak_gb']:>13.2f} {_fmt_load(rs):>10s}  (stopped at the time limit)", flush=True)  # fmt: skip
            else:
                same = "same alerts" if rs["alerts"] == rd["alerts"] else f"ALERTS DIFFER {rs['alerts']} vs {rd['alerts']}"
                print(f"{total[n]:>13,d} {rs['secs']:>9.2f} {rd['secs']:>9.2f} {rs['secs'] / rd['secs']:>12.2f} "
                      f"{rs['peak_gb']:>13.2f} {_fmt_load(rs):>10s}  {same}", flush=True)  # fmt: skip
    if not a.skip_cli:
        c = cli_costs(a.cache)
        print()
        print(f"command line (best of 3, tiny lake; load {_fmt_load(c)}): python -c pass {c['python_start']:.2f} s, "
              f"carbonpeak --help {c['help']:.2f} s, monitor run {c['cli_run']:.2f} s; the same run as a Python program "
              f"{c['py_run']:.2f} s (warm call {c['warm_call']:.2f} s)")  # fmt: skip
        print(f"fixed cost added by the command line: {c['cli_run'] - c['py_run']:+.2f} s over the Python program "
              f"(goal <= 0.5 s); {c['cli_run'] - c['warm_call']:.2f} s over a warm in-process call")  # fmt: skip


if __name__ == "__main__":
    main()
