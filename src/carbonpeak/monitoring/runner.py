"""One monitoring run: registry from the store, readings from the store or a Parquet lake, the
pipeline on the chosen engine, every rule, and the results saved back to the store."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from carbonpeak.errors import CarbonpeakError
from carbonpeak.monitoring.catalog import CoefficientFn, catalog_coefficients, load_catalog
from carbonpeak.monitoring.engine import connect, read_lake
from carbonpeak.monitoring.pipeline import PipelineResult, run_pipeline
from carbonpeak.monitoring.rules import RuleResult, evaluate
from carbonpeak.monitoring.storage import load_registry, save_run, store_readings
from carbonpeak.store import Store


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
) -> RunOutcome:
    """Run the pipeline and the rules for ``[date_from, date_to]`` and save the results."""
    reg = load_registry(store)
    if reg["meters"].empty:
        raise CarbonpeakError("no meters registered: run `carbonpeak monitor ingest meters.csv` first")
    if engine == "spark" and lake is None:
        raise CarbonpeakError(
            "the Spark engine reads readings from a Parquet lake: give --lake DIR or set CARBONPEAK_LAKE_PATH"
        )
    con = connect(engine, duckdb_con=store.con if engine == "duckdb" else None, spark_master=spark_master)
    if lake is not None:
        readings, source = read_lake(con, lake), f"lake:{lake}"
    else:
        readings, source = store_readings(con), "store"
    coef = coef_fn or catalog_coefficients(electricity_method=electricity_method, grid=grid)
    res = run_pipeline(con, readings, reg["meters"], reg["units"], coef, date_from=date_from, date_to=date_to,
                       engine=engine)  # fmt: skip
    cat = load_catalog(thresholds)
    rules = evaluate(res, cat, output=reg["output"], budgets=reg["budgets"], reported=reg["reported"],
                     uploads=reg.get("uploads"), warn_levels=warn_levels)  # fmt: skip
    params = {"engine": engine, "source": source, "electricity_method": electricity_method, "grid": grid,
              "thresholds": dict(thresholds or {}), "warn_levels": warn_levels}  # fmt: skip
    stamp = dt.datetime.now(dt.UTC).isoformat()
    run_id = "run-" + hashlib.sha1(f"{stamp}|{date_from}|{date_to}|{source}".encode()).hexdigest()[:12]
    if save:
        save_run(store, run_id, res=res, rules=rules, source=source, params=params)
    return RunOutcome(run_id, res, rules, source)
