"""One monitoring run: registry from the store, readings from the store or a Parquet lake, the
pipeline on the chosen engine, every rule, and the results saved back to the store.

Every run also keeps its stage-1 meter-day table in the store (``mon_meter_day``, per readings
source).  An **incremental** run reuses it: only the days that new readings fall on (and the day
before each, for the counters) are recomputed from the readings; stage 2 and every rule then run
on the window's meter-day table.  The changed days are found from the store's readings batches
written since the stored table was computed, or given (``changed``) for a lake.  A change of the
meter registry since then makes the stored table stale: the run refuses and asks for a full run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from carbonpeak.errors import CarbonpeakError
from carbonpeak.monitoring.catalog import CoefficientFn, catalog_coefficients, load_catalog
from carbonpeak.monitoring.engine import connect, read_lake
from carbonpeak.monitoring.pipeline import PipelineResult, run_pipeline
from carbonpeak.monitoring.rules import RuleResult, evaluate
from carbonpeak.store import Store
from carbonpeak.store.monitoring import (
    compute_connection,
    load_meter_day,
    load_registry,
    meter_day_cover,
    readings_changed_since,
    registry_changed_at,
    save_meter_day,
    save_run,
    store_readings,
)


@dataclass
class RunOutcome:
    run_id: str
    result: PipelineResult
    rules: RuleResult
    source: str


def run_monitoring(
    store: Store,
    date_from: dt.date,
    date_to: dt.date,
    *,
    engine: str = "duckdb",
    lake: str | Path | None = None,
    coef_fn: CoefficientFn | None = None,
    electricity_method: str = "calorific",
    grid: str = "national",
    thresholds: Mapping[str, Any] | None = None,
    warn_levels: list[float] | None = None,
    spark_master: str = "local[2]",
    save: bool = True,
    incremental: bool = False,
    changed: tuple[dt.date, dt.date] | None = None,
    duckdb_memory_limit: str | None = None,
    duckdb_threads: int | None = None,
    duckdb_temp_directory: str | Path | None = None,
) -> RunOutcome:
    """Run the pipeline and the rules for ``[date_from, date_to]`` and save the results.

    ``incremental``: reuse the stored meter-day table of this source and recompute only the days
    of ``changed`` (a lake: required; the store: found from the readings batches since).
    ``duckdb_memory_limit`` / ``duckdb_threads`` / ``duckdb_temp_directory``: limits and spill
    directory of the DuckDB connection that reads a lake (a connection of its own; readings from
    the store are read on the store's connection).
    """
    reg = load_registry(store)
    if reg["meters"].empty:
        raise CarbonpeakError("no meters registered: run `carbonpeak monitor ingest meters.csv` first")
    if engine == "spark" and lake is None:
        raise CarbonpeakError(
            "the Spark engine reads readings from a Parquet lake: give --lake DIR or set CARBONPEAK_LAKE_PATH"
        )
    if engine == "duckdb" and lake is not None:
        # a lake is read by a DuckDB connection of its own, not the store's: its memory and thread
        # limits are then the run's alone, and the store's connection (and backend) is left alone
        con = connect("duckdb", memory_limit=duckdb_memory_limit, threads=duckdb_threads,
                      temp_directory=duckdb_temp_directory)
    else:
        con = connect(engine, duckdb_con=compute_connection(store) if engine == "duckdb" else None, spark_master=spark_master)
    if lake is not None:
        readings, source = read_lake(con, lake), f"lake:{Path(lake).resolve()}"
    else:
        readings, source = store_readings(con), "store"
    started = dt.datetime.now(dt.UTC)
    previous, chg = None, None
    if incremental:
        previous, chg = _incremental_basis(store, source, date_from, date_to, changed, lake is not None)
    elif changed is not None:
        raise CarbonpeakError("--changed is for incremental runs: add --incremental")
    coef = coef_fn or catalog_coefficients(electricity_method=electricity_method, grid=grid)
    res = run_pipeline(con, readings, reg["meters"], reg["units"], coef, date_from=date_from, date_to=date_to,
                       engine=engine, previous=previous, changed=chg)  # fmt: skip
    if engine == "duckdb" and lake is None:
        # readings came from the store's connection; the rules' set operations (setchecks) run on a
        # private in-memory DuckDB instead, so that nothing of theirs is registered on the store's
        res.con = connect("duckdb", memory_limit=duckdb_memory_limit, threads=duckdb_threads,
                      temp_directory=duckdb_temp_directory)
    cat = load_catalog(thresholds)
    rules = evaluate(res, cat, output=reg["output"], budgets=reg["budgets"], reported=reg["reported"],
                     uploads=reg.get("uploads"), warn_levels=warn_levels)  # fmt: skip
    params = {"engine": engine, "source": source, "electricity_method": electricity_method, "grid": grid,
              "thresholds": dict(thresholds or {}), "warn_levels": warn_levels}  # fmt: skip
    stamp = dt.datetime.now(dt.UTC).isoformat()
    run_id = "run-" + hashlib.sha1(f"{stamp}|{date_from}|{date_to}|{source}".encode()).hexdigest()[:12]
    if save:
        save_run(store, run_id, res=res, rules=rules, source=source, params=params)
        if not incremental:
            lo, hi = date_from, date_to
        elif res.info.get("recomputed_days"):
            lo, hi = (dt.date.fromisoformat(x) for x in res.info["recomputed_days"])
        else:
            lo, hi = date_to + dt.timedelta(days=1), date_to  # nothing recomputed: only the cover is recorded
        save_meter_day(store, source, res.meter_day, lo, hi, run_id, cover=(date_from, date_to), computed_at=started)
    return RunOutcome(run_id, res, rules, source)


def _incremental_basis(
    store: Store, source: str, date_from: dt.date, date_to: dt.date, changed: tuple[dt.date, dt.date] | None,
    is_lake: bool,
) -> tuple[Any, tuple[dt.date, dt.date] | tuple[None, None]]:
    """The stored meter-day table and the changed days of an incremental run (or a clear error)."""
    cover = meter_day_cover(store, source)
    reg_t = registry_changed_at(store)
    if reg_t is not None and len(cover):
        cover = cover[cover["computed_at"] > reg_t]
    if cover.empty:
        raise CarbonpeakError(
            f"no stored meter-days for {source} since the meter registry last changed: run the window once "
            "without --incremental"
        )
    if changed is None:
        if is_lake:
            raise CarbonpeakError("--incremental on a lake needs --changed FROM[:TO], the days the new files cover")
        since = min(cover["computed_at"])
        found = readings_changed_since(store, since)
        chg: tuple[dt.date, dt.date] | tuple[None, None] = found if found is not None else (None, None)
    else:
        chg = changed
    # every day of the window outside the recomputed range must be stored
    need = {date_from + dt.timedelta(days=i) for i in range((date_to - date_from).days + 1)}
    if chg[0] is not None and chg[1] is not None:
        lo = chg[0] - dt.timedelta(days=1)
        need -= {lo + dt.timedelta(days=i) for i in range((chg[1] - lo).days + 1)}
    have: set[dt.date] = set()
    for a, b in zip(cover["date_from"], cover["date_to"], strict=True):
        a, b = pd.Timestamp(a).date(), pd.Timestamp(b).date()
        have |= {a + dt.timedelta(days=i) for i in range((b - a).days + 1)}
    missing = sorted(need - have)
    if missing:
        raise CarbonpeakError(
            f"the stored meter-days of {source} do not cover {missing[0]}"
            + (f" … {missing[-1]} ({len(missing)} days)" if len(missing) > 1 else "")
            + ": run that window once without --incremental"
        )
    return load_meter_day(store, source, date_from, date_to), chg
