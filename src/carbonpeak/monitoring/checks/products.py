"""Product energy intensity against the product's limit standard and NDRC levels, with the
corrections the standards prescribe and the punitive or tiered electricity price that applies.

* The intensity is measured on the product line's own meters (``point = product_line`` and the
  product's id); a unit without them is measured on its whole site, and the table and alerts say so.
* Comprehensive energy counts electricity on the basis the standard prescribes
  (``electricity_basis`` of ``product_limits.csv``: 当量值, or the previous year's 等价值 for
  refining and ethylene per GB 30251-2024 §6.1.5), whatever method the run's statistics use.
* The intensity is rounded to the precision the standard prints its limit with (GB/T 8170-2008,
  half to even) before it is compared, so float noise (117.00000000000001) is not "over 117".
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import pandas as pd

from carbonpeak.i18n import Msg, declare
from carbonpeak.monitoring.alerts import Alert
from carbonpeak.monitoring.catalog import MonitoringCatalog, limit_unit_factor
from carbonpeak.monitoring.quality import _loc
from carbonpeak.monitoring.rulebase import (
    RangeSum,
    RuleContext,
    basis_tce,
    dn,
    grain_of,
    num,
    register,
    register_table,
)

GRADES = ("grade1", "grade2", "grade3")
PRODUCT_COLUMNS = [
    "unit_id", "product", "indicator", "period_start", "period_end", "quantity", "output_unit", "energy_kgce",
    "electricity_kwh", "sec_raw", "sec", "sec_unit", "basis", "electricity_basis", "coverage", "grade1", "grade2",
    "grade3", "benchmark", "base", "corrections", "grade", "ndrc_class", "surcharge_yuan_per_kwh", "surcharge_yuan",
    "surcharge_rule", "standard",
]  # fmt: skip


def round_std(x: float, decimals: int) -> float:
    """``x`` rounded to ``decimals`` places, half to even (GB/T 8170-2008 §3.3 修约规则)."""
    if not math.isfinite(x):
        return x
    return float(Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-int(decimals)), rounding=ROUND_HALF_EVEN))


def limits_index(cat: MonitoringCatalog) -> dict[str, dict[str, dict[str, dict]]]:
    """product → indicator → level → row (plain dicts: the loops must not pay pandas overhead per row)."""
    out: dict[str, dict[str, dict[str, dict]]] = {}
    for r in cat.product_limits.to_dict("records"):
        out.setdefault(r["product"], {}).setdefault(r["indicator"], {})[r["level"]] = r
    return out


# -- corrections -------------------------------------------------------------------------------------
def corrected_levels(
    cat: MonitoringCatalog, product: str, levels: dict[str, float], row: Any, unit: dict[str, Any]
) -> tuple[dict[str, float], list[str]]:
    """Grades 1-3 after the corrections the standard prescribes, and a note per correction."""
    corr = cat.extra.get("corrections", {})
    out = dict(levels)
    notes: list[str] = []

    def val(src: Any, col: str) -> float | None:
        v = src.get(col) if isinstance(src, dict) else getattr(src, col, None)
        return num(v)

    c = corr.get("clinker_ratio")
    if c and product in c["products"]:
        x = val(row, c["column"])
        if x is None:
            notes.append(f"clinker-ratio correction not applied: no {c['column']} ({c['source']})")
        else:
            for g, k in c["per_point"].items():
                if g in out:
                    out[g] += (x - float(c["base"])) * float(k)
            notes.append(f"clinker ratio {x:g} % vs {c['base']} %: limits {'+' if x >= c['base'] else '−'}"
                         f"{abs(x - float(c['base'])):g} points × {'/'.join(str(v) for v in c['per_point'].values())} ({c['source']})")
    c = corr.get("feed_grade")
    if c and product in c["products"]:
        x = val(row, c["column"])
        if x is None:
            notes.append(f"feed-grade correction not applied: no {c['column']} ({c['source']})")
        else:
            pts = min(float(c["max_points"]), max(0.0, float(c["base"]) - x))
            for g in GRADES:
                if g in out:
                    out[g] += pts * float(c["per_point"])
            notes.append(f"feed grade {x:g} %: +{pts:g} points × {c['per_point']} kgce/t ({c['source']})")
    c = corr.get("ore_mix")
    if c and product in c["per_point"]:
        xs = [val(row, col) for col in c["columns"]]
        if all(x is None for x in xs):
            notes.append(f"ore-mix correction not applied: no {', '.join(c['columns'])} ({c['source']})")
        else:
            add = sum((x or 0.0) * float(k) for x, k in zip(xs, c["per_point"][product], strict=True))
            for g in GRADES:
                if g in out:
                    out[g] += add
            notes.append(f"ore mix: +{add:.4g} kgce/t ({c['source']})")
    c = corr.get("thickness")
    if c and product in c["products"]:
        x = val(row, c["column"])
        if x is None:
            notes.append(f"thickness correction not applied: no {c['column']} ({c['source']})")
        else:
            for g in GRADES:
                if g in out:
                    out[g] *= x
            notes.append(f"thickness factor {x:g} ({c['source']})")
    c = corr.get("altitude")
    if c and product in c["products"]:
        alt, p = val(unit, c["columns"][0]), val(unit, c["columns"][1])
        if alt is not None and alt > float(c["above_m"]):
            if p is None:
                notes.append(f"altitude correction not applied: site at {alt:g} m but no {c['columns'][1]} ({c['source']})")
            else:
                f = 1.179 - 0.211 * p / 101325.0
                for g in c["levels"]:
                    if g in out:
                        out[g] *= f
                notes.append(f"altitude {alt:g} m, {p:g} Pa: grade 3 × {f:.4f} ({c['source']})")
    return out, notes


# -- surcharges ------------------------------------------------------------------------------------
def _matches(r: dict, product: str, year: int) -> bool:
    prods = str(r["products"]).split("|")
    y0, y1 = num(r["year_from"]), num(r["year_to"])
    return (product in prods or "*" in prods) and (y0 is None or y0 <= year) and (y1 is None or y1 >= year)


def _in_band(r: dict, x: float) -> bool:
    lo, hi = num(r["band_low"]), num(r["band_high"])
    lo_ok = lo is None or x > lo or (bool(r["low_inclusive"]) and x == lo)
    hi_ok = hi is None or x < hi or (bool(r["high_inclusive"]) and x == hi)
    return lo_ok and hi_ok


def surcharge(
    cat: MonitoringCatalog, product: str, indicator: str, year: int, sec: float, limit: float | None,
    renewable_share: float | None = None,
) -> tuple[float, str, str]:  # fmt: skip
    """(yuan per kWh, rule with its source, note) for an intensity ``sec`` of ``product`` in ``year``."""
    records = cat.extra.get("_surcharge_records")
    if records is None:  # plain dicts once per catalog: to_dict per output row costs seconds at scale
        records = cat.extra["_surcharge_records"] = cat.surcharges.to_dict("records")
    rules = [r for r in records if _matches(r, product, year)]
    exclusive = any(bool(r["exclusive"]) and r["products"] != "*" for r in rules)
    specific = [r for r in rules if r["products"] != "*" and r["indicator"] == indicator]
    generic = [] if exclusive else [r for r in rules if r["products"] == "*" and r["indicator"] == indicator]
    for r in specific + generic:
        if r["band_metric"] == "excess_over_limit":
            if limit is None or limit == 0:
                continue
            x = (sec - limit) / abs(limit)  # 1 = over the limit by one time, whatever the sign of the limit
        else:
            x = sec
        if not _in_band(r, x):
            continue
        rate = float(r["surcharge_yuan_per_kwh"])
        step = num(r["step_size"])
        if step:
            lo = num(r["band_low"]) or 0.0
            n = (x - lo) / step
            steps = math.ceil(n - 1e-9) if r["step_rounding"] == "ceil" else math.floor(n + 1e-9)
            rate += steps * float(r["step_yuan"])
        note = ""
        if r["renewable_rule"] == "al_1239":
            rate, note = _al_1239_reduction(cat, year, rate, renewable_share)
        return rate, f"{r['rule_id']}: {r['doc']}; {r['source']} [{r['status']}]", note
    return 0.0, "", ""


def _al_1239_reduction(cat: MonitoringCatalog, year: int, rate: float, share: float | None) -> tuple[float, str]:
    """发改价格〔2021〕1239号 一(三): non-hydro renewable share above 15 % (and not below the province's
    previous-year incentive weight) lowers the surcharge by 1 % per percentage point."""
    floor_share = float(cat.t("nonhydro_renewable_min_share"))
    if share is None:
        return rate, "no non-hydro renewable share given: no 1239号 reduction"
    if share <= floor_share:
        return rate, f"non-hydro renewable share {share:.1%} not above {floor_share:.0%}: no reduction"
    weights = cat.t("nonhydro_weight_incentive") or {}
    w = num(weights.get(year - 1, weights.get(str(year - 1))))
    if w is None:
        return rate, (f"non-hydro renewable share {share:.1%}, but the province's {year - 1} incentive weight is not known: "
                      "1239号 reduction not applied (set nonhydro_weight_incentive)")
    if share < w:
        return rate, f"non-hydro renewable share {share:.1%} below the province's {year - 1} incentive weight {w:.1%}: no reduction"
    points = math.floor(round((share - floor_share) * 100, 9))
    cut = min(1.0, points / 100.0)
    return rate * (1 - cut), f"non-hydro renewable share {share:.1%}: surcharge lowered by {points} % (1239号 一(三))"


# -- the product table ------------------------------------------------------------------------------
@register_table("products")
def product_table(ctx: RuleContext) -> pd.DataFrame:
    """Energy intensity of every output row and indicator against the product's limits, with class and surcharge."""
    res, cat = ctx.res, ctx.cat
    output = ctx.input("output")
    rows: list[dict] = []
    if output.empty or res.meter_day.empty:
        return pd.DataFrame(columns=PRODUCT_COLUMNS)
    lim = limits_index(cat)
    md = res.meter_day
    is_top = (md["parent_meter_id"].fillna("") == "").to_numpy()
    cols = ["unit_id", "product", "point", "day", "energy_type", "tce", "kwh"]
    if "product" in md.columns:
        keep = md["product"].isin(lim).to_numpy() | is_top
        md, is_top = md.loc[keep, cols], is_top[keep]  # only the columns the sums need (not a copy of every column)

    def sums(frame: pd.DataFrame, keys: list[str]) -> RangeSum:
        f = frame[[*keys, "day", "energy_type", "tce", "kwh"]].copy()
        f["tce_calorific"], _ = basis_tce(res, f, "calorific")
        f["tce_substitution_prev"], _ = basis_tce(res, f, "substitution_prev")
        g = f.groupby([*keys, "day"], as_index=False)[["tce", "kwh", "tce_calorific", "tce_substitution_prev"]].sum()
        return RangeSum(g, keys, ["tce", "kwh", "tce_calorific", "tce_substitution_prev"])

    top = md[is_top]
    site = sums(top, ["unit_id"])
    line = sums(md[md["point"] == "product_line"], ["unit_id", "product"])
    units = ctx.units
    ucols = [c for c in ("altitude_m", "pressure_pa") if c in units.columns]
    uattr = units[ucols].to_dict("index") if ucols else {}
    for r in output.itertuples(index=False):
        start, end = r.period_start, r.period_end
        if start < res.date_from or end > res.date_to or r.product not in lim or not r.quantity or r.quantity <= 0:
            continue
        d0, d1 = dn(start), dn(end)
        period_days = (end - start).days + 1
        tot, ndays = site.get((r.unit_id,), d0, d1)
        ln, nline = line.get((r.unit_id, r.product), d0, d1)
        share = num(getattr(r, "nonhydro_renewable_share", None))
        for indicator, levels_rows in lim[r.product].items():
            first = levels_rows.get("grade3") or next(iter(levels_rows.values()))
            lunit, kind, ebasis = str(first["unit"]), str(first["basis"]), str(first["electricity_basis"])
            if kind == "electricity_site" or not nline:
                src, cov = tot, ndays
                where = ("whole site (top-level meters)" if kind == "electricity_site"
                         else f"whole site: no product-line meters for {r.product}, so the site's other consumption is included")
            else:
                src, cov, where = ln, nline, f"product-line meters of {r.product}"
            energy = src["kwh"] if kind.startswith("electricity") else src[f"tce_{ebasis}"] * 1000.0
            sec_raw = energy / r.quantity * limit_unit_factor(cat, lunit, r.unit)
            decimals = int(first["decimals"])
            sec = round_std(sec_raw, decimals)
            levels = {k: float(v["value"]) for k, v in levels_rows.items()}
            corr, notes = corrected_levels(cat, r.product, levels, r, uattr.get(r.unit_id, {}))
            corr = {k: (round_std(v, max(decimals, 2)) if k in GRADES else v) for k, v in corr.items()}
            g = next((k for k in GRADES if k in corr and sec <= corr[k]), None)
            grade = g.replace("grade", "") if g else ("over limit" if "grade3" in corr else "")
            ndrc = ""
            if "benchmark" in levels and "base" in levels:
                ndrc = "benchmark" if sec <= levels["benchmark"] else ("between" if sec <= levels["base"] else "below base")
            rate, rule, snote = surcharge(cat, r.product, indicator, start.year, sec, corr.get("grade3"), share)
            if snote:
                notes.append(snote)
            elec = float(tot["kwh"])
            rows.append(
                {
                    "unit_id": r.unit_id, "product": r.product, "indicator": indicator, "period_start": start,
                    "period_end": end, "quantity": r.quantity, "output_unit": r.unit,
                    "energy_kgce": src[f"tce_{ebasis}"] * 1000.0, "electricity_kwh": elec, "sec_raw": sec_raw, "sec": sec,
                    "sec_unit": lunit, "basis": where, "electricity_basis": ebasis if not kind.startswith("electricity") else "kWh",
                    "coverage": cov / period_days, **{k: corr.get(k) for k in GRADES},
                    "benchmark": levels.get("benchmark"), "base": levels.get("base"), "corrections": "; ".join(notes),
                    "grade": grade, "ndrc_class": ndrc, "surcharge_yuan_per_kwh": rate, "surcharge_yuan": rate * elec,
                    "surcharge_rule": rule, "standard": "; ".join(sorted({v["standard"] for v in levels_rows.values()})),
                }
            )  # fmt: skip
    return pd.DataFrame(rows, columns=PRODUCT_COLUMNS)


