"""The dashboard's views of the targets, projection and monitoring engines.

Each function turns an engine's result into what a page shows (rows and Plotly specs).
"""

from __future__ import annotations

from typing import Any

from carbonpeak.store.access import DataAccess
from carbonpeak.store.duck import Store
from carbonpeak.workflows.assessment import assess_year as assessment
from carbonpeak.workflows.projections import outlook as _outlook

#: Trajectories shown on the province page: (target id, chart title zh, en).
PATH_TARGETS = (
    ("co2_intensity_14fyp_gd", "单位GDP二氧化碳排放", "CO2 per unit of GDP"),
    ("nonfossil_share_2025", "非化石能源消费比重", "Non-fossil share of energy consumption"),
)


def target_lights(store: Store, lang: str) -> list[dict[str, Any]]:
    a = assessment(store)
    rows = []
    for t in a["targets"]:
        val = t.get("value")
        detail = "" if val is None else f"{val:,.4g} / {t.get('target')} {t.get('unit') or ''}".strip()
        rows.append(
            {
                "id": t["id"],
                "name": t["name_zh"] if lang == "zh" else t["name_en"],
                "status": t["status"],
                "detail": detail,
            }
        )
    order = {"off_track": 0, "at_risk": 1, "no_data": 2, "on_track": 3, "achieved": 4}
    return sorted(rows, key=lambda r: (order.get(r["status"], 9), r["id"]))


def _path_level(t: dict[str, Any], year: int) -> float | None:
    """The planned level in ``year`` on the documented trajectory (docs/methods/targets.md)."""
    from carbonpeak.catalog.targets import load_targets
    from carbonpeak.targets.progress import path_value

    b, by = t.get("baseline"), t.get("baseline_year")
    if b is None or by is None:
        return None
    target = load_targets().targets[t["id"]]
    p = path_value(target, b, by, year)
    if p is None:
        return None
    return b * (1 + p / 100) if target.kind == "change" else p


def target_paths(store: Store, lang: str) -> dict[str, Any] | None:
    a = assessment(store)
    by_id = {t["id"]: t for t in a["targets"]}
    traces: list[dict[str, Any]] = []
    for i, (tid, zh, en) in enumerate(PATH_TARGETS):
        t, tr = by_id.get(tid), a["trajectories"].get(tid)
        if not t or not tr or not tr["series"]:
            continue
        axis = "y" if i == 0 else "y2"
        name = zh if lang == "zh" else en
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": f"{name} ({tr['unit']})",
                "yaxis": axis,
                "x": [p["year"] for p in tr["series"]],
                "y": [p["value"] for p in tr["series"]],
            }
        )
        if t.get("baseline_year") is not None:
            years = list(range(int(t["baseline_year"]), int(t["target_year"]) + 1))
            ys = [_path_level(t, y) for y in years]
            if any(v is not None for v in ys):
                traces.append(
                    {
                        "type": "scatter",
                        "mode": "lines",
                        "line": {"dash": "dash"},
                        "yaxis": axis,
                        "name": ("目标路径 " if lang == "zh" else "target path ") + name,
                        "x": years,
                        "y": ys,
                    }
                )
    if not traces:
        return None
    return {
        "data": traces,
        "layout": {
            "margin": {"t": 10},
            "legend": {"orientation": "h"},
            "yaxis2": {"overlaying": "y", "side": "right"},
        },
    }


def outlook(store: Store) -> tuple[dict[str, Any], dict[str, Any] | None]:
    o = _outlook(store)
    fan = o.get("fan") or []
    if not fan:
        return o, None
    x = [f["year"] for f in fan]
    mt = [round(f["p50"] / 1e6, 1) for f in fan]
    spec = {
        "data": [
            {
                "type": "scatter",
                "x": x,
                "y": [round(f["p95"] / 1e6, 1) for f in fan],
                "line": {"width": 0},
                "showlegend": False,
                "hoverinfo": "skip",
            },
            {
                "type": "scatter",
                "x": x,
                "y": [round(f["p05"] / 1e6, 1) for f in fan],
                "fill": "tonexty",
                "line": {"width": 0},
                "name": "90 %",
                "fillcolor": "rgba(21,101,192,0.2)",
            },
            {"type": "scatter", "x": x, "y": mt, "name": "median", "line": {"color": "#1565c0"}},
        ],
        "layout": {
            "margin": {"t": 10},
            "yaxis": {"title": "Mt CO2"},
            "shapes": [
                {
                    "type": "line",
                    "x0": 2030,
                    "x1": 2030,
                    "yref": "paper",
                    "y0": 0,
                    "y1": 1,
                    "line": {"dash": "dot", "color": "#c62828"},
                }
            ],
        },
    }
    return o, spec


def city_status(store: Store) -> dict[str, str]:
    a = assessment(store)
    return {r["region"]: r["status"] for r in a["cities"].get("ranking", [])}


def monitoring_tables(dal: DataAccess) -> dict[str, Any]:
    from carbonpeak.web.monitoring_views import monitoring_views

    return monitoring_views(dal)


def enterprise_panels(dal: DataAccess) -> dict[str, Any]:
    from carbonpeak.web.monitoring_views import enterprise_views

    return enterprise_views(dal)


__all__ = [
    "city_status",
    "enterprise_panels",
    "monitoring_tables",
    "outlook",
    "target_lights",
    "target_paths",
]
