"""Benchmark: the keyed audit chain and signed checkpoints.

Run by hand: ``.venv/bin/python bench/bench_audit.py [--entries 20000] [--rows 200000]``.

SYNTHETIC data in a temporary store.  Side by side in the same run:

* verifying the chain keyed with HMAC-SHA256 (what ships) against the same chain verified as
  unkeyed SHA-256 (the floor: the cost of the key is the difference);
* a signed checkpoint (head + digests of the guarded tables) with ``--rows`` synthetic activity
  rows, against a plain ``SELECT count(*)`` over the same tables (the floor of touching them).

Prints the machine; the figures depend on its load.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from carbonpeak.store import Store, audit, checkpoints


def _timed(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=20_000)
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as d:
        store = Store(Path(d) / "bench.duckdb")
        t0 = time.perf_counter()
        with store.transaction():
            for i in range(a.entries):
                audit.append(store, actor="bench", action="x.create", entity="x", entity_id=str(i), payload={"i": i})
        t_append = time.perf_counter() - t0
        floor_store = Store(Path(d) / "floor.duckdb")
        t0 = time.perf_counter()
        with floor_store.transaction() as con:
            prev = audit.GENESIS
            for i in range(1, a.entries + 1):  # the same reads and writes, plain SHA-256, no key
                con.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
                h = audit.entry_hash(i, "t", "bench", "x.create", "x", str(i), audit.canonical_json({"i": i}), prev)
                con.execute(
                    "INSERT INTO audit_log (seq, ts, actor, action, entity, entity_id, payload, prev_hash, hash)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [i, "t", "bench", "x.create", "x", str(i), audit.canonical_json({"i": i}), prev, h],
                )
                prev = h
        t_floor = time.perf_counter() - t0
        floor_store.close()
        rng = np.random.default_rng(0)
        act = pd.DataFrame(
            {
                "year": rng.integers(2005, 2025, a.rows),
                "region": rng.choice(["GD", "GD-GZ", "GD-SZ"], a.rows),
                "category": "1.A.1",
                "item": rng.choice(["coal", "gas", "oil"], a.rows),
                "amount": rng.random(a.rows) * 1e4,
                "unit": "t",
            }
        )
        store.import_frame("activity", act, kind="activity", source="synthetic")
        rows = store.con.execute(
            "SELECT seq, ts, actor, action, entity, entity_id, payload, prev_hash FROM audit_log ORDER BY seq"
        ).fetchall()

        def unkeyed() -> None:
            for seq, ts, actor, action, entity, entity_id, payload, prev in rows:
                audit.entry_hash(seq, ts, actor, action, entity, entity_id, payload, prev)

        def counts() -> None:
            for sql in (
                "SELECT count(*) FROM users",
                "SELECT count(*) FROM submissions",
                "SELECT count(*) FROM credit_events",
                "SELECT count(*) FROM batches",
                "SELECT count(*) FROM activity",
            ):
                store.con.execute(sql).fetchone()

        results = [
            ("append (HMAC), per entry", t_append / a.entries * 1e6, "µs"),
            ("floor: unkeyed select + insert, per entry", t_floor / a.entries * 1e6, "µs"),
            (f"verify keyed chain ({a.entries} entries)", _timed(lambda: audit.verify_chain(store), a.repeat), "s"),
            (f"floor: unkeyed SHA-256 of the same ({a.entries})", _timed(unkeyed, a.repeat), "s"),
            (f"signed checkpoint ({a.rows} activity rows)", _timed(lambda: checkpoints.create(store), a.repeat), "s"),
            ("floor: count(*) of the guarded tables", _timed(counts, a.repeat), "s"),
        ]
        cp = checkpoints.latest(store)
        assert cp is not None
        results.append(
            ("verify against checkpoint", _timed(lambda: checkpoints.verify_against(store, cp), a.repeat), "s")
        )
        store.close()
    w = max(len(r[0]) for r in results)
    print(f"{'step':<{w}}  {'time':>10}")
    for name, v, unit in results:
        print(f"{name:<{w}}  {v:>10.3f} {unit}")


if __name__ == "__main__":
    main()
