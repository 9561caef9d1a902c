"""The dashboard's views of the targets, projection and monitoring engines.

Each function turns an engine's result into what a page shows (rows and Plotly specs).
"""

from __future__ import annotations

from typing import Any

from carbonpeak.store.access import DataAccess
from carbonpeak.store.duck import Store
from carbonpeak.workflows.assessment import assess_year as assessment
from carbonpeak.workflows.projections import outlook as _outlook

#: Trajectories shown on the province page: (target ids, first with a drawable path wins; chart
#: title zh, en).  The 14th FYP intensity target's path starts from its 2020 level; while the data
#: end before 2020 the 13th FYP target (2015 → 2020) is the one the observations can be compared with.
PATH_TARGETS = (
    (("co2_intensity_14fyp_gd", "co2_intensity_13fyp_gd"), "单位GDP二氧化碳排放", "CO2 per unit of GDP"),
    (("nonfossil_share_2025",), "非化石能源消费比重", "Non-fossil share of energy consumption"),
)


def target_lights(store: Store, lang: str) -> list[dict[str, Any]]:
    a = assessment(store)
    rows = []
    for t in a["targets"]:
        val, goal, unit = t.get("value"), t.get("target"), t.get("unit") or ""

        def num(v: Any, unit: str = unit) -> str:
            if v is None:
                return "–"
            return f"{v:.0f}" if unit == "year" else f"{v:,.4g}"

        shown = "" if unit in ("year", "1") else _unit_label(unit, lang)
        detail = "" if val is None else f"{num(val)} / {num(goal)} {shown}".strip()
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


def target_paths(store: Store, lang: str) -> dict[str, Any] | None:
    """Observed series against the target path they are compared with (the report's rule)."""
    from carbonpeak.catalog.targets import load_targets
    from carbonpeak.reports.assessment import target_path
    from carbonpeak.web.data import axis

    a = assessment(store)
    cat = load_targets()
    by_id = {t["id"]: t for t in a["targets"]}
    traces: list[dict[str, Any]] = []
    units: dict[str, str] = {}
    for i, (ids, zh, en) in enumerate(PATH_TARGETS):
        key = "y" if i == 0 else "y2"
        for tid in ids:
            t, tr = by_id.get(tid), a["trajectories"].get(tid)
            if not t or not tr or not tr["series"]:
                continue
            s = {int(p["year"]): float(p["value"]) for p in tr["series"]}
            path, target_pt = target_path(cat.get(tid), t, s)
            if not path and tid != ids[-1]:
                continue
            units[key] = _unit_label(tr["unit"], lang)
            name = zh if lang == "zh" else en
            colour = "#1565c0" if i == 0 else "#ef6c00"
            traces.append({"type": "scatter", "mode": "lines+markers", "name": f"{name} ({units[key]})",
                           "yaxis": key, "x": sorted(s), "y": [s[y] for y in sorted(s)], "line": {"color": colour}})
            if path:
                label = t["name_zh"] if lang == "zh" else t["name_en"]
                traces.append({"type": "scatter", "mode": "lines", "yaxis": key,
                               "line": {"dash": "dash", "color": colour},
                               "name": ("目标路径:" if lang == "zh" else "target path: ") + label,
                               "x": [p[0] for p in path], "y": [round(p[1], 4) for p in path]})
            if target_pt:
                traces.append({"type": "scatter", "mode": "markers", "yaxis": key, "showlegend": False,
                               "marker": {"symbol": "star", "size": 12, "color": colour},
                               "name": "目标" if lang == "zh" else "target",
                               "x": [target_pt[0]], "y": [target_pt[1]]})
            break
    if not traces:
        return None
    layout: dict[str, Any] = {"margin": {"t": 10, "b": 90}, "legend": {"orientation": "h", "y": -0.3},
                              "xaxis": {"dtick": 1, "tickformat": "d"}, "annotations": []}
    for key in ("y", "y2"):
        tr_ = [x for x in traces if x["yaxis"] == key]
        if not tr_:
            continue
        extra = {"overlaying": "y", "side": "right", "tickmode": "auto", "showgrid": False} if key == "y2" else {}
        ax, notes = axis(units.get(key, ""), [v for x in tr_ for v in x["y"] if v is not None], lang, **extra)
        layout["yaxis" if key == "y" else "yaxis2"] = ax
        layout["annotations"] += notes
    return {"data": traces, "layout": layout}


def _unit_label(u: str, lang: str) -> str:
    """A unit code of the catalog (万t, t/万元, %) as the page's language writes it."""
    from carbonpeak.i18n import t

    text = t("u." + u, lang)
    return u if text == "u." + u else text


def outlook(store: Store, lang: str = "zh") -> tuple[dict[str, Any], dict[str, Any] | None]:
    o = _outlook(store)
    fan = o.get("fan") or []
    if not fan:
        return o, None
    from carbonpeak.i18n import t
    from carbonpeak.web.data import axis

    x = [f["year"] for f in fan]
    kt = [round(f["p50"] / 1e4) for f in fan]
    yaxis, notes = axis(t("unit.10kt_co2", lang), [f["p05"] / 1e4 for f in fan] + [f["p95"] / 1e4 for f in fan],
                        lang)
    spec = {
        "data": [
            {
                "type": "scatter",
                "x": x,
                "y": [round(f["p95"] / 1e4) for f in fan],
                "mode": "lines",
                "line": {"width": 0},
                "showlegend": False,
                "hoverinfo": "skip",
            },
            {
                "type": "scatter",
                "x": x,
                "y": [round(f["p05"] / 1e4) for f in fan],
                "fill": "tonexty",
                "mode": "lines",
                "line": {"width": 0},
                "name": t("outlook.band", lang),
                "fillcolor": "rgba(21,101,192,0.2)",
            },
            {"type": "scatter", "mode": "lines", "x": x, "y": kt, "name": t("outlook.median", lang),
             "line": {"color": "#1565c0"}},
        ],
        "layout": {
            "margin": {"t": 10, "b": 60},
            "yaxis": yaxis,
            "annotations": notes,
            "legend": {"orientation": "h", "y": -0.2},
            "xaxis": {"tickformat": "d"},
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


def city_intensity(store: Store) -> dict[str, float]:
    """CO2 per unit of GDP (t/10⁴ yuan) of each city, latest year with data (the assessment's table)."""
    a = assessment(store)
    return {r["region"]: float(r["co2_intensity_t_per_10k_yuan"]) for r in a["cities"].get("dual_control", [])
            if r.get("co2_intensity_t_per_10k_yuan") is not None}


def city_status(store: Store) -> dict[str, str]:
    a = assessment(store)
    return {r["region"]: r["status"] for r in a["cities"].get("ranking", [])}


def monitoring_tables(dal: DataAccess, lang: str = "zh") -> dict[str, Any]:
    from carbonpeak.web.monitoring_views import monitoring_views

    return monitoring_views(dal, lang)


def enterprise_panels(dal: DataAccess, lang: str = "zh") -> dict[str, Any]:
    from carbonpeak.web.monitoring_views import enterprise_views

    return enterprise_views(dal, lang)


__all__ = [
    "city_intensity",
    "city_status",
    "enterprise_panels",
    "monitoring_tables",
    "outlook",
    "target_lights",
    "target_paths",
]