declare({
    "alert_obs.product_over_limit": {"product": Msg, "indicator": Msg, "sec": float, "sec_unit": str, "limit": float,
                                     "site": Msg, "surcharge": Msg, "corrections": Msg},
    "alert_obs.product_below_base": {"product": Msg, "indicator": Msg, "sec": float, "sec_unit": str, "base": float,
                                     "benchmark": float, "site": Msg},
    "alert_obs.product_site": {"basis": str},  # alerts stored before product_site_whole
    "alert_obs.product_site_whole": {"product": Msg},
    "alert_obs.product_surcharge": {"rate": float, "kwh": float, "yuan": float, "rule": str},
    "alert_obs.product_corrections": {"notes": str},
    "alert_obs.intensity_jump": {"product": Msg, "indicator": Msg, "sec": float, "sec_unit": str, "ratio": float,
                                 "median": float},
})


def _name(prefix: str, ident: str) -> dict[str, Any] | str:
    """A product or indicator id as a nested message of its name (``product.<id>``,
    ``sec_indicator.<id>`` in messages/monitoring.yaml); the id where the catalog has none."""
    from carbonpeak.i18n import load_messages

    key = f"{prefix}.{ident}"
    return {"message_key": key, "params": {}} if key in load_messages() else ident


def _whole_site(basis: str, product: str) -> Msg | str:
    if not basis.startswith("whole site: no product-line"):
        return ""
    return Msg("alert_obs.product_site_whole", product=_name("product", product))


