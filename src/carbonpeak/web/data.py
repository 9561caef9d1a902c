"""What the dashboard pages show, computed from the engines (no HTML here).

Each function returns plain data for a template; where an engine is not installed or has no
data yet, the value is ``None`` and the page says so (a clean seam, never a fake figure).
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from carbonpeak.i18n import t
from carbonpeak.store.access import DataAccess
from carbonpeak.store.duck import Store

log = logging.getLogger(__name__)

SECTOR_ORDER = ("energy", "ippu", "agriculture", "lulucf", "waste")
SECTOR_NAMES = {
    "energy": ("能源活动", "Energy"),
    "ippu": ("工业生产过程", "Industrial processes"),
    "agriculture": ("农业", "Agriculture"),
    "lulucf": ("土地利用变化和林业", "LULUCF"),
    "waste": ("废弃物处理", "Waste"),
}


def _sector_of(codes: pd.Series) -> pd.Series:
    """IPCC 2006 code → sector, from the category catalog (first digit as the fallback)."""
    try:
        from carbonpeak.catalog.loader import load_csv

        cats = load_csv("categories.csv")
        m = dict(zip(cats["code"], cats["sector"], strict=True))
    except Exception:  # catalog not there yet
        m = {}
    first = codes.str.split(".").str[0].map({"1": "energy", "2": "ippu", "3": "agriculture", "4": "waste"})
    mapped = codes.map(m)
    return mapped.fillna(first).fillna("other")


def region_name(code: str | None, lang: str) -> str:
    """The region's name in ``lang`` (广州市 / Guangzhou), or the code if the catalog lacks it."""
    if not code:
        return ""
    from carbonpeak.catalog.regions import load_regions

    r = load_regions().get(code)
    return r.name(lang) if r is not None else code


def local_ts(v: Any) -> str:
    """A stored timestamp in the configured time zone (``CARBONPEAK_TIMEZONE``), to the second."""
    if v is None or v == "":
        return "–"
    from zoneinfo import ZoneInfo

    from carbonpeak.config import get_settings

    ts = pd.Timestamp(v)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return str(ts.tz_convert(ZoneInfo(get_settings().timezone)).strftime("%Y-%m-%d %H:%M:%S"))


