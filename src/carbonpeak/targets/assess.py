"""The annual assessment (碳达峰目标任务年度评估): every target's status in one year, the headline,
the city dual-control table and decomposition, data gaps and sources.

:func:`assess` is pure: it takes the computed indicator frame (observations + values computed from
the inventory), the inventory results, and optionally a peak outlook, and returns a dict with
stable keys (documented in docs/methods/targets.md §6).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import pandas as pd

from carbonpeak.catalog.regions import PROVINCE, load_regions
from carbonpeak.catalog.targets import Target, TargetCatalog, load_indicators, load_targets
from carbonpeak.targets.decompose import DecompositionError, decompose
from carbonpeak.targets.dualcontrol import (
    assess_cities,
    city_base,
    coal_share_of_co2,
    dual_control_table,
    series,
)
from carbonpeak.targets.indicators import combine_status
from carbonpeak.targets.progress import STATUSES, Rules, assess_target

HEADLINE = ("co2_emissions", "ghg_emissions", "co2_intensity", "energy_intensity", "nonfossil_share",
            "wind_solar_capacity", "gdp_constant")
#: Trajectories charted in the report: (target id whose path is drawn, indicator).
KEY_TRAJECTORIES = ("co2_intensity_14fyp_gd", "co2_intensity_13fyp_gd", "energy_intensity_14fyp_gd",
                    "nonfossil_share_2025", "wind_solar_capacity_2030", "west_east_transmission_2030",
                    "forest_coverage_2030", "forest_stock_2030")


def coal_items() -> frozenset[str]:
    """The coal items of the coal share: the catalog's fuel group ``coal`` (catalog/data/items/fuels.yaml)."""
    from carbonpeak.catalog.items import fuel_group

    return fuel_group("coal")


def _data_status(indicators: pd.DataFrame, t: Target, region: str, value_year: int | None,
                 baseline_year: int | None) -> str:
    """Status of the data behind a verdict: the value's row, and for a change or a path from an
    observed baseline (the catalog gives no baseline value) also the baseline year's row — the
    verdict is only as good as the weaker of the two (a 2022 figure measured against an estimated
    2020 level is an estimate). Two equal statuses stay as they are; different ones combine as
    :func:`~carbonpeak.targets.indicators.combine_status` does."""
    sel = indicators[(indicators["indicator"] == t.indicator) & (indicators["region"] == region)]

    def at(year: int | None) -> str | None:
        rows = sel[sel["year"] == year] if year is not None else sel.iloc[0:0]
        return str(rows["status"].iloc[0]) if len(rows) else None

    value_status = at(value_year)
    if value_status is None:
        return ""
    observed_baseline = t.baseline is not None and t.baseline.value is None
    base_status = at(baseline_year) if observed_baseline and baseline_year != value_year else None
    if base_status is None or base_status == value_status:
        return value_status
    return combine_status([value_status, base_status])


