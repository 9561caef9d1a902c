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
        "SELECT a.kind, a.observed || ' — ' || a.why AS message FROM mon_alerts a "  # noqa: S608 -- pred is scope_predicate's constant SQL; all values are bound parameters
        f"JOIN mon_units_current u USING (unit_id) WHERE a.status = 'open' AND {pred} "
        "ORDER BY a.severity DESC, a.kind LIMIT 100",
        params,
    )