@register(
    "product_limits",
    kinds=("product_over_limit", "product_below_base"),
    source="product limit standards (product_limits.csv) and 发改产业〔2021〕1464号 / 〔2023〕723号; surcharges electricity_surcharge.csv",
)
def product_alerts(ctx: RuleContext) -> list[Alert]:
    """Intensity over the limit value (grade 3, corrected) and below NDRC's base level."""
    prod, units = ctx.table("products"), ctx.units
    lim = limits_index(ctx.cat)
    out: list[Alert] = []
    # plain object columns: itertuples over Arrow-backed strings iterates them element by element
    prod = prod.astype({c: object for c in prod.columns if isinstance(prod[c].dtype, pd.StringDtype)})
    for r in prod.itertuples(index=False):
        loc, city = _loc(units, r.unit_id)
        pl = lim[r.product][r.indicator]
        grain = grain_of(r.period_start, r.period_end)
        corr = Msg("alert_obs.product_corrections", notes=str(r.corrections)) if r.corrections else ""
        if r.grade == "over limit":
            g3 = pl["grade3"]
            src = f"{g3['standard']} {g3['clause']}: {g3['source']} [{g3['status']}]"
            extra = (
                Msg("alert_obs.product_surcharge", rate=float(r.surcharge_yuan_per_kwh), kwh=float(r.electricity_kwh),
                    yuan=float(r.surcharge_yuan), rule=str(r.surcharge_rule))
                if r.surcharge_yuan_per_kwh
                else ""
            )
            out.append(
                Alert("product_over_limit", "error", r.unit_id, None, r.period_start, r.period_end, float(r.sec),
                      float(r.grade3), r.sec_unit,
                      Msg("alert_obs.product_over_limit", product=_name("product", str(r.product)),
                          indicator=_name("sec_indicator", str(r.indicator)), sec=float(r.sec), sec_unit=str(r.sec_unit),
                          limit=float(r.grade3), site=_whole_site(r.basis, str(r.product)),
                          surcharge=extra, corrections=corr), loc, src, city, r.product, grain=grain, indicator=r.indicator)
            )
        if r.ndrc_class == "below base":
            bs = pl["base"]
            src = f"{bs['standard']} ({bs['clause']}): {bs['source']} [{bs['status']}]"
            out.append(
                Alert("product_below_base", "warning", r.unit_id, None, r.period_start, r.period_end, float(r.sec),
                      float(r.base), r.sec_unit,
                      Msg("alert_obs.product_below_base", product=_name("product", str(r.product)),
                          indicator=_name("sec_indicator", str(r.indicator)),
                          sec=float(r.sec), sec_unit=str(r.sec_unit), base=float(r.base), benchmark=float(r.benchmark),
                          site=_whole_site(r.basis, str(r.product))), loc, src, city, r.product,
                      grain=grain, indicator=r.indicator)
            )
    return out


