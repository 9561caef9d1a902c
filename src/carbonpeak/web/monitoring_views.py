"""Monitoring panels of the dashboard, scoped through the data-access rule.

An enterprise principal's ``enterprise_id`` is its unified social credit code (``uscc`` of the
units it owns); a city officer sees the units of its city (docs/security.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from carbonpeak.store.access import DataAccess

Pred = Callable[..., tuple[str, list[Any]]]


def _q(dal: DataAccess, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    df = dal.store.query(sql, params)
    return df.astype(object).where(df.notna(), None).to_dict(orient="records")


def monitoring_views(dal: DataAccess, scope_predicate: Pred) -> dict[str, Any]:
    pred, params = scope_predicate(dal.p, city_col="u.city", enterprise_col="u.uscc")
    alerts = _q(
        dal,
        "SELECT a.kind, u.city, count(*) AS open_alerts, max(a.severity) AS max_severity "  # noqa: S608 -- pred is scope_predicate's constant SQL; all values are bound parameters
        "FROM mon_alerts a JOIN mon_units_current u USING (unit_id) "
        f"WHERE a.status = 'open' AND {pred} GROUP BY a.kind, u.city ORDER BY open_alerts DESC, a.kind LIMIT 200",
        params,
    )
    pue = _q(
        dal,
        "SELECT p.unit_id, u.name, u.city, p.period, round(p.pue, 3) AS pue, p.limit_value, p.grade, p.over_limit "  # noqa: S608 -- pred is scope_predicate's constant SQL; all values are bound parameters
        "FROM mon_pue p JOIN mon_units_current u USING (unit_id) "
        "WHERE p.grain = 'month' AND p.period = (SELECT max(period) FROM mon_pue WHERE grain = 'month') "
        f"AND {pred} ORDER BY p.pue DESC LIMIT 50",
        params,
    )
    budgets = _budgets(dal, pred, params, min_share=0.8)
    return {
        "alerts": alerts,
        "alert_cols": ["kind", "city", "open_alerts", "max_severity"],
        "pue": pue,
        "pue_cols": ["unit_id", "name", "city", "period", "pue", "limit_value", "grade", "over_limit"],
        "budgets": budgets,
        "budget_cols": [
            "unit_id",
            "name",
            "city",
            "year",
            "used_tce",
            "budget_tce",
            "used_share",
            "forecast_share",
        ],
    }


def _budgets(dal: DataAccess, pred: str, params: list[Any], min_share: float) -> list[dict[str, Any]]:
    """Budget use to date and a straight-line year-end forecast (the rule of
    docs/methods/monitoring.md: consumption per observed day × days of the year)."""
    return _q(
        dal,
        "WITH used AS (SELECT unit_id, year(date) AS year, sum(tce) AS used_tce, count(DISTINCT date) AS days "  # noqa: S608 -- pred is scope_predicate's constant SQL; all values are bound parameters
        "FROM mon_unit_day WHERE run_id = (SELECT run_id FROM mon_runs ORDER BY started_at DESC LIMIT 1) "
        "GROUP BY ALL) "
        "SELECT b.unit_id, u.name, u.city, b.year, round(used.used_tce, 1) AS used_tce, b.budget_tce, "
        "round(used.used_tce / b.budget_tce, 3) AS used_share, "
        "round(used.used_tce / used.days * (CASE WHEN b.year % 4 = 0 THEN 366 ELSE 365 END) / b.budget_tce, 3) "
        "AS forecast_share "
        "FROM mon_budgets_current b JOIN used USING (unit_id, year) JOIN mon_units_current u USING (unit_id) "
        "WHERE used.used_tce / used.days * (CASE WHEN b.year % 4 = 0 THEN 366 ELSE 365 END) >= ? * b.budget_tce "
        f"AND {pred} ORDER BY forecast_share DESC LIMIT 100",
        [min_share, *params],
    )


def enterprise_views(dal: DataAccess) -> dict[str, Any]:
    from carbonpeak.store.access import scope_predicate

    pred, params = scope_predicate(dal.p, city_col="u.city", enterprise_col="u.uscc")
    budgets = _budgets(dal, pred, params, min_share=0.0)
    alerts = _q(
        dal,
        "SELECT a.kind, a.observed || ' — ' || a.why AS message FROM mon_alerts a "  # noqa: S608 -- pred is scope_predicate's constant SQL; all values are bound parameters
        f"JOIN mon_units_current u USING (unit_id) WHERE a.status = 'open' AND {pred} "
        "ORDER BY a.severity DESC, a.kind LIMIT 100",
        params,
    )
    charts: dict[str, Any] = {}
    if budgets:
        charts["chart-budget"] = {
            "data": [
                {
                    "type": "bar",
                    "orientation": "h",
                    "y": [f"{b['unit_id']} {b['year']}" for b in budgets],
                    "x": [round(100 * (b["used_share"] or 0), 1) for b in budgets],
                    "name": "%",
                }
            ],
            "layout": {
                "margin": {"t": 10, "l": 160},
                "xaxis": {"title": "% of budget", "range": [0, 120]},
                "shapes": [
                    {
                        "type": "line",
                        "x0": 100,
                        "x1": 100,
                        "yref": "paper",
                        "y0": 0,
                        "y1": 1,
                        "line": {"color": "#c62828", "dash": "dot"},
                    }
                ],
            },
        }
    return {"budget": budgets or None, "alerts": alerts, "charts": charts}
