"""Benchmark of the monitoring pipeline (issue 5 §6), run by hand; prints a table.

    .venv/bin/python bench/bench_monitoring.py [--rows 100000000] [--spark-rows 5000000]
                                               [--pandas-max-rows 20000000] [--cache DIR]

1. Generates (once, cached under ``--cache``, default ``$TMPDIR/carbonpeak-bench``) a SYNTHETIC
   lake of ``--rows`` 15-minute readings over 365 days (Parquet partitioned by date), and a
   second lake of ``--spark-rows`` readings for the Spark comparison.
2. Measures, each in its own subprocess (peak memory = the largest RSS of the process tree,
   sampled every 0.1 s; JVM included for Spark):

   * ``pipeline``: the full pipeline on DuckDB — interval energy (cumulative counters with
     resets/rollovers), tce, CO2, daily aggregates, PUE and every rule and data-quality check;
   * ``(a) duckdb-sql``: one hand-written DuckDB query computing only the daily tce per meter;
   * ``(b) pandas``: the same aggregate in plain pandas.  Above ``--pandas-max-rows`` it runs on
     the first days of the lake holding about that many rows and the time is extrapolated
     linearly to the full lake (stated in the output);
   * ``spark pipeline`` and ``duckdb pipeline`` on the ``--spark-rows`` lake (Spark local[2]).

Goals (issue 5): pipeline within 3× of (a), faster than (b), peak memory < 4 GB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

START = dt.date(2025, 1, 1)
DAYS = 365


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
    for k in ("units", "meters", "output", "budgets", "reported"):
        df = read_table(lake / "registry" / f"{k}.csv")
        out[k] = validate_kind(df, k) if len(df) else None  # a window shorter than a month has no output rows
    return out


def measure(name: str, lake: Path, days: int, max_days: int | None) -> dict:
    """Runs inside the child process; returns rows and seconds of the measured work."""
    import duckdb

    reg = _registry(lake)
    date_to = START + dt.timedelta(days=days - 1)
    glob = str(lake / "readings" / "**" / "*.parquet")
    if name in ("pipeline", "spark"):
        from carbonpeak.monitoring.catalog import catalog_coefficients, load_catalog
        from carbonpeak.monitoring.engine import connect, read_lake
        from carbonpeak.monitoring.pipeline import run_pipeline
        from carbonpeak.monitoring.rules import evaluate

        eng = "spark" if name == "spark" else "duckdb"
        con = connect(eng)
        if eng == "duckdb":
            con.raw_sql("SET threads = 2")
            con.raw_sql("SET memory_limit = '3GB'")
            con.raw_sql("SET preserve_insertion_order = false")
        else:
            con.raw_sql("SELECT 1")  # start the JVM before timing
        coef = catalog_coefficients(_factor_set())
        t0 = time.perf_counter()
        res = run_pipeline(con, read_lake(con, lake / "readings"), reg["meters"], reg["units"], coef,
                           date_from=START, date_to=date_to, engine=eng)  # fmt: skip
        rr = evaluate(res, load_catalog(), output=reg["output"], budgets=reg["budgets"], reported=reg["reported"])
        secs = time.perf_counter() - t0
        return {"rows": res.info["intervals"] + len(res.meter_day), "secs": secs, "alerts": len(rr.alerts),
                "tce": res.info["tce"]}  # fmt: skip
    meters = reg["meters"]
    coef = catalog_coefficients_frame(meters)
    if name == "duckdb-sql":
        con = duckdb.connect()
        con.execute("SET threads = 2")
        con.register("coef", coef)
        t0 = time.perf_counter()
        out = con.execute(
            f"""
            SELECT r.meter_id, (epoch(r.ts)::BIGINT + 28800) // 86400 AS day,
                   CASE WHEN any_value(c.kind) = 'cumulative' THEN max(r.value) - min(r.value) ELSE sum(r.value) END
                   * any_value(c.tce_per_unit) AS tce
            FROM read_parquet('{glob}') r JOIN coef c USING (meter_id)
            GROUP BY 1, 2
            """
        ).df()
        secs = time.perf_counter() - t0
        return {"rows": int(con.execute(f"SELECT count(*) FROM read_parquet('{glob}')").fetchone()[0]), "secs": secs,
                "groups": len(out), "tce": float(out["tce"].sum())}  # fmt: skip
    if name == "pandas":
        import pyarrow.dataset as ds

        dates = sorted(p.name for p in (lake / "readings").iterdir())
        use = dates[:max_days] if max_days else dates
        files = [str(f) for d in use for f in sorted((lake / "readings" / d).glob("*.parquet"))]
        t0 = time.perf_counter()
        df = ds.dataset(files, format="parquet").to_table(columns=["meter_id", "ts", "value"]).to_pandas()
        df["day"] = df["ts"].dt.tz_convert("Asia/Shanghai").dt.date
        df = df.merge(coef[["meter_id", "kind", "tce_per_unit"]], on="meter_id")
        g = df.groupby(["meter_id", "day"]).agg(s=("value", "sum"), lo=("value", "min"), hi=("value", "max"),
                                                kind=("kind", "first"), c=("tce_per_unit", "first"))  # fmt: skip
        g["tce"] = g["s"].where(g["kind"] == "interval", g["hi"] - g["lo"]) * g["c"]
        secs = time.perf_counter() - t0
        return {"rows": len(df), "secs": secs, "groups": len(g), "days_used": len(use), "days_total": len(dates)}
    raise SystemExit(f"unknown measurement {name}")


def catalog_coefficients_frame(meters):
    from carbonpeak.monitoring.catalog import catalog_coefficients

    fn = catalog_coefficients(_factor_set())
    rows = []
    for m in meters.itertuples(index=False):
        c = fn(m.energy_type, m.unit, START.year)
        rows.append({"meter_id": m.meter_id, "kind": m.kind, "tce_per_unit": c.tce_per_unit})
    import pandas as pd

    return pd.DataFrame(rows)


def run_child(name: str, lake: Path, days: int, max_days: int | None) -> dict:
    """Run one measurement in a subprocess and sample the RSS of its whole process tree."""
    cmd = [sys.executable, __file__, "--child", name, "--lake", str(lake), "--days", str(days)]
    if max_days:
        cmd += ["--max-days", str(max_days)]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    proc = psutil.Process(p.pid)
    peak = 0
    while p.poll() is None:
        try:
            rss = proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(recursive=True))
            peak = max(peak, rss)
        except psutil.Error:
            pass
        time.sleep(0.1)
    out = p.stdout.read() if p.stdout else ""
    if p.returncode != 0:
        raise SystemExit(f"measurement {name} failed (exit {p.returncode})")
    res = json.loads(out.strip().splitlines()[-1])
    res["peak_gb"] = peak / 1e9
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000_000)
    ap.add_argument("--spark-rows", type=int, default=5_000_000)
    ap.add_argument("--pandas-max-rows", type=int, default=20_000_000)
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "carbonpeak-bench")
    ap.add_argument("--skip-spark", action="store_true")
    ap.add_argument("--child")
    ap.add_argument("--lake", type=Path)
    ap.add_argument("--days", type=int, default=DAYS)
    ap.add_argument("--max-days", type=int)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(measure(a.child, a.lake, a.days, a.max_days)))
        return
    a.cache.mkdir(parents=True, exist_ok=True)
    lake = lake_for(a.cache, a.rows, DAYS)
    total = json.loads((lake / "faults.json").read_text())["readings"]
    results = []
    r = run_child("pipeline", lake, DAYS, None)
    results.append(("pipeline (DuckDB, full)", total, r))
    ra = run_child("duckdb-sql", lake, DAYS, None)
    results.append(("(a) hand-written DuckDB SQL, daily tce only", total, ra))
    max_days = None
    if total > a.pandas_max_rows:
        max_days = max(1, int(DAYS * a.pandas_max_rows / total))
    rb = run_child("pandas", lake, DAYS, max_days)
    note_b = ""
    if max_days:
        scale = rb["days_total"] / rb["days_used"]
        note_b = (f"ran on {rb['days_used']} of {rb['days_total']} days ({rb['rows']:,} rows) and extrapolated "
                  f"time ×{scale:.1f}; peak memory is that of the subset")  # fmt: skip
        rb = {**rb, "secs": rb["secs"] * scale, "rows": total}
    results.append(("(b) plain pandas, daily tce only", total, rb))
    if not a.skip_spark:
        sdays = 31
        slake = lake_for(a.cache, a.spark_rows, sdays)
        stotal = json.loads((slake / "faults.json").read_text())["readings"]
        results.append(("pipeline (Spark local[2], full)", stotal, run_child("spark", slake, sdays, None)))
        results.append(("pipeline (DuckDB, full), same lake", stotal, run_child("pipeline", slake, sdays, None)))
    print()
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
          f"{psutil.virtual_memory().total / 1e9:.1f} GB RAM, Python {platform.python_version()}, {platform.platform()}")  # fmt: skip
    print(f"{'measurement':46s} {'readings':>13s} {'seconds':>9s} {'rows/s':>13s} {'peak GB':>8s}")
    for label, rows, r in results:
        print(f"{label:46s} {rows:>13,d} {r['secs']:>9.1f} {rows / r['secs']:>13,.0f} {r['peak_gb']:>8.2f}")
    print()
    print(f"pipeline / (a) = {r_ratio(results[0], results[1]):.2f}  (goal <= 3)")
    print(f"pipeline / (b) = {r_ratio(results[0], results[2]):.2f}  (goal < 1)")
    print(f"pipeline peak memory = {results[0][2]['peak_gb']:.2f} GB (goal < 4)")
    if note_b:
        print(f"(b): {note_b}")


def r_ratio(x: tuple, y: tuple) -> float:
    return x[2]["secs"] / y[2]["secs"]


if __name__ == "__main__":
    main()
