"""Monitoring panels of the dashboard, scoped through the data-access rule.

An enterprise principal's ``enterprise_id`` is its unified social credit code (``uscc`` of the
units it owns); a city officer sees the units of its city (docs/security.md).  The scoped
queries are in :mod:`carbonpeak.store.monitoring_views`; this module arranges them for the pages:
headers and codes in the page's language, numbers with thousands separators and units, and the
per-unit and per-meter trend charts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from carbonpeak.i18n import t
from carbonpeak.store import monitoring_views as mv
from carbonpeak.store.access import DataAccess

ALERT_COLS = ["kind", "city", "open_alerts", "max_severity"]
PUE_COLS = ["unit_id", "name", "city", "period", "pue", "limit_value", "grade", "over_limit"]
BUDGET_COLS = ["unit_id", "name", "city", "year", "used_tce", "budget_tce", "used_share", "forecast_share"]


def _lenient(prefix: str, lang: str) -> Callable[[Any], str]:
    def look(v: Any) -> str:
        key = f"{prefix}{v}"
        text = t(key, lang)
        return str(v) if text == key else text
    return look


def alert_message(a: dict[str, Any], lang: str) -> str:
    """What an alert observed and why it matters, in ``lang`` (an alert stored without a message key
    shows its English text)."""
    from carbonpeak.i18n import alert_text

    return alert_text(a, lang)


def formatter(lang: str) -> Callable[[str, Any], str]:
    """How a cell of column ``c`` is shown: codes translated, numbers separated, shares as %."""
    from carbonpeak.web.data import region_name

    kind, sev = _lenient("alert.", lang), _lenient("severity.", lang)

    def cell(c: str, v: Any) -> str:
        if v is None:
            return "–"
        if c == "kind":
            return kind(v)
        if c == "city":
            return region_name(str(v), lang)
        if c == "max_severity":
            return sev(v)
        if c == "over_limit":
            return t(f"bool.{str(bool(v)).lower()}", lang)
        if c in ("used_share", "forecast_share"):
            return f"{float(v):.1%}"
        if c in ("used_tce", "budget_tce"):
            return f"{float(v):,.1f}"
        if c == "pue":
            return f"{float(v):.3f}"
        if c == "year":
            return str(int(v))
        if isinstance(v, float):
            return f"{v:,.4g}"
        if isinstance(v, int) and not isinstance(v, bool):
            return f"{v:,d}"
        return str(v)
    return cell


def _unit_text(unit: str) -> str:
    """A unit as people write it: ``m**3`` → ``m³`` (the registry's spelling stays in the data)."""
    return unit.replace("**3", "³").replace("**2", "²").replace("*", "·")


def _table(rows: list[dict[str, Any]], cols: list[str], lang: str) -> dict[str, Any]:
    cell = formatter(lang)
    return {"head": [t(f"mcol.{c}", lang) for c in cols],
            "rows": [[cell(c, r.get(c)) for c in cols] for r in rows]}


def _trend(rows: list[dict[str, Any]], key: str, value: str, ytitle: str, lang: str) -> dict[str, Any] | None:
    """One line per ``key`` (unit or meter) over the days."""
    if not rows:
        return None
    from carbonpeak.web.data import axis

    series: dict[str, tuple[list[str], list[float]]] = {}
    for r in rows:
        xs, ys = series.setdefault(str(r[key]), ([], []))
        xs.append(str(r["date"])[:10])
        ys.append(r[value])
    yaxis, notes = axis(ytitle, [0.0], lang)
    return {
        "data": [{"type": "scatter", "mode": "lines", "name": k, "x": xs, "y": ys} for k, (xs, ys) in series.items()],
        "layout": {"margin": {"t": 10}, "yaxis": yaxis, "annotations": notes, "legend": {"orientation": "h"},
                   "xaxis": {"type": "date", "tickformat": "%Y-%m-%d"}},
    }


def monitoring_views(dal: DataAccess, lang: str = "zh") -> dict[str, Any]:
    units = mv.unit_daily(dal)
    charts: dict[str, Any] = {}
    trend = _trend(units, "unit_id", "tce", t("unit.tce", lang), lang)
    if trend:
        charts["chart-units"] = trend
    return {
        "alerts": _table(mv.open_alerts_by_kind(dal), ALERT_COLS, lang),
        "pue": _table(mv.latest_pue(dal), PUE_COLS, lang),
        "budgets": _table(mv.budget_use(dal, min_share=0.8), BUDGET_COLS, lang),
        "charts": charts,
    }


def enterprise_views(dal: DataAccess, lang: str = "zh") -> dict[str, Any]:
    budgets = mv.budget_use(dal, min_share=0.0)
    kind = _lenient("alert.", lang)
    from carbonpeak.i18n import alert_location

    alerts = [{"kind": kind(a["kind"]), "location": alert_location(a, lang), "message": alert_message(a, lang)}
              for a in mv.open_alert_messages(dal)]  # fmt: skip
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
                "xaxis": {"title": {"text": t("mcol.used_share", lang) + " (%)"}, "range": [0, 120],
                          "ticksuffix": " %"},
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
    meters = mv.meter_daily(dal)
    if meters:
        unit_of = {str(m["meter_id"]): _unit_text(str(m["unit"])) for m in meters}
        trend = _trend(meters, "meter_id", "energy", " / ".join(sorted(set(unit_of.values()))), lang)
        if trend:
            for tr in trend["data"]:
                tr["name"] = f"{tr['name']} ({unit_of[tr['name']]})"
            charts["chart-meters"] = trend
    units = mv.unit_daily(dal)
    trend = _trend(units, "unit_id", "tce", t("unit.tce", lang), lang)
    if trend:
        charts["chart-units"] = trend
    return {"budget": budgets or None, "alerts": alerts, "charts": charts}
