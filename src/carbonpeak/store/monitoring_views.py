"""Monitoring panels of the dashboard, scoped through the data-access rule.

An enterprise principal's ``enterprise_id`` is its unified social credit code (``uscc`` of the
units it owns); a city officer sees the units of its city (docs/security.md).  Every query is
filtered by :func:`carbonpeak.store.access.scope_predicate` with bound values.
"""

from __future__ import annotations

from typing import Any

from carbonpeak.store.access import DataAccess, scope_predicate


def _q(dal: DataAccess, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    df = dal.store.query(sql, params)
    return df.astype(object).where(df.notna(), None).to_dict(orient="records")  # type: ignore[no-any-return]


def _scope(dal: DataAccess) -> tuple[str, list[Any]]:
    return scope_predicate(dal.p, city_col="u.city", enterprise_col="u.uscc")


def open_alerts_by_kind(dal: DataAccess) -> list[dict[str, Any]]:
    pred, params = _scope(dal)
    return _q(
        dal,
        "SELECT a.kind, u.city, count(*) AS open_alerts, max(a.severity) AS max_severity "  # noqa: S608 -- pred is scope_predicate's constant SQL; all values are bound parameters
        "FROM mon_alerts a JOIN mon_units_current u USING (unit_id) "
        f"WHERE a.status = 'open' AND {pred} GROUP BY a.kind, u.city ORDER BY open_alerts DESC, a.kind LIMIT 200",
        params,
    )


def latest_pue(dal: DataAccess) -> list[dict[str, Any]]:
    pred, params = _scope(dal)
    return _q(
        dal,
        "SELECT p.unit_id, u.name, u.city, p.period, round(p.pue, 3) AS pue, p.limit_value, p.grade, p.over_limit "  # noqa: S608 -- pred is scope_predicate's constant SQL; all values are bound parameters
        "FROM mon_pue p JOIN mon_units_current u USING (unit_id) "
        "WHERE p.grain = 'month' AND p.period = (SELECT max(period) FROM mon_pue WHERE grain = 'month') "
        f"AND {pred} ORDER BY p.pue DESC LIMIT 50",
        params,
    )


def budget_use(dal: DataAccess, min_share: float) -> list[dict[str, Any]]:
    """Budget use to date and a straight-line year-end forecast (the rule of
    docs/methods/monitoring.md: consumption per observed day × days of the year)."""
    pred, params = _scope(dal)
    return _q(
        dal,
        "WITH used AS (SELECT unit_id, year(date) AS year, sum(tce) AS used_tce, count(DISTINCT date) AS days "  # noqa: S608 -- pred is scope_predicate's constant SQL; all values are bound parameters
        "FROM mon_unit_day WHERE run_id = (SELECT run_id FROM mon_runs ORDER BY started_at DESC LIMIT 1) "
        "GROUP BY unit_id, year(date)) "
        "SELECT b.unit_id, u.name, u.city, b.year, round(used.used_tce, 1) AS used_tce, b.budget_tce, "
        "round(used.used_tce / b.budget_tce, 3) AS used_share, "
        "round(used.used_tce / used.days * (CASE WHEN b.year % 4 = 0 THEN 366 ELSE 365 END) / b.budget_tce, 3) "
        "AS forecast_share "
        "FROM mon_budgets_current b JOIN used USING (unit_id, year) JOIN mon_units_current u USING (unit_id) "
        "WHERE used.used_tce / used.days * (CASE WHEN b.year % 4 = 0 THEN 366 ELSE 365 END) >= ? * b.budget_tce "
        f"AND {pred} ORDER BY forecast_share DESC LIMIT 100",
        [min_share, *params],
    )


def open_alert_messages(dal: DataAccess) -> list[dict[str, Any]]:
    pred, params = _scope(dal)
    return _q(
        dal,
        "SELECT a.kind, a.observed, a.why, a.message_key, a.params, a.unit_id, a.meter_id, a.city, a.location FROM mon_alerts a "  # noqa: S608 -- pred is scope_predicate's constant SQL; all values are bound parameters
        f"JOIN mon_units_current u USING (unit_id) WHERE a.status = 'open' AND {pred} "
        "ORDER BY a.severity DESC, a.kind LIMIT 100",
        params,
    )


def unit_daily(dal: DataAccess, max_units: int = 8) -> list[dict[str, Any]]:
    """Energy use (tce) per unit and day of the latest monitoring run, for the units in scope with
    the largest use (at most ``max_units``): the per-unit trend charts."""
    pred, params = _scope(dal)
    return _q(
        dal,
        "WITH d AS (SELECT unit_id, date, sum(tce) AS tce FROM mon_unit_day "  # noqa: S608 -- pred is scope_predicate's constant SQL; all values are bound parameters
        "WHERE run_id = (SELECT run_id FROM mon_runs ORDER BY started_at DESC LIMIT 1) GROUP BY unit_id, date), "
        "top AS (SELECT d.unit_id FROM d JOIN mon_units_current u USING (unit_id) "
        f"WHERE {pred} GROUP BY d.unit_id ORDER BY sum(d.tce) DESC, d.unit_id LIMIT ?) "
        "SELECT d.unit_id, d.date, round(d.tce, 3) AS tce FROM d JOIN top USING (unit_id) ORDER BY d.unit_id, d.date",
        [*params, max_units],
    )


def meter_daily(dal: DataAccess, max_meters: int = 12) -> list[dict[str, Any]]:
    """Energy per meter and day (the stage-1 meter-days of the monitoring runs, in the meter's own
    unit), for the meters in scope: the per-meter trend charts.  Where two readings sources hold
    the same meter-day, the larger value is shown."""
    pred, params = _scope(dal)
    return _q(
        dal,
        "WITH m AS (SELECT m.meter_id, m.unit_id, m.unit FROM mon_meters_current m "  # noqa: S608 -- pred is scope_predicate's constant SQL; all values are bound parameters
        f"JOIN mon_units_current u USING (unit_id) WHERE {pred} ORDER BY m.meter_id LIMIT ?) "
        "SELECT m.meter_id, m.unit_id, m.unit, DATE '1970-01-01' + CAST(md.day AS INTEGER) AS date, "
        "round(max(md.energy), 3) AS energy FROM mon_meter_day md JOIN m USING (meter_id) "
        "GROUP BY m.meter_id, m.unit_id, m.unit, md.day ORDER BY m.meter_id, md.day",
        [*params, max_meters],
    )


def enterprise_export(dal: DataAccess) -> dict[str, Any]:
    """Every monitoring table's rows of the principal's own units (``uscc`` = its enterprise id),
    as data frames by name: what "download all of our data" hands an enterprise."""
    pred, params = _scope(dal)
    own = f"unit_id IN (SELECT u.unit_id FROM mon_units_current u WHERE {pred})"  # noqa: S608 -- pred is scope_predicate's constant SQL
    def q(sql: str, values: list[Any]) -> Any:
        df = dal.store.query(sql, values)
        return df.drop(columns=[c for c in ("batch_id",) if c in df.columns])

    return {
        "units": q(f"SELECT * FROM mon_units_current u WHERE {pred} ORDER BY unit_id", params),  # noqa: S608 -- constant SQL, bound values
        "meters": q(f"SELECT * FROM mon_meters_current WHERE {own} ORDER BY meter_id", params),  # noqa: S608 -- constant SQL, bound values
        "readings": q(
            "SELECT r.meter_id, r.ts, r.value, r.version, r.source_file, r.source_row FROM mon_readings r "  # noqa: S608 -- constant SQL, bound values
            f"JOIN mon_meters_current m USING (meter_id) WHERE r.is_current AND m.{own} ORDER BY r.meter_id, r.ts",
            params,
        ),
        "output": q(f"SELECT * FROM mon_output_current WHERE {own} ORDER BY unit_id, period_start",  # noqa: S608 -- constant SQL, bound values
                    params),
        "budgets": q(f"SELECT * FROM mon_budgets_current WHERE {own} ORDER BY unit_id, year", params),  # noqa: S608 -- constant SQL, bound values
        "unit_day": q(
            f"SELECT unit_id, date, energy_type, tce, co2_t, electricity_kwh FROM mon_unit_day WHERE {own} "  # noqa: S608 -- constant SQL, bound values
            "AND run_id = (SELECT run_id FROM mon_runs ORDER BY started_at DESC LIMIT 1) ORDER BY unit_id, date",
            params,
        ),
        "alerts": q(
            "SELECT alert_id, kind, severity, unit_id, meter_id, period_start, period_end, value, threshold, "  # noqa: S608 -- constant SQL, bound values
            f"value_unit, observed, why, rule_source, status, message_key, params FROM mon_alerts WHERE {own} "
            "ORDER BY alert_id",
            params,
        ),
    }
