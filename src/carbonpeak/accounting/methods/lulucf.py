"""Land use, land-use change and forestry (IPCC 2006 sector 3.B), including blue carbon.

One method for all of 3.B; each row is handled according to the *kind* of its item
(``catalog/data/items/lulucf.yaml``).  Formulas and sources: ``docs/methods/afolu-waste.md``.

* forest types, volume unit — stock-difference (IPCC 2006 Vol 4 Ch 2 Eq 2.8; provincial guideline
  Ch 4): C = V × SVD × BEF × (1 + R) × CF; ΔC = (C_t2 − C_t1)/(t2 − t1) for every year in (t1, t2].
* forest types, area unit — gain (Eq 2.9-2.10): ΔC_G = A × I_v × SVD × BEF × (1 + R) × CF.
* ``harvest_<type>`` — loss (Eq 2.12): L = H × SVD × BEF × (1 + R) × CF.
* land conversions — biomass stock change on conversion (Eq 2.15-2.16, Tier 1):
  ΔC = A × (C_after − C_before).
* coastal wetlands — soil C accumulation (2013 Wetlands Supplement Ch 4 Eq 4.7, Table 4.12):
  ΔC = A × EF; mangrove biomass: growth A × G × (1 + R) × CF when a growth rate is given, and the
  mature stock lost when the area shrinks, ΔA/Δt × AGB × (1 + R) × CF.

CO2 = −ΔC × 44/12: removals are negative masses of CO2, scope ``territorial``.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd

from carbonpeak.accounting.base import MethodContext, register
from carbonpeak.accounting.deferred import explain_later
from carbonpeak.accounting.methods._aw_common import (
    C_TO_CO2,
    activity_refs,
    check_rows,
    combined_uncertainty,
    conv,
    factor,
    lookup,
    prepare,
    problem,
    raise_if,
    rows_with_file,
    to,
    to_result,
    unit_dimension_is,
)
from carbonpeak.catalog.factors import FactorValue
from carbonpeak.catalog.items import get_items
from carbonpeak.errors import CarbonpeakError, Problem

KINDS = ("forest_type", "wood_harvest", "land_conversion", "coastal_wetland")


def _under(cat: str, prefix: str) -> bool:
    return cat == prefix or cat.startswith(prefix + ".")


def _category_problem(rec: dict[str, Any], kind: str) -> str | None:
    cat = rec["category"]
    items = get_items()
    if kind in ("forest_type", "wood_harvest"):
        if not _under(cat, "3.B.1") or _under(cat, "3.B.1.b"):
            return f"forest item '{rec['item']}' belongs under 3.B.1.a (forest land remaining forest land), not {cat}"
    elif kind == "coastal_wetland":
        if not _under(cat, "3.B.4") or _under(cat, "3.B.4.b"):
            return f"coastal wetland '{rec['item']}' belongs under 3.B.4.a (3.B.4.a.i/ii/iii), not {cat}"
    elif kind == "land_conversion":
        to_land = str(items[rec["item"]].extra.get("to_land", ""))
        base = str(items[to_land].extra.get("ipcc_category", "")) if to_land in items else ""
        if not base or not _under(cat, base + ".b"):
            return f"conversion '{rec['item']}' belongs under {base or '?'}.b (land converted to that use), not {cat}"
    return None


def _biomass_chain(ctx: MethodContext, ftype: str, cat: str, reg: str, yr: int) -> tuple[float, list[FactorValue]]:
    """t C per m3 of stem volume = SVD × BEF × (1 + R) × CF, and the factors used."""
    svd = factor(ctx, ftype, "svd", category=cat, region=reg, year=yr)
    bef = factor(ctx, ftype, "bef", category=cat, region=reg, year=yr)
    r = factor(ctx, ftype, "r", category=cat, region=reg, year=yr)
    cf = factor(ctx, ftype, "cf", category=cat, region=reg, year=yr)
    c_per_m3 = to(svd, "t/m3") * to(bef, "1") * (1.0 + to(r, "1")) * to(cf, "1")
    return c_per_m3, [svd, bef, r, cf]


def _u(rec: dict[str, Any]) -> float:
    v = rec.get("uncertainty_pct")
    try:
        f = float(v)
    except (TypeError, ValueError):
        return float("nan")
    return f if np.isfinite(f) else float("nan")


class _Acc:
    """Accumulates the CO2 of one (year, region, category, item) from several parts."""

    def __init__(self) -> None:
        self.rows: dict[tuple[int, str, str, str], dict[str, Any]] = {}

    def add(self, year: int, region: str, cat: str, item: str, co2_t: float, *, recs: list[dict[str, Any]],
            fvs: list[FactorValue], ad_unc: float, key: str, part: dict[str, Any]) -> None:
        k = (year, region, cat, item)
        acc = self.rows.setdefault(k, {"co2": 0.0, "recs": [], "fvs": [], "ad": [], "parts": [], "key": key})
        acc["co2"] += co2_t
        acc["recs"].extend(recs)
        acc["fvs"].extend(fvs)
        acc["ad"].append((abs(co2_t), ad_unc))
        acc["parts"].append(part)

    def records(self) -> list[dict[str, Any]]:
        out = []
        for (yr, reg, cat, it), a in sorted(self.rows.items()):
            num = [(w * u) ** 2 for w, u in a["ad"] if np.isfinite(u)]
            tot = sum(w for w, _ in a["ad"])
            ad = float(np.sqrt(sum(num)) / tot) if num and tot > 0 else float("nan")
            seen: dict[tuple[Any, ...], FactorValue] = {}
            for fv in a["fvs"]:
                seen.setdefault((fv.item, fv.parameter, fv.category, fv.region, fv.year_from, fv.origin), fv)
            out.append(
                {
                    "year": yr, "region": reg, "category": cat, "item": it, "gas": "CO2",
                    "mass_t": float(a["co2"]), "scope": "territorial",
                    "ad_uncertainty_pct": ad,
                    # parts of one row are added; RSS over their factors is an upper bound
                    "ef_uncertainty_pct": combined_uncertainty(seen.values()),
                    "factor_key": a["key"],
                    "explain": explain_later(method="land_use", activity=activity_refs(a["recs"]),
                                            parts=a["parts"]),
                }
            )
        return out


def _forest(df: pd.DataFrame, ctx: MethodContext, acc: _Acc, problems: list[Problem]) -> None:
    items = get_items()
    recs = rows_with_file(df)
    stock: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    gainloss: list[tuple[dict[str, Any], str, str]] = []  # (rec, mode, forest type)
    for rec in recs:
        kind = items[rec["item"]].kind
        unit = str(rec["unit"])
        if kind == "forest_type":
            if unit_dimension_is(unit, "m3"):
                rec["value"] = rec["amount"] * conv(unit, "m3")
                stock[(rec["region"], rec["category"], rec["item"])].append(rec)
            elif unit_dimension_is(unit, "ha"):
                rec["value"] = rec["amount"] * conv(unit, "ha")
                gainloss.append((rec, "gain", rec["item"]))
            else:
                problems.append(problem(rec, "unit", f"unit '{unit}' of forest type '{rec['item']}' must be a volume "
                                        "(standing volume, stock-difference) or an area (gain = area x increment)"))
        else:  # wood_harvest
            if not unit_dimension_is(unit, "m3"):
                problems.append(problem(rec, "unit", f"wood removals '{rec['item']}' must be a volume (m3), not '{unit}'"))
                continue
            rec["value"] = rec["amount"] * conv(unit, "m3")
            gainloss.append((rec, "loss", str(items[rec["item"]].extra.get("forest_type", ""))))
    covered: dict[tuple[str, int, str], dict[str, Any]] = {}
    for (reg, cat, ftype), rows in stock.items():
        rows.sort(key=lambda r: int(r["year"]))
        if len(rows) < 2:
            problems.append(problem(rows[0], "year", f"stock-difference for '{ftype}' in {reg} needs standing "
                                    "volume of at least two years (or give area rows for the gain-loss method)"))
            continue
        for a, b in itertools.pairwise(rows):
            y1, y2 = int(a["year"]), int(b["year"])
            try:
                c_per_m3, fvs = _biomass_chain(ctx, ftype, cat, reg, y2)
            except CarbonpeakError as exc:
                problems.append(problem(b, "item", str(exc)))
                break
            c1, c2 = a["value"] * c_per_m3, b["value"] * c_per_m3
            dc = (c2 - c1) / (y2 - y1)
            u1, u2 = _u(a), _u(b)
            ad = (float(np.sqrt((c1 * u1) ** 2 + (c2 * u2) ** 2) / abs(c2 - c1))
                  if np.isfinite(u1) and np.isfinite(u2) and c2 != c1 else float("nan"))
            for y in range(y1 + 1, y2 + 1):
                covered[(reg, y, ftype)] = b
                acc.add(y, reg, cat, ftype, -dc * C_TO_CO2, recs=[a, b], fvs=fvs, ad_unc=ad,
                        key=f"{ftype}|CO2|{cat}|stock",
                        part={"part": "forest_stock_difference",
                              "formula": "CO2 = -(C_t2 - C_t1)/(t2 - t1) x 44/12, C = V x SVD x BEF x (1+R) x CF",
                              "t1": y1, "t2": y2, "c_t1": c1, "c_t2": c2, "delta_c_per_year": dc,
                              "factors": {f.parameter: f for f in fvs}})
    for rec, mode, ftype in gainloss:
        reg, cat, yr = rec["region"], rec["category"], int(rec["year"])
        if (reg, yr, ftype) in covered:
            other = covered[(reg, yr, ftype)]
            problems.append(problem(rec, "item", f"{ftype} in {reg} {yr} is already estimated by the stock-difference "
                                    f"method (standing volume, row {other.get('__row__')}); give either standing volume "
                                    "or area/harvest rows, not both"))
            continue
        try:
            c_per_m3, fvs = _biomass_chain(ctx, ftype, cat, reg, yr)
            if mode == "gain":
                inc = factor(ctx, ftype, "volume_increment", category=cat, region=reg, year=yr)
                dc = rec["value"] * to(inc, "m3/ha/yr") * c_per_m3
                fvs = [inc, *fvs]
                acc.add(yr, reg, cat, rec["item"], -dc * C_TO_CO2, recs=[rec], fvs=fvs, ad_unc=_u(rec),
                        key=f"{ftype}|CO2|{cat}|gain",
                        part={"part": "forest_gain", "formula": "CO2 = -A x Iv x SVD x BEF x (1+R) x CF x 44/12",
                              "delta_c": dc, "factors": {f.parameter: f for f in fvs}})
            else:
                dc = rec["value"] * c_per_m3
                acc.add(yr, reg, cat, rec["item"], dc * C_TO_CO2, recs=[rec], fvs=fvs, ad_unc=_u(rec),
                        key=f"{ftype}|CO2|{cat}|loss",
                        part={"part": "forest_harvest_loss", "formula": "CO2 = H x SVD x BEF x (1+R) x CF x 44/12",
                              "loss_c": dc, "factors": {f.parameter: f for f in fvs}})
        except CarbonpeakError as exc:
            problems.append(problem(rec, "item", str(exc)))


def _conversions(df: pd.DataFrame, ctx: MethodContext, acc: _Acc, problems: list[Problem]) -> None:
    items = get_items()
    for rec in rows_with_file(df):
        unit = str(rec["unit"])
        if not unit_dimension_is(unit, "ha"):
            problems.append(problem(rec, "unit", f"land conversion '{rec['item']}' must be an area, not '{unit}'"))
            continue
        area = rec["amount"] * conv(unit, "ha")
        it, reg, cat, yr = rec["item"], rec["region"], rec["category"], int(rec["year"])
        frm, dest = str(items[it].extra.get("from_land")), str(items[it].extra.get("to_land"))
        try:
            before = factor(ctx, frm, "biomass_c_stock", category=cat, region=reg, year=yr)
            after = factor(ctx, dest, "biomass_c_stock", category=cat, region=reg, year=yr)
        except CarbonpeakError as exc:
            problems.append(problem(rec, "item", str(exc)))
            continue
        dc = area * (to(after, "t/ha") - to(before, "t/ha"))
        acc.add(yr, reg, cat, it, -dc * C_TO_CO2, recs=[rec], fvs=[before, after], ad_unc=_u(rec),
                key=f"{it}|CO2|{cat}",
                part={"part": "land_conversion", "formula": "CO2 = -A x (C_after - C_before) x 44/12",
                      "delta_c": dc, "factors": {"c_before": before, "c_after": after}})


def _wetlands(df: pd.DataFrame, ctx: MethodContext, acc: _Acc, problems: list[Problem]) -> None:
    series: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for rec in rows_with_file(df):
        unit = str(rec["unit"])
        if not unit_dimension_is(unit, "ha"):
            problems.append(problem(rec, "unit", f"coastal wetland '{rec['item']}' must be an area, not '{unit}'"))
            continue
        rec["value"] = rec["amount"] * conv(unit, "ha")
        series[(rec["region"], rec["category"], rec["item"])].append(rec)
    for (reg, cat, it), rows in series.items():
        rows.sort(key=lambda r: int(r["year"]))
        for rec in rows:
            yr = int(rec["year"])
            try:
                ef = factor(ctx, it, "soil_c_accumulation", category=cat, region=reg, year=yr)
            except CarbonpeakError as exc:
                problems.append(problem(rec, "item", str(exc)))
                continue
            dc = rec["value"] * to(ef, "t/ha/yr")
            acc.add(yr, reg, cat, it, -dc * C_TO_CO2, recs=[rec], fvs=[ef], ad_unc=_u(rec), key=f"{it}|CO2|{cat}",
                    part={"part": "wetland_soil", "formula": "CO2 = -A x soil C accumulation x 44/12",
                          "delta_c": dc, "factors": {"soil_c_accumulation": ef}})
        # biomass (mangrove only: IPCC 2013 Wetlands Supplement Ch 4 counts no seagrass or marsh biomass).
        # Gain-loss: growth on the standing area when a growth rate is given (factor agb_growth), and the
        # loss of the mature stock (agb) when the area shrinks.  An area increase earns growth, not the
        # mature stock at once (IPCC 2006 Vol 4 Eq 2.16: biomass immediately after establishment is ~0).
        for rec in rows:
            yr = int(rec["year"])
            growth = lookup(ctx, it, "agb_growth", category=cat, region=reg, year=yr)
            if growth is None:
                continue
            try:
                r = factor(ctx, it, "r", category=cat, region=reg, year=yr)
                cf = factor(ctx, it, "cf", category=cat, region=reg, year=yr)
            except CarbonpeakError as exc:
                problems.append(problem(rec, "item", str(exc)))
                continue
            dc = rec["value"] * to(growth, "t/ha/yr") * (1.0 + to(r, "1")) * to(cf, "1")
            acc.add(yr, reg, cat, it, -dc * C_TO_CO2, recs=[rec], fvs=[growth, r, cf], ad_unc=_u(rec),
                    key=f"{it}|CO2|{cat}|growth",
                    part={"part": "wetland_biomass_growth",
                          "formula": "CO2 = -A x AGB growth x (1+R) x CF x 44/12",
                          "delta_c": dc, "factors": {"agb_growth": growth, "r": r, "cf": cf}})
        for a, b in itertools.pairwise(rows):
            y1, y2 = int(a["year"]), int(b["year"])
            if b["value"] >= a["value"]:
                continue
            agb = lookup(ctx, it, "agb", category=cat, region=reg, year=y2)
            if agb is None:
                continue  # seagrass, salt marsh: biomass not counted
            try:
                r = factor(ctx, it, "r", category=cat, region=reg, year=y2)
                cf = factor(ctx, it, "cf", category=cat, region=reg, year=y2)
            except CarbonpeakError as exc:
                problems.append(problem(b, "item", str(exc)))
                continue
            c_per_ha = to(agb, "t/ha") * (1.0 + to(r, "1")) * to(cf, "1")
            loss = (a["value"] - b["value"]) * c_per_ha / (y2 - y1)
            for y in range(y1 + 1, y2 + 1):
                acc.add(y, reg, cat, it, loss * C_TO_CO2, recs=[a, b], fvs=[agb, r, cf], ad_unc=float("nan"),
                        key=f"{it}|CO2|{cat}|loss",
                        part={"part": "wetland_biomass_loss",
                              "formula": "CO2 = (A_t1 - A_t2)/(t2 - t1) x AGB x (1+R) x CF x 44/12 (area lost)",
                              "t1": y1, "t2": y2, "loss_c_per_year": loss,
                              "factors": {"agb": agb, "r": r, "cf": cf}})


@register("land_use", ("3.B",), "LULUCF: forest stock-difference / gain-loss, land conversion, blue carbon")
def land_use(activity: pd.DataFrame, ctx: MethodContext) -> pd.DataFrame:
    """All of 3.B (see the module docstring); returns CO2 rows, removals negative."""
    df = prepare(activity)
    problems = check_rows(df, KINDS, "land use, land-use change and forestry (3.B)")
    raise_if(problems)
    items = get_items()
    kinds = df["item"].map(lambda i: items[i].kind)
    for rec, kind in zip(rows_with_file(df), kinds, strict=True):
        msg = _category_problem(rec, kind)
        if msg:
            problems.append(problem(rec, "category", msg))
    raise_if(problems)
    acc = _Acc()
    _forest(df[kinds.isin(["forest_type", "wood_harvest"]).to_numpy()], ctx, acc, problems)
    _conversions(df[(kinds == "land_conversion").to_numpy()], ctx, acc, problems)
    _wetlands(df[(kinds == "coastal_wetland").to_numpy()], ctx, acc, problems)
    raise_if(problems)
    return to_result(acc.records())
