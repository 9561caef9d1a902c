"""Benchmarks of the peak-projection model (run by hand: ``.venv/bin/python bench/bench_scenarios.py``).

Issue 4 §5 asks for 10,000 Monte Carlo runs over 2020-2035 in < 10 s and a Sobol analysis with
20 levers in < 2 min on a 2-core machine; issue 15 adds the representative-day dispatch (timed beside
its floor, an annual energy balance) and the lever page's answer.  Prints a table with the machine information.
"""

from __future__ import annotations

import os
import platform
import sys
import time

import numpy as np
import pandas as pd

from carbonpeak.scenarios.lmdi import decompose
from carbonpeak.scenarios.model import prepare, simulate
from carbonpeak.scenarios.montecarlo import run_montecarlo, summarise
from carbonpeak.scenarios.scenario import load_scenario
from carbonpeak.scenarios.sensitivity import sobol


def _time(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    sc = load_scenario("plan")
    inp = prepare(sc)
    rows = []

    t = _time(lambda: prepare(load_scenario("plan")))
    rows.append(("load + prepare plan scenario", "1", t, ""))

    t = _time(lambda: simulate(inp))
    rows.append(("deterministic run 2020-2035", "1 run", t, ""))

    # the representative-day dispatch alone, against its floor: the same energy balance done annually
    # (no hours: must-run + wind + solar, thermal fills the rest), on the same 10,000 × 16 arrays
    from carbonpeak.scenarios.dispatch import dispatch, load_profiles

    pr = load_profiles()
    n, y = 10_000, len(inp.years)
    g = np.random.default_rng(1)
    dem = g.uniform(700, 1100, (n, y))
    must, pv, wnd = dem * 0.35, g.uniform(20, 120, (n, y)), g.uniform(20, 80, (n, y))
    ones = np.ones((n, y))
    def disp() -> None:
        dispatch(pr, dem, must, pv, wnd, 12 * ones, 15 * ones, 5 * ones, 0.78 * ones, 0.05 * ones, 2 * ones)
    t = _time(disp)
    c0 = time.process_time()
    disp()
    rows.append(("representative-day dispatch (4 days × 24 h), 10,000 draws × 16 years", "160,000 years", t,
                 f"CPU {time.process_time() - c0:.1f} s"))
    t = _time(lambda: np.clip(dem - must - pv - wnd, 0.0, None).sum())
    rows.append(("floor: annual energy balance, same arrays", "160,000 years", t, "no hours, no storage"))

    from carbonpeak.scenarios.levers import lever_outlook

    lever_outlook("plan", {}, 300)
    t = _time(lambda: lever_outlook("plan", {"wind_solar_delivery": 1.5}, 300))
    rows.append(("lever page answer (POST /api/projections/levers), 300 draws", "300 runs", t, "interactive: < 2 s"))

    for draws in (10_000, 20_000):
        def mc(d: int = draws) -> None:
            _, res, _ = run_montecarlo(sc, d, 0, inputs=inp)
            summarise(sc, inp, res, draws=d, seed=0)
        t = _time(mc)
        rows.append((f"Monte Carlo incl. sampling + summary, {draws:,} draws 2020-2035", f"{draws:,} runs", t,
                     "target < 10 s" if draws == 10_000 else ""))

    names = sorted(sc.uncertainty)
    levers = [k for k in names if sc.uncertainty[k].bounds()[0] < sc.uncertainty[k].bounds()[1]][:20]
    for n in (1024, 4096):
        runs = n * (len(levers) + 2)
        t = _time(lambda n=n: sobol(sc, n=n, seed=0, inputs=inp, factors=levers), repeat=1)
        rows.append((f"Sobol (Saltelli) {len(levers)} levers, N={n}", f"{runs:,} runs", t,
                     "target < 120 s" if n == 1024 else ""))

    rng = np.random.default_rng(0)
    sectors, years = 500, 30
    df = pd.DataFrame([
        {"year": 1990 + y, "sector": f"s{s}", **{f"x{k}": rng.uniform(0.5, 2.0) for k in range(5)}}
        for y in range(years) for s in range(sectors)
    ])
    factors = [f"x{k}" for k in range(5)]
    t = _time(lambda: decompose(df, factors, 1990, 1990 + years - 1, chained=True), repeat=1)
    rows.append((f"LMDI-I additive chained, {sectors} sectors × {years} years × 5 factors", "29 steps", t, ""))

    info = (f"{platform.platform()} | Python {sys.version.split()[0]} | numpy {np.__version__} | "
            f"{os.cpu_count()} logical CPUs | {platform.processor() or platform.machine()}")
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            model = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), "")
        info += f" | {model}"
    except OSError:
        pass
    print(f"Machine: {info}")
    print(f"{'benchmark':<70} {'size':>16} {'seconds':>10}  note")
    for name, size, sec, note in rows:
        print(f"{name:<70} {size:>16} {sec:>10.3f}  {note}")


if __name__ == "__main__":
    main()