@register("intensity_jump", kinds=("intensity_jump",), source="carbonpeak method (thresholds.yaml intensity_jump_ratio)")
def intensity_jump_alerts(ctx: RuleContext) -> list[Alert]:
    """Energy per output far from the unit's median period (at least 3 periods)."""
    prod, cat, units = ctx.table("products"), ctx.cat, ctx.units
    out: list[Alert] = []
    if prod.empty:
        return out
    jump = float(cat.t("intensity_jump_ratio"))
    g = prod.groupby(["unit_id", "product", "indicator"])["sec"]
    med = g.transform("median")
    ratio = prod["sec"] / med
    flagged = prod[(g.transform("size") >= 3) & (med > 0) & ((ratio > jump) | (ratio < 1 / jump))]
    src = f"energy per output vs the unit's median period, limit ×{jump:g} or ÷{jump:g}: {cat.source('intensity_jump_ratio')}"
    for r, rt, m in zip(flagged.itertuples(index=False), ratio[flagged.index], med[flagged.index], strict=True):
        loc, city = _loc(units, str(r.unit_id))
        out.append(
            Alert("intensity_jump", "warning", str(r.unit_id), None, r.period_start, r.period_end, float(rt), jump,
                  "× median", Msg("alert_obs.intensity_jump", product=_name("product", str(r.product)),
                                  indicator=_name("sec_indicator", str(r.indicator)), sec=float(r.sec),
                                  sec_unit=str(r.sec_unit), ratio=float(rt), median=float(m)),
                  loc, src, city, str(r.product), grain=grain_of(r.period_start, r.period_end), indicator=str(r.indicator))
        )
    return out

