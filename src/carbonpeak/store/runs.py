"""Stored projection runs: what was run (tool version, input hash, seed), listed and compared later.

A run is identified by its kind, input hash, seed, draws and tool version: storing the same run
again returns the existing id (idempotent).  Values are bound as parameters (no SQL from strings).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from carbonpeak.store.duck import Store


def run_id(kind: str, input_hash: str, seed: int | None, draws: int | None, version: str) -> str:
    key = json.dumps([kind, input_hash, seed, draws, version]).encode()
    return f"{kind}:{hashlib.sha256(key).hexdigest()[:16]}"


def save_run(store: Store, *, scenario: str, kind: str, tool_version: str, input_hash: str,
             seed: int | None, draws: int | None, summary: dict[str, Any], payload: dict[str, Any],
             submitter: str = "cli") -> tuple[str, bool]:
    """Store a run; returns (run_id, created).  The same run stored twice is kept once."""
    from carbonpeak.jsonutil import to_json

    rid = run_id(kind, input_hash, seed, draws, tool_version)
    with store.transaction() as con:
        if con.execute("SELECT 1 FROM scenario_runs WHERE run_id = ?", [rid]).fetchone():
            return rid, False
        con.execute(
            "INSERT INTO scenario_runs (run_id, created_at, scenario, kind, tool_version, input_hash, seed, draws, "
            "submitter, summary, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [rid, datetime.now(UTC), scenario, kind, tool_version, input_hash, seed, draws, submitter,
             to_json(summary, indent=None), to_json(payload, indent=None)],
        )
    return rid, True


def list_runs(store: Store, scenario: str | None = None) -> pd.DataFrame:
    """Stored runs, newest first (without the payload)."""
    sql = ("SELECT run_id, created_at, scenario, kind, tool_version, input_hash, seed, draws, submitter, summary "
           "FROM scenario_runs WHERE (CAST(? AS VARCHAR) IS NULL OR scenario = ?) ORDER BY created_at DESC")
    return store.query(sql, [scenario, scenario])


def get_run(store: Store, rid: str) -> dict[str, Any]:
    """One stored run with its summary and payload; ``KeyError`` if there is none."""
    df = store.query("SELECT * FROM scenario_runs WHERE run_id = ?", [rid])
    if df.empty:
        raise KeyError(rid)
    row = df.iloc[0].to_dict()
    row["summary"] = json.loads(row["summary"])
    row["payload"] = json.loads(row["payload"])
    row["created_at"] = str(row["created_at"])
    return row
