"""Monitoring data in the store: registry imports, versioned readings, runs and alerts.

* Registry files (units, meters, output, budgets, reported) go through
  :meth:`Store.import_frame`: one transaction per file, idempotent by content digest; the
  ``mon_*_current`` views give, per key, the row of the newest batch.
* Readings keep their history.  A batch is staged, checked (every bad row counted, the first
  ``max_problems`` reported with file, row and field) and then applied in one transaction:
  rows identical to the current value change nothing, new (meter, time) keys are inserted as
  version 1, and a different value for an existing key is a *correction*: the earlier row stays
  with ``is_current = false`` and ``superseded_by`` = the correcting batch, the new row gets the
  next version.  The batch id is a digest of the batch content, so the same file twice (or the
  same rows in another file or order) changes nothing.
* Large Parquet inputs (a file or a directory partitioned by ``date=``) are read and checked by
  DuckDB without loading them into Python.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from carbonpeak.errors import CarbonpeakError, NotFound, Problem, ValidationError
from carbonpeak.i18n import Msg, declare
from carbonpeak.io import read_table
from carbonpeak.monitoring.registry import TABLES, detect_kind, validate_kind
from carbonpeak.store.duck import Store
from carbonpeak.store.engine import register

declare({
    "io.file_not_found": {}, "io.check": {"check": Msg, "value": str}, "io.required_column_short": {},
    "io.empty": {}, "io.mon.bad_ts": {}, "io.mon.future": {}, "io.mon.bad_number": {},
    "io.mon.implausible": {"lo": float, "hi": float}, "io.mon.not_number": {}, "io.mon.negative_interval": {},
    "io.mon.unknown_meter": {}, "io.mon.more_rows": {"n": int, "what": Msg},
    "io.mon.conflict": {"meter": str, "ts": str, "first_row": int}, "io.no_rows": {}, "io.mon.unknown_unit": {},
})

REGISTRY_COLUMNS: dict[str, list[str]] = {
    "units": ["unit_id", "name", "uscc", "industry_code", "city", "kind", "hub_node", "registered_level", "synthetic",
              "dc_build", "dc_size", "altitude_m", "pressure_pa"],
    "meters": ["meter_id", "unit_id", "energy_type", "point", "kind", "unit", "interval_minutes", "parent_meter_id",
               "product", "rollover", "max_interval_value", "calibration_valid_until"],
    "output": ["unit_id", "product", "period_start", "period_end", "quantity", "unit", "clinker_ratio", "feed_grade",
               "rare_earth_ore_pct", "vti_magnetite_pct", "laterite_nickel_pct", "thickness_factor",
               "nonhydro_renewable_share"],
    "budgets": ["unit_id", "year", "budget_tce"],
    "reported": ["unit_id", "period_start", "period_end", "energy_tce"],
    "uploads": ["unit_id", "indicator", "frequency", "period_start", "value", "unit", "uploaded_at"],
}


@dataclass(frozen=True)
class IngestResult:
    file: str
    kind: str
    batch_id: str
    rows: int
    created: bool
    inserted: int = 0
    corrected: int = 0
    unchanged: int = 0

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def _stage_con(store: Store) -> Any:
    """Where files of readings are read and checked: DuckDB (``read_parquet``, fast checks).

    On DuckDB that is the store itself; on PostgreSQL an in-memory DuckDB beside it with the
    meter registry the checks need (``mon_meters_current``); the checked batch is then written
    to PostgreSQL in one transaction (:func:`_apply_readings`).
    """
    if not store.is_postgres:
        return store.con
    import duckdb

    stage = duckdb.connect(":memory:")
    meters = store.query("SELECT meter_id, kind FROM mon_meters_current")
    stage.register("_meters", meters)
    stage.execute("CREATE TABLE mon_meters_current AS SELECT CAST(meter_id AS VARCHAR) AS meter_id, "
                  "CAST(kind AS VARCHAR) AS kind FROM _meters")  # fmt: skip
    stage.unregister("_meters")
    return stage


def _is_parquet(p: Path) -> bool:
    return p.is_dir() or p.suffix.lower() in (".parquet", ".pq")


def ingest_path(store: Store, path: str | Path, *, kind: str | None = None, submitter: str = "cli",
                max_problems: int = 20, source_name: str | None = None) -> IngestResult:  # fmt: skip
    """Ingest one file (CSV, Excel, Parquet) or a Parquet directory of readings.

    ``source_name`` is the name the sender gave the file (an upload saved under a server name):
    it is what errors, the batch record and the readings' ``source_file`` show.
    """
    p = Path(path)
    name = source_name or str(p)
    if not p.exists():
        raise ValidationError([Problem(name, None, None, Msg("io.file_not_found"))])
    if _is_parquet(p):
        src, params = _parquet_src(p)
        import duckdb

        with duckdb.connect(":memory:") as probe:
            cols = probe.execute(f"DESCRIBE SELECT * FROM {src}", params).df()["column_name"].tolist()  # noqa: S608 -- src is a constant read_parquet(?) call, the path is bound
        k = kind or detect_kind(cols, name)
        if k == "readings":
            return ingest_readings_parquet(store, p, submitter=submitter, max_problems=max_problems, source_name=source_name)
    df = read_table(p)
    if source_name is not None:
        df["__file__"] = source_name
    k = kind or detect_kind([c for c in df.columns if not c.startswith("__")], name)
    if k == "readings":
        return ingest_readings_frame(store, df, source=name, submitter=submitter)
    return ingest_registry(store, df, k, source=name, submitter=submitter)


def ingest_registry(store: Store, df: pd.DataFrame, kind: str, *, source: str, submitter: str = "cli") -> IngestResult:
    typed = validate_kind(df, kind)
    if kind == "meters" or kind in ("output", "budgets", "reported", "uploads"):
        _check_known(store, typed, "unit_id", "mon_units_current", "unit_id", Msg("io.mon.unknown_unit"))
    cols = REGISTRY_COLUMNS[kind] + ["__row__", "__file__"]
    r = store.import_frame(TABLES[kind], typed[cols], kind=f"mon_{kind}", source=source, submitter=submitter)
    return IngestResult(source, kind, r.batch_id, r.rows, r.created, r.rows if r.created else 0)


def _check_known(store: Store, df: pd.DataFrame, col: str, table: str, key: str, msg: Msg) -> None:
    if table not in TABLES_CURRENT or key not in ("unit_id", "meter_id"):
        raise ValueError(f"not a registry table: {table}.{key}")
    known = set(store.query(f"SELECT {key} FROM {table}")[key].astype(str))  # noqa: S608 -- table and key are checked against code constants above
    bad = ~df[col].astype(str).isin(known)
    if bad.any():
        raise ValidationError(
            [Problem(str(f), int(r), col, Msg("io.check", check=msg, value=str(v))) for f, r, v in
             zip(df.loc[bad, "__file__"], df.loc[bad, "__row__"], df.loc[bad, col], strict=True)]
        )


#: The registry views a check may name (code constants; never text from a request or a file).
TABLES_CURRENT = tuple(f"{t}_current" for t in TABLES.values())


# -- readings -----------------------------------------------------------------------------------
def _parquet_src(p: Path) -> tuple[str, list[Any]]:
    """A ``read_parquet`` call with the path as a bound parameter (never spliced into the SQL)."""
    if p.is_dir():
        return (
            "read_parquet(?, hive_partitioning = true, filename = true, file_row_number = true)",
            [str(p / "**" / "*.parquet")],
        )
    return "read_parquet(?, filename = true, file_row_number = true)", [str(p)]


def ingest_readings_frame(store: Store, df: pd.DataFrame, *, source: str, submitter: str = "cli") -> IngestResult:
    """Readings from a CSV/Excel table (validated with :func:`carbonpeak.io.validate_table`)."""
    typed = validate_kind(df, "readings")
    stage = pd.DataFrame(
        {
            "meter_id": typed["meter_id"].astype(str),
            "ts": pd.to_datetime(typed["ts"], utc=True),
            "value": typed["value"].astype(float),
            "source_file": typed["__file__"].astype(str),
            "source_row": typed["__row__"].astype("int64"),
        }
    )
    with store._lock:
        scon = _stage_con(store)
        scon.register("_mon_in", stage)
        try:
            return _apply_readings(store, scon, "SELECT * FROM _mon_in", [], source=source, submitter=submitter,
                                   max_problems=50)  # fmt: skip
        finally:
            scon.unregister("_mon_in")
            if store.is_postgres:  # the staging DuckDB beside PostgreSQL
                scon.close()


def ingest_readings_parquet(store: Store, path: Path, *, submitter: str = "cli", max_problems: int = 20,
                            source_name: str | None = None) -> IngestResult:  # fmt: skip
    """Readings from a Parquet file or a ``date=``-partitioned directory, checked inside DuckDB."""
    src, params = _parquet_src(path)
    name = source_name or str(path)
    scon = _stage_con(store)
    try:
        return _readings_parquet(store, scon, src, params, name, source_name, submitter, max_problems)
    finally:
        if store.is_postgres:  # the staging DuckDB beside PostgreSQL
            scon.close()


def _readings_parquet(store: Store, scon: Any, src: str, params: list[Any], name: str, source_name: str | None,
                      submitter: str, max_problems: int) -> IngestResult:  # fmt: skip
    cols = set(scon.execute(f"DESCRIBE SELECT * FROM {src}", params).df()["column_name"])  # noqa: S608 -- src is a constant read_parquet(?) call
    missing = [c for c in ("meter_id", "ts", "value") if c not in cols]
    if missing:
        raise ValidationError([Problem(name, None, c, Msg("io.required_column_short")) for c in missing])
    file_col = "filename" if source_name is None else "CAST(? AS VARCHAR)"
    sql = (
        "SELECT CAST(meter_id AS VARCHAR) AS meter_id, TRY_CAST(ts AS TIMESTAMPTZ) AS ts, "  # noqa: S608 -- built from constants; the path and the name are bound
        f"TRY_CAST(value AS DOUBLE) AS value, {file_col} AS source_file, file_row_number + 1 AS source_row, "
        "ts IS NOT NULL AS ts_given, value IS NOT NULL AS value_given "
        f"FROM {src}"
    )
    sql_params = ([] if source_name is None else [source_name]) + params
    with store._lock:
        return _apply_readings(store, scon, sql, sql_params, source=name, submitter=submitter,
                               max_problems=max_problems)  # fmt: skip


def _apply_readings(store: Store, con: Any, select_sql: str, params: list[Any], *, source: str, submitter: str,
                    max_problems: int) -> IngestResult:  # fmt: skip
    """Check a staged batch of readings and apply it (``select_sql`` is built from code constants only).

    ``con`` is the DuckDB connection the batch is staged and checked on (:func:`_stage_con`).
    """
    from carbonpeak.io.validate import clock_allowance_minutes, plausible_range

    lo, hi = plausible_range("readings", "value")
    latest = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=clock_allowance_minutes())
    con.execute(f"CREATE OR REPLACE TEMP TABLE _mon_stage AS {select_sql}", params)
    try:
        cols = set(con.execute("DESCRIBE _mon_stage").df()["column_name"])
        ts_given = "ts_given" if "ts_given" in cols else "TRUE"
        v_given = "value_given" if "value_given" in cols else "TRUE"
        # (field, condition, message, bound values): conditions are code constants (ts_given and
        # v_given are column names or TRUE); every value goes in as a parameter
        checks: list[tuple[str, str, Msg, list[Any]]] = [
            ("meter_id", "meter_id IS NULL OR trim(meter_id) = ''", Msg("io.empty"), []),
            ("ts", f"ts IS NULL AND {ts_given}", Msg("io.mon.bad_ts"), []),
            ("ts", f"ts IS NULL AND NOT {ts_given}", Msg("io.empty"), []),
            ("ts", "ts > ?", Msg("io.mon.future"), [latest]),
            ("value", "value IS NOT NULL AND NOT isfinite(value)", Msg("io.mon.bad_number"), []),
            ("value", "value IS NOT NULL AND isfinite(value) AND (value < ? OR value > ?)",
             Msg("io.mon.implausible", lo=float(lo), hi=float(hi)),  # type: ignore[arg-type]
             [float(lo), float(hi)]),  # type: ignore[arg-type]
            ("value", f"value IS NULL AND {v_given}", Msg("io.mon.not_number"), []),
            # an interval meter reports the energy of one interval: it cannot be negative (a
            # cumulative meter's register may fall at a reset or rollover, which the pipeline
            # handles, so its readings are left to the quality checks; docs/methods/monitoring.md)
            ("value", "value IS NOT NULL AND isfinite(value) AND value < ? AND meter_id IN "
             "(SELECT meter_id FROM mon_meters_current WHERE kind = ?)",
             Msg("io.mon.negative_interval"), [0.0, "interval"]),
            ("value", f"value IS NULL AND NOT {v_given}", Msg("io.empty"), []),
            ("meter_id", "meter_id IS NOT NULL AND meter_id NOT IN (SELECT meter_id FROM mon_meters_current)",
             Msg("io.mon.unknown_meter"), []),
        ]
        problems: list[Problem] = []
        total_bad = 0
        for field, cond, msg, args in checks:
            n = con.execute(f"SELECT count(*) FROM _mon_stage WHERE {cond}", args).fetchone()[0]  # noqa: S608 -- constant condition, values bound
            if n:
                total_bad += n
                rows = con.execute(
                    f"SELECT source_file, source_row, CAST(meter_id AS VARCHAR) FROM _mon_stage WHERE {cond} "  # noqa: S608 -- constant condition, values bound
                    "ORDER BY source_file, source_row LIMIT ?",
                    [*args, int(max_problems)],
                ).fetchall()
                problems += [Problem(str(f), int(r), field, Msg("io.check", check=msg, value=str(m)) if field == "meter_id" else msg)
                             for f, r, m in rows]  # fmt: skip
                if n > len(rows):
                    problems.append(Problem(source, None, field, Msg("io.mon.more_rows", n=n - len(rows), what=msg)))
        conflicts = con.execute(
            "SELECT meter_id, ts, count(DISTINCT value) AS k, min(source_row) AS r1, max(source_row) AS r2, min(source_file) f "
            "FROM _mon_stage WHERE meter_id IS NOT NULL AND ts IS NOT NULL GROUP BY meter_id, ts HAVING count(DISTINCT value) > 1 "
            "ORDER BY f, r1 LIMIT ?",
            [int(max_problems)],
        ).fetchall()
        for m, ts, _k, r1, r2, f in conflicts:
            problems.append(Problem(str(f), int(r2), "value", Msg("io.mon.conflict", meter=str(m), ts=str(ts), first_row=int(r1))))
        if problems:
            raise ValidationError(problems)
        n_rows, h = con.execute(
            "SELECT count(*), CAST(coalesce(sum(CAST(hash(meter_id, epoch_us(ts), value) AS HUGEINT)), 0) AS VARCHAR) FROM _mon_stage"
        ).fetchone()
        if n_rows == 0:
            raise ValidationError([Problem(source, None, None, Msg("io.no_rows"))])
        batch_id = "mon_readings:" + hashlib.sha256(f"{n_rows}:{h}".encode()).hexdigest()[:32]
        if store.batch_exists(batch_id):
            return IngestResult(source, "readings", batch_id, int(n_rows), False)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _mon_s AS SELECT meter_id, ts, any_value(value) AS value, "
            "min(source_file) AS source_file, min(source_row) AS source_row FROM _mon_stage GROUP BY meter_id, ts"
        )
        with store.transaction() as w:
            if store.is_postgres:  # the checked batch goes over in one COPY
                w.register("_mon_s", con.execute("SELECT * FROM _mon_s").df())
            for t in ("_mon_new", "_mon_chg"):
                w.execute(f"DROP TABLE IF EXISTS {t}")
            w.execute(
                "CREATE TEMP TABLE _mon_new AS SELECT s.* FROM _mon_s s WHERE NOT EXISTS "
                "(SELECT 1 FROM mon_readings r WHERE r.meter_id = s.meter_id AND r.ts = s.ts)"
            )
            w.execute(
                "CREATE TEMP TABLE _mon_chg AS SELECT s.*, r.version AS old_version FROM _mon_s s "
                "JOIN mon_readings r ON r.meter_id = s.meter_id AND r.ts = s.ts AND r.is_current WHERE r.value <> s.value"
            )
            n_new = w.execute("SELECT count(*) FROM _mon_new").fetchone()[0]
            n_chg = w.execute("SELECT count(*) FROM _mon_chg").fetchone()[0]
            n_distinct = w.execute("SELECT count(*) FROM _mon_s").fetchone()[0]
            if n_chg:
                w.execute(
                "UPDATE mon_readings SET is_current = false, superseded_by = ? FROM _mon_chg c "
                "WHERE mon_readings.meter_id = c.meter_id AND mon_readings.ts = c.ts AND mon_readings.is_current",
                [batch_id],
                )
            w.execute(
                "INSERT INTO mon_readings SELECT meter_id, ts, value, old_version + 1, true, NULL, ?, source_file, source_row "
                "FROM _mon_chg",
                [batch_id],
            )
            w.execute(
                "INSERT INTO mon_readings SELECT meter_id, ts, value, 1, true, NULL, ?, source_file, source_row FROM _mon_new",
                [batch_id],
            )
            w.execute(
                "INSERT INTO batches (batch_id, kind, source, submitter, rows, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                [batch_id, "mon_readings", source, submitter, int(n_rows), dt.datetime.now(dt.UTC)],
            )
            audit_readings(store, batch_id, source=source, submitter=submitter, rows=int(n_rows),
                           inserted=int(n_new), corrected=int(n_chg))  # fmt: skip
            for t in ("_mon_s", "_mon_new", "_mon_chg"):
                w.execute(f"DROP TABLE IF EXISTS {t}")
        _checkpoint(store)
        return IngestResult(source, "readings", batch_id, int(n_rows), True, int(n_new), int(n_chg),
                            int(n_distinct - n_new - n_chg))  # fmt: skip
    finally:
        for t in ("_mon_s", "_mon_new", "_mon_chg", "_mon_stage"):
            con.execute(f"DROP TABLE IF EXISTS {t}")


def audit_readings(store: Store, batch_id: str, *, source: str, submitter: str, rows: int, inserted: int,
                   corrected: int) -> None:  # fmt: skip
    """Record a readings batch in the audit chain (inside the caller's transaction): an ingest, or a
    correction when it replaced stored values (the earlier rows stay, superseded by this batch)."""
    if not store.has_table("audit_log"):
        return
    from carbonpeak.store import audit

    audit.append(store, actor=submitter, action="mon_readings.correct" if corrected else "mon_readings.import",
                 entity="batch", entity_id=batch_id,
                 payload={"source": source, "rows": rows, "inserted": inserted, "corrected": corrected})  # fmt: skip


def _checkpoint(store: Store) -> None:
    """CHECKPOINT after a committed batch.  The data are committed already, so a failure here is
    logged and does not turn a stored batch into a reported failure (issue 9).

    DuckDB 2.0.0: without a checkpoint, rows inserted here read back with ts = NULL in the same
    process (seen on a 650k-row batch; correct after CHECKPOINT).
    """
    import logging

    if store.is_postgres:
        return
    try:
        store.con.execute("CHECKPOINT")
    except Exception as exc:  # the commit is durable in the WAL; the checkpoint will happen later
        logging.getLogger(__name__).warning("CHECKPOINT after a committed readings batch failed: %s", exc)


# -- reading the registry back ---------------------------------------------------------------------
def load_registry(store: Store) -> dict[str, pd.DataFrame]:
    """The current registry: units, meters, output, budgets, reported (typed like validate_kind)."""
    out: dict[str, pd.DataFrame] = {}
    for kind, cols in REGISTRY_COLUMNS.items():
        df = store.query(f"SELECT {', '.join(cols)} FROM {TABLES[kind]}_current ORDER BY {cols[0]}")  # noqa: S608 -- table and column names are code constants (REGISTRY_COLUMNS/TABLES; WHERE keys are literals)
        for c in ("period_start", "period_end"):
            if c in df.columns and kind != "uploads":
                df[c] = pd.to_datetime(df[c]).dt.date
        for c in ("period_start", "uploaded_at"):
            if kind == "uploads":
                df[c] = pd.to_datetime(df[c], utc=True).dt.tz_convert("Asia/Shanghai")
        out[kind] = df
    m = out["meters"]
    for c in ("parent_meter_id", "product"):
        m[c] = m[c].fillna("").astype(str)
    m["interval_minutes"] = m["interval_minutes"].astype("int64")
    u = out["units"]
    u["hub_node"] = u["hub_node"].fillna(False).astype(bool)
    u["registered_level"] = u["registered_level"].fillna("none")
    for c in ("dc_build", "dc_size"):
        u[c] = u[c].fillna("").astype(str)
    cal = pd.to_datetime(m["calibration_valid_until"])
    m["calibration_valid_until"] = cal.dt.date.where(cal.notna(), None)
    return out


def compute_connection(store: Store) -> Any:
    """The DuckDB connection the monitoring pipeline runs on when it reads the store's readings.

    DuckDB: the store's own connection.  PostgreSQL: an in-memory DuckDB holding a copy of the
    current readings (the pipeline's aggregations run in DuckDB either way; readings at scale
    live in a Parquet lake, read by DuckDB or Spark, not in the store).
    """
    if not store.is_postgres:
        return store.con
    import duckdb

    con = duckdb.connect(":memory:")
    cur = store.query("SELECT meter_id, ts, value, is_current FROM mon_readings WHERE is_current")
    con.register("_r", cur)
    con.execute("CREATE TABLE mon_readings AS SELECT CAST(meter_id AS VARCHAR) AS meter_id, "
                "CAST(ts AS TIMESTAMPTZ) AS ts, CAST(value AS DOUBLE) AS value, "
                "CAST(is_current AS BOOLEAN) AS is_current FROM _r")  # fmt: skip
    con.unregister("_r")
    return con


def store_readings(con: Any) -> Any:
    """The current readings of the store as an Ibis table (``con`` = Ibis DuckDB on the store's connection)."""
    t = con.table("mon_readings")
    return t.filter(t.is_current).select("meter_id", "ts", "value")


def reading_history(store: Store, meter_id: str, ts: str | dt.datetime) -> pd.DataFrame:
    """Every stored version of one reading (oldest first)."""
    return store.query(
        "SELECT meter_id, ts, value, version, is_current, batch_id, superseded_by, source_file, source_row "
        "FROM mon_readings WHERE meter_id = ? AND ts = CAST(? AS TIMESTAMPTZ) ORDER BY version",
        [meter_id, str(ts)],
    )


# -- runs and alerts -------------------------------------------------------------------------------
def save_run(store: Store, run_id: str, *, res: Any, rules: Any, source: str, params: dict[str, Any]) -> None:
    """Store the run, its unit-day totals and PUE table (replacing the window), and upsert its alerts."""
    now = dt.datetime.now(dt.UTC)
    ud = res.unit_day.assign(run_id=run_id, date=res.unit_day["day"].to_numpy().astype("datetime64[D]"))
    ud = ud[["unit_id", "date", "energy_type", "tce", "co2_t", "electricity_kwh", "run_id"]]
    pue = rules.pue.assign(run_id=run_id)
    al = rules.alerts.copy()
    # the observed message's parameters as JSON text (rendered in the reader's language on the way out)
    al["params"] = [json.dumps(p, ensure_ascii=False, sort_keys=True) if isinstance(p, dict) else p
                    for p in (al["params"] if "params" in al else [None] * len(al))]
    al["first_run"] = run_id
    al["last_run"] = run_id
    con = store.con
    with store.transaction():
        con.execute(
            "INSERT INTO mon_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [run_id, now, res.date_from, res.date_to, res.engine, source, int(res.info.get("intervals", 0)),
             int(res.info.get("meter_days", 0)), len(al), json.dumps(params, default=str)],
        )
        con.execute("DELETE FROM mon_unit_day WHERE date BETWEEN ? AND ?", [res.date_from, res.date_to])
        register(con, "_mon_ud", ud, like="mon_unit_day")
        con.execute("INSERT INTO mon_unit_day SELECT * FROM _mon_ud")
        con.unregister("_mon_ud")
        con.execute("DELETE FROM mon_pue WHERE period_start >= ? AND period_end <= ?", [res.date_from, res.date_to])
        if len(pue):
            register(con, "_mon_pue", pue, like="mon_pue")
            con.execute(
                "INSERT INTO mon_pue SELECT unit_id, grain, period, period_start, period_end, days, total_kwh, it_kwh, pue, "
                "limit_value, over_limit, grade, run_id FROM _mon_pue"
            )
            con.unregister("_mon_pue")
        if len(al):
            register(con, "_mon_al", al, like="mon_alerts")
            con.execute(
                "INSERT INTO mon_alerts (alert_id, kind, severity, unit_id, meter_id, city, product, period_start, period_end, "
                "value, threshold, value_unit, observed, location, why, rule_source, first_run, last_run, status, grain, "
                "indicator, message_key, params) "
                "SELECT alert_id, kind, severity, unit_id, meter_id, city, product, period_start, period_end, value, threshold, "
                "value_unit, observed, location, why, rule_source, first_run, last_run, 'open', grain, indicator, message_key, "
                "params FROM _mon_al "
                "ON CONFLICT (alert_id) DO UPDATE SET last_run = excluded.last_run, observed = excluded.observed, "
                "message_key = excluded.message_key, params = excluded.params, "
                "value = excluded.value, severity = excluded.severity, rule_source = excluded.rule_source"
            )
            con.unregister("_mon_al")


def list_alerts(store: Store, *, unit: str | None = None, kind: str | None = None, status: str | None = None) -> pd.DataFrame:
    where, args = [], []
    for col, v in (("unit_id", unit), ("kind", kind), ("status", status)):
        if v:
            where.append(f"{col} = ?")
            args.append(v)
    sql = "SELECT * FROM mon_alerts" + (" WHERE " + " AND ".join(where) if where else "")  # noqa: S608 -- table and column names are code constants (REGISTRY_COLUMNS/TABLES; WHERE keys are literals)
    return store.query(sql + " ORDER BY kind, unit_id, meter_id, period_start", args)


def review_alert(store: Store, alert_id: str, *, comment: str, reviewer: str = "cli") -> dict[str, Any]:
    """Mark an alert reviewed with a comment (recorded in the audit log when the platform tables exist)."""
    if not comment.strip():
        raise CarbonpeakError("a review needs a comment (--comment)")
    row = store.con.execute("SELECT alert_id FROM mon_alerts WHERE alert_id = ?", [alert_id]).fetchone()
    if row is None:
        raise NotFound(f"no alert '{alert_id}' (list them with: carbonpeak monitor alerts)")
    now = dt.datetime.now(dt.UTC)
    with store.transaction():
        store.con.execute(
            "UPDATE mon_alerts SET status = 'reviewed', review_comment = ?, reviewed_by = ?, reviewed_at = ? WHERE alert_id = ?",
            [comment, reviewer, now, alert_id],
        )
        if store.has_table("audit_log"):
            from carbonpeak.store import audit

            audit.append(store, actor=reviewer, action="review", entity="mon_alert", entity_id=alert_id,
                         payload={"comment": comment})  # fmt: skip
    return store.query("SELECT * FROM mon_alerts WHERE alert_id = ?", [alert_id]).iloc[0].to_dict()


def pue_results(store: Store, *, grain: str = "month", unit: str | None = None) -> pd.DataFrame:
    sql = "SELECT unit_id, grain, period, days, total_kwh, it_kwh, pue, limit_value, over_limit, grade FROM mon_pue WHERE grain = ?"
    args: list[Any] = [grain]
    if unit:
        sql += " AND unit_id = ?"
        args.append(unit)
    return store.query(sql + " ORDER BY unit_id, period", args)


# -- the stage-1 meter-day table kept between runs (incremental runs) ---------------------------------
_MD_COLS = ("meter_id", "day", "n", "energy", "vmin", "vmax", "n_negative", "n_impossible", "n_resets", "n_rollovers",
            "first_epoch", "last_epoch")  # fmt: skip


def registry_changed_at(store: Store) -> dt.datetime | None:
    """When the meter registry last changed (a new meters batch): stored meter-days older than that are stale."""
    row = store.con.execute("SELECT max(created_at) FROM batches WHERE kind = 'mon_meters'").fetchone()
    return row[0] if row else None


def meter_day_cover(store: Store, source: str) -> pd.DataFrame:
    """The day ranges stored for ``source`` with the time they were computed (newest first)."""
    return store.query(
        "SELECT date_from, date_to, run_id, computed_at FROM mon_meter_day_cover WHERE source = ? ORDER BY computed_at DESC",
        [source],
    )


def load_meter_day(store: Store, source: str, date_from: dt.date, date_to: dt.date) -> pd.DataFrame:
    """The stored stage-1 meter-day rows of ``source`` in ``[date_from, date_to]``."""
    from carbonpeak.monitoring.pipeline import day_number

    df = store.query(
        "SELECT meter_id, day, n, energy, vmin, vmax, n_negative, n_impossible, n_resets, n_rollovers, first_epoch, "
        "last_epoch FROM mon_meter_day WHERE source = ? AND day BETWEEN ? AND ? ORDER BY meter_id, day",
        [source, day_number(date_from), day_number(date_to)],
    )
    for c in ("day", "n", "n_negative", "n_impossible", "n_resets", "n_rollovers", "first_epoch", "last_epoch"):
        df[c] = df[c].astype("int64")
    df["meter_id"] = df["meter_id"].astype(str)
    return df


def save_meter_day(store: Store, source: str, md: pd.DataFrame, date_from: dt.date, date_to: dt.date,
                   run_id: str, *, cover: tuple[dt.date, dt.date], computed_at: dt.datetime) -> None:  # fmt: skip
    """Replace the stored meter-days of ``source`` in ``[date_from, date_to]`` by those of ``md``; record that
    ``cover`` (the run's window) is now stored as of ``computed_at`` (when the run started reading)."""
    from carbonpeak.monitoring.pipeline import day_number

    d0, d1 = day_number(date_from), day_number(date_to)
    rows = md.loc[(md["day"] >= d0) & (md["day"] <= d1), list(_MD_COLS)].assign(run_id=run_id)
    con = store.con
    with store.transaction():
        con.execute("DELETE FROM mon_meter_day WHERE source = ? AND day BETWEEN ? AND ?", [source, d0, d1])
        register(con, "_mon_md", rows, like="mon_meter_day")
        try:
            con.execute(
                "INSERT INTO mon_meter_day SELECT ?, meter_id, day, n, energy, vmin, vmax, n_negative, n_impossible, "
                "n_resets, n_rollovers, first_epoch, last_epoch, run_id FROM _mon_md",
                [source],
            )
        finally:
            con.unregister("_mon_md")
        # ranges inside the new one are superseded by it
        con.execute("DELETE FROM mon_meter_day_cover WHERE source = ? AND date_from >= ? AND date_to <= ?",
                    [source, cover[0], cover[1]])  # fmt: skip
        con.execute("INSERT INTO mon_meter_day_cover VALUES (?, ?, ?, ?, ?)",
                    [source, cover[0], cover[1], run_id, computed_at])  # fmt: skip


def readings_changed_since(store: Store, since: dt.datetime) -> tuple[dt.date, dt.date] | None:
    """The first and last CST day of the stored readings written by batches after ``since`` (``None``: none)."""
    row = store.con.execute(
        "SELECT min(r.ts), max(r.ts) FROM mon_readings r JOIN batches b USING (batch_id) "
        "WHERE b.kind = 'mon_readings' AND b.created_at > ?",
        [since],
    ).fetchone()
    if row is None or row[0] is None:
        return None
    cst = dt.timezone(dt.timedelta(hours=8))
    return row[0].astimezone(cst).date(), row[1].astimezone(cst).date()


def review_state(store: Store) -> tuple[Any, ...] | None:
    """(reviewed alerts, latest review, runs): changes with every review or run; ``None`` without monitoring."""
    try:
        row = store.con.execute(
            "SELECT count(*), coalesce(max(epoch_ms(reviewed_at)), 0) FROM mon_alerts WHERE status <> 'open'"
        ).fetchone()
        runs = store.con.execute("SELECT count(*) FROM mon_runs").fetchone()
    except Exception:  # monitoring tables absent
        return None
    return (row, runs)


#: Grouping expressions of :func:`totals` (code constants; the caller picks one by name).
TOTALS_BY: dict[str, list[str]] = {
    "unit": ["d.unit_id"],
    "month": ["strftime(d.date, '%Y-%m')"],
    "city": ["u.city"],
    "industry": ["u.kind", "u.industry_code"],
    "day": ["d.date"],
}


def totals(store: Store, by: str) -> pd.DataFrame:
    """Standard coal and CO2 totals of the stored runs grouped by one of :data:`TOTALS_BY`."""
    keys = TOTALS_BY[by]
    k = ", ".join(f"{e} AS {e.split('.')[-1] if '(' not in e else 'month'}" for e in keys)
    g = ", ".join(str(i + 1) for i in range(len(keys)))
    return store.query(
        f"SELECT {k}, sum(d.tce) AS tce, sum(d.co2_t) AS co2_t, sum(d.electricity_kwh) AS electricity_kwh "  # noqa: S608 -- grouping expressions come from the fixed TOTALS_BY table; no user text
        f"FROM mon_unit_day d LEFT JOIN mon_units_current u USING (unit_id) GROUP BY {g} ORDER BY {g}"
    )
