"""Benchmark: the command line as a person runs it (issue 12, "Habits the field expects").

Run by hand: ``PYTHONPATH=src .venv/bin/python bench/bench_cli.py [--repeat R] [--sizes 48x5,476x10]
[--only TEXT] [--compare OTHER_SRC]``.

Each line is a fresh process (``python -c ...``), timed wall-clock, best and median of R runs,
side by side with two floors measured in the same run on the same machine:

* ``python -c pass`` — the interpreter's own start-up;
* a bare ``pandas.read_csv`` of the same activity file — reading the data, without validation
  or compilation; and a bare Arrow read of it (``pyarrow.csv.read_csv(...).to_pandas()``), the
  reader ``read_table`` uses for CSV since issue 12.

``--compare SRC`` times the carbonpeak lines again with another source tree (e.g. the main
checkout's ``src``) in the same run, as a before/after peer.

``monitor run`` (issue 14: the command line adds at most 0.5 s of fixed cost) is timed on a tiny
synthetic lake (3 units, 2 days, made with ``carbonpeak monitor generate``) beside the same run as
a Python program that makes the one ``run_monitoring`` call the command makes; the difference of
the two is the command line's fixed cost.

Goals: ``carbonpeak --help`` < 0.3 s; ``carbonpeak inventory compile`` of ~100 000 rows < 1 s;
``monitor run`` ≤ 0.5 s over the Python program.
The activity files are SYNTHETIC (bench_inventory.build: 21 cities, fixed seed; 10,290 rows over 5 years
and 99,960 rows over 10 years by default).
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

#: the monitoring run of ``carbonpeak monitor run --from 2025-01-01 --to 2025-01-02 --lake L --db D``
#: as a Python program: the same store, window, lake and defaults, one call
MONITOR_PY = (
    "import datetime as dt, sys\n"
    "from carbonpeak.store import Store\n"
    "from carbonpeak.workflows.monitoring_run import run_monitoring\n"
    "s = Store(sys.argv[1])\n"
    "try:\n"
    "    run_monitoring(s, dt.date(2025, 1, 1), dt.date(2025, 1, 2), lake=sys.argv[2])\n"
    "finally:\n"
    "    s.close()\n"
)


def tiny_lake(tmp: Path, env: dict[str, str]) -> tuple[Path, Path]:
    """A tiny synthetic lake (3 units, 2 days) and a store holding its registry."""
    lake, db = tmp / "lake", tmp / "monitor.duckdb"
    cli = [sys.executable, "-c", CLI]
    subprocess.run([*cli, "monitor", "generate", "--out", str(lake), "--units", "3", "--days", "2"],
                   check=True, capture_output=True, env=env)  # fmt: skip
    regs = [str(lake / "registry" / f"{k}.csv") for k in ("units", "meters")]
    subprocess.run([*cli, "monitor", "ingest", *regs, "--db", str(db)], check=True, capture_output=True, env=env)
    return lake / "readings", db


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
    ap.add_argument(
        "--sizes",
        default="48x5,476x10",
        help="activity files to compile, ROWSxYEARS each (rows per region and year × years; 21 regions): "
        "the default is 10,290 and 99,960 rows",
    )
    ap.add_argument("--compare", type=Path, default=None, help="another src/ tree to time beside this one")
    ap.add_argument("--only", default="", help="time only the floors and the cases whose label contains this text")
    args = ap.parse_args()
    src = Path(__file__).resolve().parents[1] / "src"
    env = {**os.environ, "PYTHONPATH": str(src)}
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        want_monitor = not args.only or args.only in "monitor run"
        want_files = not args.only or "monitor" not in args.only
        cases = [
            ("floor: python -c pass", [py, "-c", "pass"]),
            ("carbonpeak --help (goal < 0.3 s)", [py, "-c", CLI, "--help"]),
            ("carbonpeak --version", [py, "-c", CLI, "--version"]),
            ("carbonpeak inventory --help", [py, "-c", CLI, "inventory", "--help"]),
        ]
        for size in args.sizes.split(",") if want_files else []:
            per, years = (int(x) for x in size.lower().split("x"))
            df = build(per, range(2014, 2014 + years))
            n = len(df)
            path = Path(tmp) / f"activity_{n}.csv"
            df.drop(columns=["__file__", "__row__"]).to_csv(path, index=False)
            cases += [
                (
                    f"floor: pandas.read_csv of the {n:,}-row file",
                    [py, "-c", f"import pandas; pandas.read_csv({str(path)!r}, dtype=str, keep_default_na=False)"],
                ),
                (
                    f"floor: pyarrow.csv.read_csv of the {n:,}-row file to pandas",
                    [py, "-c", f"import pandas, pyarrow.csv as c; c.read_csv({str(path)!r}).to_pandas()"],
                ),
                (
                    f"carbonpeak inventory compile {n:,} rows ({years} years) --format json (goal < 1 s)",
                    [py, "-c", CLI, "inventory", "compile", str(path), "--format", "json"],
                ),
                (
                    f"carbonpeak inventory compile {n:,} rows --year 2016 (table)",
                    [py, "-c", CLI, "inventory", "compile", str(path), "--year", "2016"],
                ),
            ]
        if want_monitor:
            readings, db = tiny_lake(Path(tmp), env)
            window = ["--from", "2025-01-01", "--to", "2025-01-02"]
            cases += [
                (
                    "monitor run, tiny lake, as a Python program (one run_monitoring call)",
                    [py, "-c", MONITOR_PY, str(db), str(readings)],
                ),
                (
                    "carbonpeak monitor run, tiny lake",
                    [py, "-c", CLI, "monitor", "run", *window, "--lake", str(readings), "--db", str(db)],
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
    mon = {r[0]: r for r in rows if "tiny lake" in r[0]}
    if len(mon) == 2:
        (_, pb, pm, pc), (_, cb, cm, cc) = mon.values()
        print(f"monitor run: the command line adds {cb - pb:+.3f} s (best), {cm - pm:+.3f} s (median), "
              f"{cc - pc:+.3f} s CPU over the Python program (goal <= 0.5 s)")


if __name__ == "__main__":
    main()