def axis(unit: str, values: list[float], lang: str, **extra: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A Plotly value axis: the series' unit as its title, thousands separators, and zero as its
    start when the data sit within 2.5x of it; otherwise an annotation says it does not start at zero."""
    ax: dict[str, Any] = {"title": {"text": unit}, "tickformat": ",~g", **extra}
    notes: list[dict[str, Any]] = []
    vals = [v for v in values if v is not None]
    if vals and min(vals) > 0 and min(vals) > 0.6 * max(vals):
        side = extra.get("side", "left")
        notes.append({"text": t("chart.not_zero", lang), "xref": "paper", "yref": "paper", "showarrow": False,
                      "x": 1 if side == "right" else 0, "xanchor": "right" if side == "right" else "left",
                      "y": -0.14, "font": {"size": 10, "color": "#57606a"}})
    else:
        ax["rangemode"] = "tozero"
    return ax, notes


def province_overview(store: Store, lang: str, region: str | None = None) -> dict[str, Any]:
    ctx: dict[str, Any] = {"inventory": None, "charts": {}, "targets": None, "outlook": None, "paths": None}
    try:
        from carbonpeak.workflows.inventory import inventory

        inv = inventory(store)
    except Exception as exc:  # engine missing or no data: the page says so
        log.warning("inventory unavailable: %s", exc)
        return ctx
    res = inv.select(explain=False)
    res = res[res["scope"] == "territorial"]
    res = res[res["region"] == (region or "GD")]
    if res.empty:
        return ctx
    res = res.assign(sector=_sector_of(res["category"].astype(str)))
    by = res.groupby(["year", "sector"], as_index=False)["co2e_t"].sum()
    years = sorted(by["year"].unique().tolist())
    latest = max(years)
    lat = by[by["year"] == latest]
    # a sink that was not estimated (no LULUCF results that year) is "not estimated", never "-0"
    sinks = lat[(lat["sector"] == "lulucf") & (lat["co2e_t"] < 0)]["co2e_t"]
    ctx["inventory"] = {
        "latest_year": int(latest),
        "total_excl": float(lat[lat["sector"] != "lulucf"]["co2e_t"].sum()),
        "sink": float(-sinks.sum()) if len(sinks) else None,
    }
    idx = 0 if lang == "zh" else 1
    traces = []
    for s in [*SECTOR_ORDER, "other"]:
        sub = by[by["sector"] == s]
        if sub.empty:
            continue
        traces.append(
            {
                "type": "bar",
                "name": SECTOR_NAMES.get(s, (s, s))[idx],
                "x": [int(y) for y in sub["year"]],
                "y": [round(float(v) / 1e4, 1) for v in sub["co2e_t"]],
            }
        )
    yaxis, _ = axis(t("unit.10kt_co2e", lang), [0.0], lang)
    ctx["charts"]["chart-sectors"] = {
        "data": traces,
        "layout": {
            "barmode": "relative",
            "margin": {"t": 10},
            "yaxis": yaxis,
            "xaxis": {"dtick": 1, "tickformat": "d"},
            "legend": {"orientation": "h"},
            "separators": ".,",
        },
    }
    if region is None:
        extra = _targets_and_outlook(store, lang)
        ctx["charts"].update(extra.pop("extra_charts", {}))
        ctx.update(extra)
    return ctx


def _targets_and_outlook(store: Store, lang: str) -> dict[str, Any]:
    """Seams to the targets (issue 3) and projection (issue 4) engines."""
    out: dict[str, Any] = {}
    try:
        from carbonpeak.web.integrations import outlook, target_lights, target_paths

        out["targets"] = target_lights(store, lang)
        out["outlook"], fan = outlook(store, lang)
        paths = target_paths(store, lang)
        out["paths"] = paths
        charts: dict[str, Any] = {}
        if fan:
            charts["chart-fan"] = fan
        if paths:
            charts["chart-paths"] = paths
        out["extra_charts"] = charts
    except ImportError:
        pass
    except Exception as exc:
        log.warning("targets/outlook unavailable: %s", exc)
    return out


def city_tiles(store: Store, lang: str) -> list[dict[str, Any]]:
    from carbonpeak.catalog.regions import GROUP_NAMES, TIER_NAMES, load_regions

    idx = 0 if lang == "zh" else 1
    emissions: dict[str, float] = {}
    try:
        from carbonpeak.workflows.inventory import inventory

        res = inventory(store).select(explain=False)
        res = res[(res["scope"] == "territorial")]
        latest = res.groupby("region")["year"].max()
        for code, y in latest.items():
            sub = res[(res["region"] == code) & (res["year"] == y)]
            emissions[str(code)] = float(sub["co2e_t"].sum())
    except Exception as exc:
        log.warning("inventory unavailable: %s", exc)
    status: dict[str, str] = _integration("city_status", store, "city status")
    rows = []
    for code, r in load_regions().items():
        if r.level != "city":
            continue
        rows.append(
            {
                "code": code,
                "name": r.name(lang),
                "group_name": GROUP_NAMES.get(r.group, (r.group, r.group))[idx],
                "tier_name": TIER_NAMES.get(r.tier, (r.tier, r.tier))[idx],
                "emissions": emissions.get(code),
                "status": status.get(code, "no_data"),
            }
        )
    return rows


def _integration(name: str, store: Store, what: str) -> dict[str, Any]:
    """The answer of the optional integration ``name`` (:mod:`carbonpeak.web.integrations`) for
    ``store``; empty when it is not there, and empty with a logged warning when it fails."""
    try:
        from carbonpeak.web import integrations
    except ImportError:
        return {}
    fn = getattr(integrations, name, None)
    if fn is None:
        return {}
    try:
        return dict(fn(store))
    except Exception as exc:
        log.warning("%s unavailable: %s", what, exc)
        return {}


def city_map(store: Store, lang: str, indicator: str, boundaries: Any = None) -> dict[str, Any]:
    """The map of the 21 cities coloured by ``indicator`` (status, emissions, intensity): their
    boundaries where a boundary file is available (``boundaries``: a path, else the package's
    file), else the tile map; with the legend, its unit, the sources line and a table of the values."""
    from carbonpeak.catalog.geo import load_boundaries
    from carbonpeak.errors import CatalogError
    from carbonpeak.targets.progress import STATUSES
    from carbonpeak.web.citymap import INDICATORS, boundary_map, tile_map

    rows = city_tiles(store, lang)
    intensity: dict[str, float] = _integration("city_intensity", store, "city intensity")
    for r in rows:
        r["intensity"] = intensity.get(r["code"])
    labels = {f"status.{s}": t(f"status.{s}", lang) for s in STATUSES}
    labels["no_data"] = t("table.no_data", lang)
    geo_error = None
    try:
        bounds = load_boundaries(boundaries)
    except CatalogError as exc:  # a file that is there but unusable: say so, draw the tiles
        log.warning("map boundaries refused: %s", exc)
        bounds, geo_error = None, str(exc)
    m = boundary_map(rows, indicator, labels, bounds) if bounds is not None else tile_map(rows, indicator, labels)
    m["geo_error"] = geo_error
    m["indicators"] = [{"key": k, "label": t(f"map.ind.{k}", lang)} for k in INDICATORS]
    m["unit"] = {"status": "", "emissions": t("unit.10kt_co2e", lang), "intensity": t("unit.t_per_10k_yuan", lang)}[
        m["indicator"]]
    shown = {a["code"]: a for a in m.get("areas", m.get("tiles", []))}
    m["table"] = [{"code": r["code"], "name": r["name"], "value": shown[r["code"]]["value"],
                   "status": t(f"status.{r['status']}", lang), "fill": shown[r["code"]]["fill"]}
                  for r in rows if r["code"] in shown]
    return m


def monitoring_overview(dal: DataAccess, lang: str = "zh") -> dict[str, Any]:
    """Alerts, PUE ranking and budgets, scoped to the principal (seam to issue 5's engine)."""
    ctx: dict[str, Any] = {"alerts": None, "pue": None, "budgets": None, "charts": {}}
    try:
        from carbonpeak.web.integrations import monitoring_tables

        ctx.update(monitoring_tables(dal, lang))
    except ImportError:
        pass
    except Exception as exc:
        log.warning("monitoring unavailable: %s", exc)
    return ctx


def enterprise_overview(dal: DataAccess, lang: str = "zh") -> dict[str, Any]:
    ctx: dict[str, Any] = {"budget": None, "alerts": None, "charts": {}}
    try:
        from carbonpeak.web.integrations import enterprise_panels

        ctx.update(enterprise_panels(dal, lang))
    except ImportError:
        pass
    except Exception as exc:
        log.warning("enterprise panels unavailable: %s", exc)
    return ctx


__all__ = ["city_tiles", "enterprise_overview", "monitoring_overview", "province_overview", "t"]
