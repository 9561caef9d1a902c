"""Benchmark: AFOLU and waste methods at provincial scale.

Run by hand: ``.venv/bin/python bench/bench_afolu_waste.py [--years 60] [--repeat 3]``.

SYNTHETIC activity data (random amounts, fixed seed) for the 21 cities of Guangdong:

* 4.A solid waste disposal — every city × 3 site categories × 10 waste types × the whole disposal
  history (``--years``, default 60) → the first-order-decay model over ~38 000 deposit rows;
* agriculture — every city × 9 livestock (3.A.1 and 3.A.2) × 3 rice seasons × 8 N inputs × 10 years;
* LULUCF — every city × 7 forest types (standing volume) × 10 years, 3 coastal ecosystems.

Times the FOD kernel alone, each method directly, and the whole set through ``compile_inventory``.
Prints the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import pandas as pd

from carbonpeak.accounting.base import MethodContext
from carbonpeak.accounting.engine import compile_inventory
from carbonpeak.accounting.fod import fod_decomposed
from carbonpeak.accounting.methods.agriculture import (
    enteric_fermentation,
    managed_soils_n2o,
    manure_management,
)
from carbonpeak.accounting.methods.lulucf import land_use
from carbonpeak.accounting.methods.waste import solid_waste_disposal
from carbonpeak.catalog.factors import FactorSet
from carbonpeak.catalog.items import get_items
from carbonpeak.catalog.regions import cities

COLS = ["year", "region", "category", "item", "amount", "unit"]


def build(years: int, seed: int = 0) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    regions = [c.code for c in cities()]
    items = get_items()
    waste = ["msw_food", "msw_garden", "msw_paper", "msw_wood", "msw_textile", "msw_nappies",
             "msw_plastic", "msw_inert", "msw_bulk", "sludge_domestic"]
    last = 2024
    hist = range(last - years + 1, last + 1)
    rows = [(y, r, c, w, float(rng.uniform(0, 1e5)), "t")
            for r in regions for c in ("4.A.1", "4.A.2", "4.A.3") for w in waste for y in hist]
    out = {"4.A": pd.DataFrame(rows, columns=COLS)}
    livestock = [k for k, v in items.items() if v.kind == "livestock"]
    yrs = range(last - 9, last + 1)
    agri = [(y, r, "3.A.1", it, float(rng.uniform(1e3, 1e5)), "head")
            for r in regions for it in livestock if it != "poultry" for y in yrs]
    agri += [(y, r, "3.A.2", it, float(rng.uniform(1e3, 1e5)), "head") for r in regions for it in livestock for y in yrs]
    agri += [(y, r, "3.C.7", it, float(rng.uniform(1e3, 1e5)), "ha")
             for r in regions for it in ("rice_early", "rice_late", "rice_single") for y in yrs]
    agri += [(y, r, "3.C.4", it, float(rng.uniform(1e2, 1e4)), "t")
             for r in regions for it, v in items.items() if v.kind == "nitrogen_input" for y in yrs]
    out["agriculture"] = pd.DataFrame(agri, columns=COLS)
    forest = [k for k, v in items.items() if v.kind == "forest_type"]
    lul = [(y, r, "3.B.1.a", f, float(1e6 + 1e4 * (y - yrs[0]) + rng.uniform(0, 1e3)), "m3")
           for r in regions for f in forest for y in yrs]
    lul += [(y, r, cat, e, float(rng.uniform(10, 1e3)), "ha") for r in regions
            for cat, e in (("3.B.4.a.i", "mangrove"), ("3.B.4.a.ii", "salt_marsh"), ("3.B.4.a.iii", "seagrass"))
            for y in yrs]
    out["lulucf"] = pd.DataFrame(lul, columns=COLS)
    return out


def timed(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--years", type=int, default=60)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    data = build(a.years)
    fs = FactorSet.default()
    ctx = MethodContext(fs)
    rng = np.random.default_rng(1)
    kernel_in = rng.uniform(0, 1e5, size=(21 * 3 * 10 * 6, a.years))
    ks = rng.uniform(0.03, 0.4, size=kernel_in.shape[0])
    lines = [
        ("FOD kernel only", f"{kernel_in.shape[0]} phases x {a.years} yr",
         timed(lambda: fod_decomposed(kernel_in, ks, 6.0), a.repeat)),
        ("4.A solid_waste_disposal", f"{len(data['4.A']):,} rows", timed(lambda: solid_waste_disposal(data["4.A"], ctx), a.repeat)),
        ("3.A.1 enteric", "", timed(lambda: enteric_fermentation(data["agriculture"].query("category == '3.A.1'"), ctx), a.repeat)),
        ("3.A.2 manure", "", timed(lambda: manure_management(data["agriculture"].query("category == '3.A.2'"), ctx), a.repeat)),
        ("3.C.4/5 soils", "", timed(lambda: managed_soils_n2o(data["agriculture"].query("category == '3.C.4'"), ctx), a.repeat)),
        ("3.B land_use", f"{len(data['lulucf']):,} rows", timed(lambda: land_use(data["lulucf"], ctx), a.repeat)),
    ]
    allrows = pd.concat(list(data.values()), ignore_index=True)
    lines.append(("compile_inventory (all of the above)", f"{len(allrows):,} rows",
                  timed(lambda: compile_inventory(allrows, fs), a.repeat)))
    print(f"machine: {platform.machine()} {platform.processor() or ''} | {os.cpu_count()} CPUs | "
          f"Python {platform.python_version()} | {platform.platform()}")
    print(f"best of {a.repeat} runs")
    print(f"{'step':40s} {'size':>26s} {'seconds':>9s}")
    for name, size, sec in lines:
        print(f"{name:40s} {size:>26s} {sec:9.3f}")


if __name__ == "__main__":
    main()
