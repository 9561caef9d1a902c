"""Benchmark: 100 000-draw Monte Carlo (IPCC Approach 2) over the Guangdong demo inventory.

Run by hand: ``.venv/bin/python bench/bench_uncertainty.py [--draws N] [--year Y] [--repeat R]``.

The inventory is the bundled demo data (``src/carbonpeak/demo/data/activity/*.csv`` for the
province and ``activity_cities/*.csv`` for the 21 cities), compiled with the engine, one year,
all regions and categories together (province + 21 cities: the bench sizes the sampler; an
analysis would take one region at a time).  The goal of issue 2 §6 is < 10 s on 2 cores.
Prints the draws, rows, activity and factor keys, the sampling dimension after the exact
Gaussian aggregation, seconds, peak memory of the Monte Carlo (tracemalloc, second run) and
the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import tracemalloc
from pathlib import Path

from carbonpeak.accounting.engine import compile_inventory
from carbonpeak.accounting.uncertainty import _mc_plan, _prepare, approach1, monte_carlo
from carbonpeak.model.activity import load_activity

DEMO = Path(__file__).resolve().parents[1] / "src" / "carbonpeak" / "demo" / "data"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024**2:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{cpu}, {os.cpu_count()} cores{mem}, Python {platform.python_version()}, {platform.system()}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--draws", type=int, default=100_000)
    ap.add_argument("--year", type=int, default=None, help="default: latest year with city data")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--independent",
        action="store_true",
        help="worst case: drop the factor keys (every row its own factor, nothing aggregates)",
    )
    args = ap.parse_args()

    files = sorted((DEMO / "activity").glob("*.csv")) + sorted((DEMO / "activity_cities").glob("*.csv"))
    t0 = time.perf_counter()
    act = load_activity(files)
    inv = compile_inventory(act)
    t_compile = time.perf_counter() - t0
    res = inv.results
    year = args.year or int(res.loc[res["region"] != "GD", "year"].max())
    sel = res[(res["year"] == year) & (res["scope"] == "territorial")]
    if args.independent:
        sel = sel.assign(factor_key=None)
    p = _prepare(sel, None, None, None)
    plan = _mc_plan(p)

    times = []
    cpu = []
    out = None
    for _ in range(args.repeat):
        t, c = time.perf_counter(), time.process_time()
        out = monte_carlo(sel, draws=args.draws, seed=args.seed)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    tracemalloc.start()
    monte_carlo(sel, draws=args.draws, seed=args.seed)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    t = time.perf_counter()
    a1 = approach1(sel)
    t_a1 = time.perf_counter() - t
    assert out is not None

    rows = [
        ("machine", machine()),
        ("activity files", f"{len(files)} ({len(act):,} rows, all years), compiled in {t_compile:.2f} s"),
        ("year", year),
        ("regions", sel["region"].nunique()),
        ("result rows (territorial, non-zero)", f"{len(p.x):,}"),
        ("categories", len(p.categories)),
        ("activity keys", f"{len(p.u_a):,}"),
        ("factor keys", f"{len(p.u_f):,}"),
        ("(factor key × category × sign) groups", f"{len(plan.g_mean):,}"),
        ("Gaussian draws per sample (after aggregation)", f"{plan.q_t.shape[1]:,}"),
        ("lognormal activity keys", f"{len(plan.e_a):,}"),
        ("draws", f"{args.draws:,}"),
        (
            "Monte Carlo seconds (best / median of runs)",
            f"{min(times):.2f} / {sorted(times)[len(times) // 2]:.2f}",
        ),
        ("Monte Carlo CPU seconds (best)", f"{min(cpu):.2f}"),
        ("load average at the end (1/5/15 min)", " / ".join(f"{x:.1f}" for x in os.getloadavg())),
        ("Monte Carlo peak memory (tracemalloc)", f"{peak / 1024**2:.0f} MiB"),
        ("Approach 1 seconds", f"{t_a1:.3f}"),
        ("total tCO2e", f"{out.total_co2e_t:,.0f}"),
        (
            "MC 95 % interval",
            f"{out.lower_95_co2e_t:,.0f} .. {out.upper_95_co2e_t:,.0f} (±{out.uncertainty_pct:.2f} %)",
        ),
        ("Approach 1", f"±{a1.uncertainty_pct:.2f} %"),
        ("goal (issue 2 §6)", "< 10 s on 2 cores: " + ("met" if min(times) < 10 else "NOT met")),
    ]
    width = max(len(k) for k, _ in rows)
    mode = " (worst case: independent factors)" if args.independent else ""
    print(f"bench_uncertainty: Monte Carlo over the Guangdong demo inventory{mode}")
    for k, v in rows:
        print(f"  {k:<{width}}  {v}")


if __name__ == "__main__":
    main()