def assess(
    year: int,
    indicators: pd.DataFrame,
    *,
    inventory_results: pd.DataFrame | None = None,
    outlook: Mapping[str, Any] | None = None,
    catalog: TargetCatalog | None = None,
    region: str = PROVINCE,
    base_year: int = 2020,
    tier_overrides: Mapping[str, str] | None = None,
    city_target: str = "co2_intensity_14fyp_gd",
    city_base_year: int | None = None,
    activity_sources: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Assess every target of the catalog for ``region`` in ``year``.

    A target whose year has passed is assessed at its target year (its final result).
    ``activity_sources`` (columns ``source, note``: the activity table) adds the inventory's sources
    to ``sources``; a note starting with a status word (``estimate — …``) gives the row's status.
    """
    cat = catalog or load_targets()
    rules = Rules.from_defaults(cat.defaults)
    inds = load_indicators()
    targets_out: list[dict[str, Any]] = []
    gaps: list[dict[str, Any]] = []
    for t in cat.targets.values():
        eval_year = min(year, t.target_year)
        s = series(indicators, t.indicator, region)
        p = assess_target(t, s, eval_year, tolerance=cat.tolerance(t), rules=rules, outlook=outlook)
        data_status = _data_status(indicators, t, region, p.value_year, p.baseline_year)
        if not data_status and t.kind == "peak" and outlook:
            data_status = "projection"
        d = {
            "id": t.id, "name_zh": t.name_zh, "name_en": t.name_en, "section": t.section, "action": t.action,
            "area": t.area, "indicator": t.indicator, "kind": t.kind, "comparator": t.comparator,
            "unit": t.unit, "wording": t.wording, "status": p.status, "value": p.value, "value_year": p.value_year,
            "target": t.target_value, "target_low": t.target_low, "target_high": t.target_high,
            "target_year": t.target_year, "baseline": p.baseline, "baseline_year": p.baseline_year,
            "path": p.path, "gap": p.gap, "gap_to_path": p.gap_to_path, "tolerance": cat.tolerance(t),
            "achieved_rate": p.achieved_rate, "required_rate": p.required_rate, "rate_unit": p.rate_unit,
            "assessed_year": eval_year, "reason": p.reason,
            "reason_code": p.reason_code, "reason_args": p.reason_args, "data_status": data_status,
            "target_status": t.status, "assigned_by": t.assigned_by, "in_plan": t.in_plan,
            "sentence": t.sentence, "value_source": t.value_source,
        }
        targets_out.append(d)
        if p.status == "no_data":
            ind = inds.get(t.indicator)
            gaps.append({"target": t.id, "indicator": t.indicator,
                         "indicator_name_zh": ind.name_zh if ind else t.indicator,
                         "indicator_name_en": ind.name_en if ind else t.indicator,
                         "computed": bool(ind.computed) if ind else False, "reason": p.reason,
                         "reason_code": p.reason_code, "reason_args": p.reason_args})
    counts = Counter(d["status"] for d in targets_out)
    missed_targets = [d for d in targets_out if d["status"] == "off_track" and d["assessed_year"] >= d["target_year"]]
    accountability = {
        "areas_missed": sorted({d["area"] for d in missed_targets}),
        "targets_missed": [d["id"] for d in missed_targets],
        "areas_off_track": sorted({d["area"] for d in targets_out if d["status"] == "off_track"} -
                                  {d["area"] for d in missed_targets}),
    }
    # headline -----------------------------------------------------------------------------------
    headline: dict[str, Any] = {}
    for ind_id in HEADLINE:
        s = series(indicators, ind_id, region)
        ys = [y for y in s if y <= year]
        if not ys:
            headline[ind_id] = {"value": None, "year": None, "unit": inds[ind_id].unit, "status": ""}
            continue
        y = max(ys)
        row = indicators[(indicators["indicator"] == ind_id) & (indicators["region"] == region)
                         & (indicators["year"] == y)].iloc[0]
        prev = s.get(y - 1)
        headline[ind_id] = {"value": s[y], "year": y, "unit": inds[ind_id].unit, "status": str(row["status"]),
                            "change_pct": None if not prev else (s[y] / prev - 1) * 100}
    if outlook:
        headline["peak_outlook"] = {k: outlook.get(k) for k in
                                    ("scenario", "peak_year", "peak_co2_t", "p_peak_before_2030", "draws", "seed",
                                     "p_peak_before_2030_se", "p_peak_before_2030_interval", "peak_year_range")}
    # cities ---------------------------------------------------------------------------------------
    regions = load_regions(tier_overrides)
    cities_section = _cities(indicators, inventory_results, regions, cat, year, base_year, city_target,
                             city_base_year, rules)
    # trajectories (for charts) -----------------------------------------------------------------
    traj = {}
    for tid in KEY_TRAJECTORIES:
        if tid not in cat.targets:
            continue
        t = cat.targets[tid]
        s = series(indicators, t.indicator, region)
        traj[tid] = {"indicator": t.indicator, "unit": inds[t.indicator].unit,
                     "series": [{"year": y, "value": v} for y, v in sorted(s.items())]}
    sources = (indicators[(~indicators["computed"].astype(bool)) & (indicators["year"] <= year)]
               .groupby(["source", "status"], dropna=False).size().reset_index(name="rows"))
    sources["kind"] = "observations"
    if activity_sources is not None and len(activity_sources):
        act = activity_sources.copy()
        act["status"] = act["note"].fillna("").astype(str).str.extract(
            r"^\s*(verified|derived|consistent|unverified|estimate|synthetic)\b", expand=False).fillna("")
        act_src = act.groupby(["source", "status"], dropna=False).size().reset_index(name="rows")
        act_src["kind"] = "activity"
        sources = pd.concat([act_src, sources], ignore_index=True)
    return {
        "year": year, "region": region, "base_year": base_year,
        "plan": cat.plan,
        "summary": {s: int(counts.get(s, 0)) for s in STATUSES},
        "headline": headline,
        "targets": targets_out,
        "cities": cities_section,
        "accountability": accountability,
        "trajectories": traj,
        "emissions_series": [{"year": y, "value": v}
                             for y, v in sorted(series(indicators, "co2_emissions", region).items())],
        "data_gaps": gaps,
        "sources": sources.to_dict(orient="records"),
        "rules": {"at_risk_band": rules.at_risk_band, "max_data_age": rules.max_data_age,
                  "peak_probability": {"on_track": rules.peak_on_track, "at_risk": rules.peak_at_risk},
                  "about_tolerance": cat.defaults.get("about_tolerance", {})},
    }


def status_coverage(assessment: Mapping[str, Any]) -> dict[str, int]:
    """How many of the catalog's targets have a status (anything but ``no_data``) in an assessment."""
    summary = assessment["summary"]
    total = int(sum(summary.values()))
    no_data = int(summary.get("no_data", 0))
    return {"year": int(assessment["year"]), "targets": total, "with_status": total - no_data, "no_data": no_data}


def latest_assessable_year(indicators: pd.DataFrame, region: str = PROVINCE) -> int | None:
    """The latest year with a published GDP for ``region``: every intensity and most targets need it,
    so no later year can be assessed."""
    gdp = indicators[(indicators["indicator"] == "gdp_current") & (indicators["region"] == region)]
    return int(gdp["year"].max()) if len(gdp) else None


CITY_GAPS = {
    "unknown_target": "unknown provincial target '{target}'",
    "not_change": "target '{target}' is not a change target; cannot decompose",
    "no_base_year": "no year with both city emissions (inventory) and city GDP: no decomposition",
    "cities_missing": "cities without emissions and GDP in {year}: {cities}",
    "method_failed": "{method}: {error}",
    "base_proxy": "city base year {year} used for the {baseline_year} baseline of the provincial target "
                  "(latest year with city emissions and GDP)",
}


def _gap(code: str, **args: Any) -> dict[str, Any]:
    return {"code": code, "args": args, "text": CITY_GAPS[code].format(**args)}


def _cities(ind: pd.DataFrame, results: pd.DataFrame | None, regions: dict, cat: TargetCatalog, year: int,
            base_year: int, city_target: str, city_base_year: int | None, rules: Rules) -> dict[str, Any]:
    cities = [r for r in regions.values() if r.level == "city"]
    table = dual_control_table(ind, regions, year, base_year)
    table = table.astype(object).where(table.notna(), None)
    out: dict[str, Any] = {"dual_control": table.to_dict(orient="records"), "decompositions": [],
                           "ranking": [], "missed": [], "warnings": [], "gaps": []}
    if city_target not in cat.targets:
        out["gaps"].append(_gap("unknown_target", target=city_target))
        return out
    t = cat.targets[city_target]
    if t.kind != "change":
        out["gaps"].append(_gap("not_change", target=city_target))
        return out
    # base year: the requested one, else the latest year ≤ the target's baseline year with city emissions+GDP
    emis = ind[(ind["indicator"] == "co2_emissions") & (ind["region"].isin([c.code for c in cities]))]
    gdp = ind[(ind["indicator"] == "gdp_current") & (ind["region"].isin([c.code for c in cities]))]
    both = sorted(set(emis["year"]) & set(gdp["year"]))
    by = city_base_year
    if by is None:
        cands = [y for y in both if y <= (t.baseline.year if t.baseline else year)]
        by = max(cands) if cands else None
    if by is None:
        out["gaps"].append(_gap("no_base_year"))
        return out
    coal = coal_share_of_co2(results, coal_items()) if results is not None and len(results) else None
    base = city_base(ind, cities, by, coal)
    missing = sorted(set(c.code for c in cities) - set(base["region"] if len(base) else []))
    if missing:
        out["gaps"].append(_gap("cities_missing", year=by, cities=", ".join(missing)))
    if len(base) < 2:
        return out
    dec_params = cat.decomposition
    decs = []
    for method in ("entropy", "optimise"):
        try:
            d = decompose(base, -t.target_value, method=method, mode="intensity",
                          index_floor=float(dec_params.get("index_floor", 0.5)),
                          tier_preference=dec_params.get("tier_preference"),
                          tier_bounds=dec_params.get("tier_bounds"))
        except DecompositionError as exc:
            out["gaps"].append(_gap("method_failed", method=method, error=str(exc)))
            continue
        dd = d.to_dict()
        dd["base_year"] = by
        dd["target"] = t.id
        decs.append((d, dd))
    out["decompositions"] = [dd for _, dd in decs]
    out["base_year"] = by
    out["target"] = t.id
    out["target_name_zh"], out["target_name_en"], out["target_status"] = t.name_zh, t.name_en, t.status
    if decs:
        d0 = next((d for d, _ in decs if d.method == "optimise"), decs[0][0])
        ranked = assess_cities(ind, d0, t, by, year, rules)
        out["ranking_method"] = d0.method
        out["ranking"] = ranked.to_dict(orient="records")
        out["missed"] = [r["region"] for r in out["ranking"] if r["missed"]]
        out["warnings"] = [r["region"] for r in out["ranking"] if r["status"] == "off_track" and not r["missed"]]
        if by != (t.baseline.year if t.baseline else by):
            out["gaps"].append(_gap("base_proxy", year=by, baseline_year=t.baseline.year if t.baseline else "?"))
    return out
