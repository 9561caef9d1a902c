"""Benchmark: the command line as a person runs it (issue 12, "Habits the field expects").

Run by hand: ``PYTHONPATH=src .venv/bin/python bench/bench_cli.py [--repeat R] [--rows-per-region-year N]``.

Each line is a fresh process (``python -c ...``), timed wall-clock, best and median of R runs,
side by side with two floors measured in the same run on the same machine:

* ``python -c pass`` — the interpreter's own start-up;
* a bare ``pandas.read_csv`` of the same activity file — reading the data, without validation
  or compilation; and a bare Arrow read of it (``pyarrow.csv.read_csv(...).to_pandas()``), the
  reader ``read_table`` uses for CSV since issue 12.

``--compare SRC`` times the carbonpeak lines again with another source tree (e.g. the main
checkout's ``src``) in the same run, as a before/after peer.

Goals: ``carbonpeak --help`` < 0.3 s; ``carbonpeak inventory compile`` of ~100 000 rows < 1 s.
The activity file is SYNTHETIC (bench_inventory.build: 21 cities × 10 years, fixed seed).
The machine may be shared (load average printed): compare lines of one run, not across runs; the
``cpu`` column (user + system time of the process, median) is the steadier figure under load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_inventory import build

CLI = "import sys\nfrom carbonpeak.cli import main\nsys.exit(main())\n"


def timed(argv: list[str], repeat: int, env: dict[str, str]) -> tuple[float, float, float]:
    """Best and median wall-clock time of ``repeat`` fresh processes, and the median CPU time
    (user + system of the process and its threads): on a shared, loaded machine the wall clock
    mostly measures the other tenants, the CPU time much less so."""
    runs, cpu = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        err = proc.stderr.read() if proc.stderr else b""
        _pid, status, usage = os.wait4(proc.pid, 0)
        runs.append(time.perf_counter() - t0)
        cpu.append(usage.ru_utime + usage.ru_stime)
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            raise SystemExit(f"{argv[:4]} failed ({code}): {err.decode()[-2000:]}")
    return min(runs), statistics.median(runs), statistics.median(cpu)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--rows-per-region-year", type=int, default=476)
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--compare", type=Path, default=None, help="another src/ tree to time beside this one")
    ap.add_argument("--only", default="", help="time only the floors and the cases whose label contains this text")
    args = ap.parse_args()
    src = Path(__file__).resolve().parents[1] / "src"
    env = {**os.environ, "PYTHONPATH": str(src)}
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        df = build(args.rows_per_region_year, range(2014, 2014 + args.years))
        path = Path(tmp) / "activity.csv"
        df.drop(columns=["__file__", "__row__"]).to_csv(path, index=False)
        n = len(df)
        cases = [
            ("floor: python -c pass", [py, "-c", "pass"]),
            (
                "floor: pandas.read_csv of the file",
                [py, "-c", f"import pandas; pandas.read_csv({str(path)!r}, dtype=str, keep_default_na=False)"],
            ),
            (
                "floor: pyarrow.csv.read_csv of the file to pandas",
                [py, "-c", "import pandas, pyarrow.csv as c; "
                 f"c.read_csv({str(path)!r}).to_pandas()"],
            ),
            ("carbonpeak --help (goal < 0.3 s)", [py, "-c", CLI, "--help"]),
            ("carbonpeak --version", [py, "-c", CLI, "--version"]),
            ("carbonpeak inventory --help", [py, "-c", CLI, "inventory", "--help"]),
            (
                f"carbonpeak inventory compile {n:,} rows --format json (goal < 1 s)",
                [py, "-c", CLI, "inventory", "compile", str(path), "--format", "json"],
            ),
            (
                f"carbonpeak inventory compile {n:,} rows (table)",
                [py, "-c", CLI, "inventory", "compile", str(path), "--year", "2020"],
            ),
        ]
        rows = []
        for label, argv in cases:
            if args.only and not label.startswith("floor") and args.only not in label:
                continue
            rows.append((label, *timed(argv, args.repeat, env)))
            if args.compare is not None and label.startswith("carbonpeak"):
                peer = {**env, "PYTHONPATH": str(args.compare.resolve())}
                rows.append((f"  same, {args.compare}", *timed(argv, args.repeat, peer)))
    w = max(len(r[0]) for r in rows)
    print(f"bench_cli: best / median of {args.repeat} fresh processes; Python {sys.version.split()[0]}; "
          f"{os.cpu_count()} CPUs; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"  {'case':<{w}}  {'best':>8}  {'median':>8}  {'cpu':>8}")
    for label, best, med, cpu in rows:
        print(f"  {label:<{w}}  {best:7.3f}s  {med:7.3f}s  {cpu:7.3f}s")


if __name__ == "__main__":
    main()
