"""Monitoring panels of the dashboard, scoped through the data-access rule.

An enterprise principal's ``enterprise_id`` is its unified social credit code (``uscc`` of the
units it owns); a city officer sees the units of its city (docs/security.md).  The scoped
queries are in :mod:`carbonpeak.store.monitoring_views`; this module arranges them for the pages.
"""

from __future__ import annotations

from typing import Any

from carbonpeak.store import monitoring_views as mv
from carbonpeak.store.access import DataAccess


def monitoring_views(dal: DataAccess) -> dict[str, Any]:
    return {
        "alerts": mv.open_alerts_by_kind(dal),
        "alert_cols": ["kind", "city", "open_alerts", "max_severity"],
        "pue": mv.latest_pue(dal),
        "pue_cols": ["unit_id", "name", "city", "period", "pue", "limit_value", "grade", "over_limit"],
        "budgets": mv.budget_use(dal, min_share=0.8),
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


def enterprise_views(dal: DataAccess) -> dict[str, Any]:
    budgets = mv.budget_use(dal, min_share=0.0)
    alerts = mv.open_alert_messages(dal)
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
