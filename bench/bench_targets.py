"""Benchmark: the annual assessment chain on the bundled Guangdong demo data.

Run by hand: ``.venv/bin/python bench/bench_targets.py [--repeat 3] [--pdf]``.

Times each stage of ``carbonpeak demo`` (load and validate activity and observations, compile the
inventory, compute the indicators, the peak outlook with 1000 draws, the assessment of every target
with both city decompositions, the zh HTML report, optionally the PDF) and the two decomposition
methods alone on 21 cities (1000 repetitions).  Prints the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import numpy as np
import pandas as pd

from carbonpeak.accounting.engine import compile_inventory
from carbonpeak.demo import demo_files
from carbonpeak.model.activity import load_activity
from carbonpeak.model.observation import load_observations
from carbonpeak.reports.assessment import render_html
from carbonpeak.reports.pdf import find_chromium, html_to_pdf
from carbonpeak.targets.assess import assess
from carbonpeak.targets.decompose import decompose
from carbonpeak.targets.indicators import compute_indicators


def timed(fn, repeat):
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--pdf", action="store_true")
    args = ap.parse_args()
    rows = []
    files = demo_files("activity") + demo_files("activity_cities")
    t, act = timed(lambda: load_activity(files), args.repeat)
    rows.append(("load activity", len(act), t))
    t, obs = timed(lambda: load_observations(demo_files("observations")), args.repeat)
    rows.append(("load observations", len(obs), t))
    t, inv = timed(lambda: compile_inventory(act), args.repeat)
    rows.append(("compile inventory", len(inv.results), t))
    t, ind = timed(lambda: compute_indicators(obs, inv.results), args.repeat)
    rows.append(("compute indicators", len(ind), t))
    try:
        from carbonpeak.scenarios.outlook import peak_outlook

        t, out = timed(lambda: peak_outlook("plan", draws=1000, seed=0), 1)
        rows.append(("peak outlook (1000 draws)", 1000, t))
    except ImportError:
        out = None
    t, a = timed(lambda: assess(2023, ind, inventory_results=inv.results, outlook=out), args.repeat)
    rows.append(("assess 60 targets + 2 decompositions", len(a["targets"]), t))
    t, html = timed(lambda: render_html(a, lang="zh", inventory_results=inv.results, outlook=out), args.repeat)
    rows.append(("render zh HTML (11 charts)", len(html), t))
    if args.pdf and find_chromium():
        with TemporaryDirectory() as d:
            p = Path(d) / "r.html"
            p.write_text(html, encoding="utf-8")
            t, _ = timed(lambda: html_to_pdf(p, Path(d) / "r.pdf"), 1)
        rows.append(("print PDF (chromium)", 1, t))
    rng = np.random.default_rng(0)
    base = pd.DataFrame({"region": [f"c{i}" for i in range(21)], "tier": rng.choice(["leading", "growing", "lagging"], 21),
                         "emissions": rng.uniform(5, 100, 21), "gdp": rng.uniform(500, 30000, 21),
                         "gdp_per_capita": rng.uniform(3, 20, 21), "co2_intensity": rng.uniform(0.2, 3, 21)})
    for m in ("entropy", "optimise"):
        t, _ = timed(lambda m=m: [decompose(base, 18.0, method=m) for _ in range(1000)], 1)
        rows.append((f"decompose 21 cities x1000 ({m})", 1000, t))
    print(f"machine: {platform.machine()} {platform.processor() or ''} cpus={os.cpu_count()} "
          f"python={platform.python_version()} {platform.system()} {platform.release()}")
    print(f"{'stage':42s} {'n':>10s} {'seconds':>9s}")
    for name, n, t in rows:
        print(f"{name:42s} {n:>10d} {t:>9.3f}")


if __name__ == "__main__":
    main()
