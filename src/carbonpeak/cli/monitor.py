"""``carbonpeak monitor …``: online monitoring of key energy-consuming units.

``ingest`` registry and readings files, ``run`` the pipeline and rules over a date window on
DuckDB or Spark, list ``alerts`` and ``review`` them, show ``pue`` and ``totals``, and
``generate`` a synthetic data set.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import typer

from carbonpeak.cli.output import Format, FormatOption, emit
from carbonpeak.cli.settings import settings
from carbonpeak.errors import CarbonpeakError

DbOption = typer.Option(None, "--db", help="DuckDB file of the store (default: CARBONPEAK_DB_PATH).")


def _store(db: Path | None) -> Any:
    from carbonpeak.store import Store

    return Store(db or settings().store_location)


def _date(text: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise CarbonpeakError(f"{name}: not a date (YYYY-MM-DD): '{text}'") from exc


def _table(df: Any) -> Any:
    out = df.copy()
    for c in out.columns:
        if str(out[c].dtype).startswith("datetime64"):
            out[c] = out[c].astype(str)
    return out


def register(app: typer.Typer) -> None:
    mon = typer.Typer(help="Online monitoring of key energy-consuming units (issue 5).", no_args_is_help=True)
    app.add_typer(mon, name="monitor")

    @mon.command("ingest")
    def ingest(
        paths: list[Path] = typer.Argument(..., help="Units, meters, output, budgets, reported or readings files "
                                           "(CSV, Excel, Parquet, or a Parquet directory partitioned by date)."),
        kind: str | None = typer.Option(None, help="File kind if it cannot be told from the columns."),
        submitter: str = typer.Option("cli", help="Who submits the data (kept with each batch)."),
        db: Path | None = DbOption,
        fmt: Format = FormatOption,
    ) -> None:
        """Import files, each all-or-nothing and idempotent (the same file twice changes nothing)."""
        from carbonpeak.store.monitoring import ingest_path

        store = _store(db)
        try:
            results = [ingest_path(store, p, kind=kind, submitter=submitter).to_dict() for p in paths]
        finally:
            store.close()
        emit(fmt, data={"ingested": results}, table=results, title="Ingested")

    @mon.command("run")
    def run(
        date_from: str = typer.Option(..., "--from", help="First day (YYYY-MM-DD, China Standard Time)."),
        date_to: str = typer.Option(..., "--to", help="Last day (inclusive)."),
        engine: str | None = typer.Option(None, help="duckdb (default) or spark (default: CARBONPEAK_ENGINE)."),
        lake: Path | None = typer.Option(None, help="Read readings from this Parquet lake instead of the store "
                                         "(default: CARBONPEAK_LAKE_PATH; required for spark)."),
        electricity_method: str | None = typer.Option(None, help="calorific or coal_substitution (GB/T 2589)."),
        grid: str = typer.Option("national", help="Grid factor series for electricity CO2: national, south, guangdong."),
        warn: str = typer.Option("0.8,1.0", help="Budget warning levels, comma-separated shares."),
        incremental: bool = typer.Option(False, "--incremental", help="Reuse the stored meter-days of an earlier "
                                         "run and recompute only the days new readings fall on."),
        changed: str | None = typer.Option(None, help="With --incremental on a lake: the days the new files cover, "
                                           "FROM[:TO] (the store finds them from its readings batches)."),
        db: Path | None = DbOption,
        fmt: Format = FormatOption,
    ) -> None:
        """Run the pipeline and every rule for a window; store totals, PUE and alerts."""
        from carbonpeak.workflows.monitoring_run import run_monitoring

        s = settings()
        eng = engine or s.engine
        lk = lake or s.lake_path
        try:
            levels = [float(x) for x in warn.split(",") if x.strip()]
        except ValueError as exc:
            raise CarbonpeakError(f"--warn: not a list of numbers: '{warn}'") from exc
        chg = None
        if changed:
            a, _, b = changed.partition(":")
            chg = (_date(a, "--changed"), _date(b or a, "--changed"))
        store = _store(db)
        try:
            o = run_monitoring(
                store, _date(date_from, "--from"), _date(date_to, "--to"), engine=eng, lake=lk,
                electricity_method=electricity_method or s.electricity_method, grid=grid, warn_levels=levels,
                spark_master=s.spark_master, incremental=incremental, changed=chg,
                duckdb_memory_limit=s.monitor_duckdb_memory_limit, duckdb_threads=s.monitor_duckdb_threads,
                duckdb_temp_directory=s.monitor_duckdb_temp_directory,
            )  # fmt: skip
        finally:
            store.close()
        counts = o.rules.alerts.groupby(["kind", "severity"]).size().reset_index(name="alerts")
        data = {
            "run_id": o.run_id,
            "engine": eng,
            "source": o.source,
            "date_from": o.result.date_from,
            "date_to": o.result.date_to,
            **o.result.info,
            "alerts": counts.to_dict(orient="records"),
        }
        emit(fmt, data=data, table=counts, title=f"{o.run_id}: {o.result.info['intervals']:,} intervals, "
             f"{o.result.info['tce']:,.0f} tce, {o.result.info['co2_t']:,.0f} tCO2 ({eng})")  # fmt: skip

    @mon.command("alerts")
    def alerts(
        unit: str | None = typer.Option(None, help="Only this unit."),
        kind: str | None = typer.Option(None, help="Only this kind (e.g. pue_over_limit, gap, flat_line)."),
        status: str | None = typer.Option(None, help="open or reviewed."),
        lang: str = typer.Option("en", "--lang", help="Language of the message column: zh or en."),
        db: Path | None = DbOption,
        fmt: Format = FormatOption,
    ) -> None:
        """List stored alerts: what was seen, where, why it matters, the rule's source."""
        from carbonpeak.i18n import alert_location, alert_text, alert_why
        from carbonpeak.store.monitoring import list_alerts

        if lang not in ("zh", "en"):
            raise typer.BadParameter("zh or en", param_hint="--lang")
        store = _store(db)
        try:
            df = list_alerts(store, unit=unit, kind=kind, status=status)
        finally:
            store.close()
        df = _table(df)
        if len(df) and "message_key" in df:
            # what was observed in --lang (message_key and params stay for machines)
            recs = df.to_dict(orient="records")
            df["observed"] = [alert_text(r, lang, with_why=False) for r in recs]
            df["why"] = [alert_why(str(r["kind"]), lang, default=str(r["why"])) for r in recs]
            if "location" in df:
                df["location"] = [alert_location(r, lang) for r in recs]
        short = df[["alert_id", "kind", "severity", "unit_id", "meter_id", "period_start", "period_end", "observed", "status"]] if fmt == Format.table else df  # fmt: skip
        emit(fmt, data=df, table=short, title=f"{len(df)} alerts")

    @mon.command("review")
    def review(
        alert_id: str = typer.Argument(..., help="The alert id (see `monitor alerts`)."),
        comment: str = typer.Option(..., help="What the verifier found."),
        reviewer: str = typer.Option("cli", help="Who reviewed it: a user of the store (its role applies)."),
        outcome: str = typer.Option("noted", help="noted, dismissed or confirmed_falsification (a credit event)."),
        db: Path | None = DbOption,
        fmt: Format = FormatOption,
    ) -> None:
        """Mark an alert reviewed with a comment: the same role checks and credit event as the service."""
        from carbonpeak.store.users import operator_principal
        from carbonpeak.workflows.monitoring import review_alert

        store = _store(db)
        try:
            row = review_alert(store, operator_principal(store, reviewer), alert_id, comment, outcome)
        finally:
            store.close()
        row = {k: (str(v) if hasattr(v, "isoformat") else v) for k, v in row.items()}
        emit(fmt, data=row, table=[{k: row[k] for k in ("alert_id", "kind", "status", "review_comment", "reviewed_by")}])

    @mon.command("pue")
    def pue(
        grain: str = typer.Option("month", help="day, month or year."),
        unit: str | None = typer.Option(None, help="Only this data centre."),
        db: Path | None = DbOption,
        fmt: Format = FormatOption,
    ) -> None:
        """PUE of each data centre from the last runs, with its limit and GB 40879-2021 grade."""
        from carbonpeak.store.monitoring import pue_results

        if grain not in ("day", "month", "year"):
            raise CarbonpeakError("--grain must be day, month or year")
        store = _store(db)
        try:
            df = pue_results(store, grain=grain, unit=unit)
        finally:
            store.close()
        emit(fmt, data=df, table=df, title=f"PUE by {grain}")

    @mon.command("totals")
    def totals(
        by: str = typer.Option("city", help="unit, month, city, industry or day."),
        db: Path | None = DbOption,
        fmt: Format = FormatOption,
    ) -> None:
        """Standard coal and CO2 totals of the stored runs by unit, month, city or industry."""
        from carbonpeak.store.monitoring import TOTALS_BY
        from carbonpeak.store.monitoring import totals as stored_totals

        if by not in TOTALS_BY:
            raise CarbonpeakError("--by must be unit, month, city, industry or day")
        store = _store(db)
        try:
            df = stored_totals(store, by)
        finally:
            store.close()
        emit(fmt, data=_table(df), table=_table(df), title=f"Totals by {by}")

    @mon.command("generate")
    def generate(
        out: Path = typer.Option(..., help="Output directory."),
        units: int = typer.Option(200, help="Number of units (about 2.5 meters each)."),
        days: int = typer.Option(60, help="Number of days."),
        start: str = typer.Option("2025-01-01", help="First day."),
        seed: int = typer.Option(42, help="Random seed (reported in faults.json)."),
        negative_fault: bool = typer.Option(
            False, "--negative-fault", help="Also a negative interval reading (monitor ingest refuses it)."
        ),
        fmt: Format = FormatOption,
    ) -> None:
        """Write a SYNTHETIC data set (registry CSVs + Parquet readings by date + faults.json)."""
        from carbonpeak.monitoring.synthetic import generate as gen

        if units < 1 or days < 1:
            raise CarbonpeakError("--units and --days must be at least 1")
        summary = gen(out, units=units, days=days, start=_date(start, "--start"), seed=seed, negative_fault=negative_fault)
        rows = [{"item": k, "value": v} for k, v in summary.items() if k != "faults"]
        rows += [{"item": f"fault:{k}", "value": ", ".join(f"{a}={b}" for a, b in v.items())} for k, v in summary["faults"].items()]
        emit(fmt, data=summary, table=rows, title=f"Synthetic data written to {out}")
