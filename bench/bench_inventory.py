"""Benchmark: compile 21 cities × 10 years of activity data (~100 000 rows) with compile_inventory.

Run by hand: ``.venv/bin/python bench/bench_inventory.py [--rows-per-region-year N] [--repeat R]``.

The activity data are SYNTHETIC (random amounts, fixed seed), shaped like a full city inventory:
every fuel-combustion category × combustible fuel of the catalog (truncated to the target row
count), reference-approach flows per fuel, net imported electricity, and the non-energy rows of
the bundled demo data (cement, rice, forest, ...) copied to every city and year.

Validation, compile, the first read of ``results`` (which renders the deferred ``explain``
texts) and ``summary()`` are timed separately, each in wall and CPU time (``time.process_time``), with the load average, since the
machine may be shared.  The goal of issue 2 §6 ("compile < 1 s") is measured on
``compile_inventory`` of already validated rows: validation is its own step (``load_activity``
does it when reading files) and is reported on its own line, as is validate + compile.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

from carbonpeak.accounting.engine import compile_inventory
from carbonpeak.catalog.categories import get_categories
from carbonpeak.catalog.factors import FactorSet
from carbonpeak.catalog.items import get_items
from carbonpeak.catalog.regions import cities
from carbonpeak.model.activity import validate_activity

DEMO = Path(__file__).resolve().parents[1] / "src" / "carbonpeak" / "demo" / "data" / "activity"
EXTRA = (
    ("3.A.1", "buffalo", "head", 20_000.0),
    ("3.A.2", "poultry", "head", 5.0e6),
    ("3.C.4", "manure_n_applied", "t", 2_000.0),
    ("3.B.4.a.i", "mangrove", "ha", 500.0),
    ("4.A.3", "msw_bulk", "t", 5.0e5),
    ("4.B", "composting", "t", 1.0e4),
    ("4.C.1", "msw_bulk", "t", 3.0e5),
    ("4.D.1", "domestic_bod_septic", "t", 2_000.0),
    ("4.D.2", "industrial_cod_anaerobic_reactor", "t", 1_000.0),
)


def build(rows_per_region_year: int, years: range, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cats = get_categories()
    comb_cats = [
        c.code
        for c in cats.values()
        if c.code.startswith("1.A.")
        and c.sector == "energy"
        and not any(o.parent == c.code for o in cats.values())
    ]
    items = get_items()
    fuels = sorted(i for i, it in items.items() if it.kind in ("fossil_solid", "fossil_liquid", "fossil_gas"))
    unit = {i: items[i].unit or "t" for i in fuels}
    template: list[tuple[str, str, str]] = []
    for f in fuels:
        for flow in ("M.REF.PROD", "M.REF.IMP", "M.REF.EXP"):
            template.append((flow, f, unit[f]))
    template.append(("M.ELEC", "electricity", "MWh"))
    # non-energy rows of the bundled demo data, at a city-sized share of the provincial amount
    scale: dict[int, float] = {}
    if DEMO.exists():
        for p in sorted(DEMO.glob("*.csv")):
            d = pd.read_csv(p, comment="#", dtype=str, keep_default_na=False)
            d = d[~d["category"].str.startswith(("1.", "M."))]
            med = d.assign(a=d["amount"].astype(float)).groupby(["category", "item", "unit"])["a"].median()
            for (c, i, u), a in med.items():
                scale[len(template)] = float(a) / 21.0
                template.append((c, i, u))
    # sectors without demo rows: one row of each kind per city and year (item ids and units as the
    # afolu/waste methods expect them; amounts are city-sized round numbers)
    for c, i, u, a in EXTRA:
        scale[len(template)] = a
        template.append((c, i, u))
    combos = [(c, f, unit[f]) for c in comb_cats for f in fuels]
    rng.shuffle(combos)
    template += combos[: max(0, rows_per_region_year - len(template))]
    regions = [r.code for r in cities()]
    n_t = len(template)
    grid = pd.MultiIndex.from_product(
        [list(years), regions, range(n_t)], names=["year", "region", "k"]
    ).to_frame(index=False)
    t = pd.DataFrame(template, columns=["category", "item", "unit"])
    df = grid.join(t, on="k")
    base = df["k"].map(scale).to_numpy(dtype=float) if scale else np.full(len(df), np.nan)
    rand = rng.uniform(1.0, 1e5, len(df))
    df["amount"] = np.where(np.isnan(base), rand, base * rng.uniform(0.95, 1.05, len(df))).round(3)
    df = df.drop(columns="k")
    df["uncertainty_pct"] = 5.0
    df["source"] = "synthetic benchmark data"
    df["note"] = ""
    df["__file__"] = "bench.csv"
    df["__row__"] = np.arange(2, 2 + len(df))
    for c in ("year", "amount", "uncertainty_pct"):
        df[c] = df[c].astype(str)
    return df


def per_method(act: pd.DataFrame, fs: FactorSet) -> list[tuple[str, int, float]]:
    """Time each registered method on its own rows (best of 2), with explain texts deferred
    as inside ``compile_inventory``."""
    from carbonpeak.accounting.base import MethodContext, registry
    from carbonpeak.accounting.deferred import collecting
    from carbonpeak.accounting.engine import _method_for

    methods = registry()
    owner = {c: _method_for(c, methods) for c in act["category"].unique()}
    ctx = MethodContext(factors=fs)
    out = []
    for name in sorted({m for m in owner.values() if m}):
        sub = act[act["category"].isin([c for c, m in owner.items() if m == name])].reset_index(drop=True)
        best = float("inf")
        for _ in range(2):
            with collecting():
                t0 = time.perf_counter()
                methods[name].fn(sub, ctx)
                best = min(best, time.perf_counter() - t0)
        out.append((name, len(sub), best))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows-per-region-year", type=int, default=476)
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    raw = build(args.rows_per_region_year, range(2014, 2014 + args.years))
    fs = FactorSet.default()
    validate_activity(raw.head(100))  # warm catalog caches (items, regions, units)
    t0, c0 = time.perf_counter(), time.process_time()
    act = validate_activity(raw)
    t_val, c_val = time.perf_counter() - t0, time.process_time() - c0
    # warm caches (method registry, unit parser, factor lookups) on one city's data
    compile_inventory(act[act["region"] == act["region"].iloc[0]], fs)
    times, cpu = [], []
    for _ in range(args.repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        inv = compile_inventory(act, fs)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    t0, c0 = time.perf_counter(), time.process_time()
    s = inv.summary()
    t_sum, c_sum = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    n_explain = int(inv.results["explain"].str.len().sum())
    t_res, c_res = time.perf_counter() - t0, time.process_time() - c0
    best = min(times)
    sectors = sorted({get_categories()[c].sector for c in act["category"].unique()})
    rows = [
        (
            "machine",
            f"{platform.platform()}; {platform.processor() or platform.machine()}; "
            f"{os.cpu_count()} CPUs; Python {platform.python_version()}",
        ),
        (
            "activity rows",
            f"{len(act):,} ({act['region'].nunique()} regions × {act['year'].nunique()} years)",
        ),
        ("sectors covered", ", ".join(sectors)),
        ("result rows", f"{len(inv.results):,}"),
        ("validate_activity (wall / CPU)", f"{t_val:.3f} s / {c_val:.3f} s"),
        (f"compile_inventory (best of {args.repeat})", f"{best:.3f} s"),
        ("compile_inventory (all runs)", ", ".join(f"{x:.3f}" for x in times) + " s"),
        ("compile_inventory CPU time", ", ".join(f"{x:.3f}" for x in cpu) + " s"),
        ("load average (1/5/15 min)", " ".join(f"{x:.2f}" for x in os.getloadavg())),
        ("rows/s (compile)", f"{len(act) / best:,.0f}"),
        ("summary() (wall / CPU)", f"{t_sum:.3f} s / {c_sum:.3f} s"),
        (
            "first read of results (explain texts)",
            f"{t_res:.3f} s / {c_res:.3f} s CPU ({n_explain / 1e6:,.0f} M characters)",
        ),
        ("validate + compile (best)", f"{t_val + best:.3f} s"),
        ("total_co2e_t (synthetic)", f"{s['total_co2e_t']:,.0f}"),
        ("goal compile < 1 s", "met" if best < 1.0 else "NOT met"),
    ]
    rows += [(f"  method {name}", f"{n:,} rows, {t:.3f} s") for name, n, t in per_method(act, fs)]
    w = max(len(k) for k, _ in rows)
    print(f"bench_inventory: 21 cities × {args.years} years")
    for k, v in rows:
        print(f"  {k:<{w}}  {v}")


if __name__ == "__main__":
    main()
