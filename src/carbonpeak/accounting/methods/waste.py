"""Waste (IPCC 2006 sector 4).  Formulas and sources: ``docs/methods/afolu-waste.md``.

* ``solid_waste_disposal`` (4.A): first-order decay over the whole disposal history, one phase per
  waste type (:mod:`carbonpeak.accounting.fod`); mixed MSW (``msw_bulk``) is split into its
  components by the ``msw_share`` factors.  CH4 emitted = (Σ CH4 generated − R) × (1 − OX)
  (IPCC 2006 Vol 5 Ch 3 Eq 3.1); the recovery is its own (negative) row.
* ``biological_treatment`` (4.B): CH4, N2O = M × EF (Vol 5 Ch 4 Eq 4.1-4.2).
* ``waste_incineration`` (4.C.1): fossil CO2 = Σ SW × dm × CF × FCF × OF × 44/12 (Vol 5 Ch 5
  Eq 5.1), non-fossil CO2 to ``memo_biomass_co2``; CH4, N2O = SW × EF (Eq 5.4, 5.5).
* ``wastewater`` (4.D): CH4 = TOW × B0 × MCF − R (Vol 5 Ch 6 Eq 6.1-6.2 and 6.4-6.5, one pathway
  per item); N2O = N_effluent × EF × 44/28 (Eq 6.7), N_effluent from population when asked
  (Eq 6.8).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from carbonpeak.accounting.base import MethodContext, explain_json, register
from carbonpeak.accounting.deferred import explain_later
from carbonpeak.accounting.fod import fod_decomposed
from carbonpeak.accounting.methods._aw_common import (
    C_TO_CH4,
    C_TO_CO2,
    N2O_N_TO_N2O,
    activity_refs,
    check_rows,
    combined_uncertainty,
    convert_amounts,
    factor,
    latest_share_set,
    lookup,
    mean_uncertainty,
    prepare,
    problem,
    raise_if,
    rows_with_file,
    splice_json,
    to,
    to_result,
)
from carbonpeak.catalog.factors import FactorValue
from carbonpeak.catalog.items import get_items
from carbonpeak.errors import CarbonpeakError, Problem

BULK = "msw_bulk"
SWDS = "swds"
INCINERATION = "msw_incineration"
LANDFILL_RECOVERY = "landfill_gas_recovered"
WASTEWATER_RECOVERY = "wastewater_ch4_recovered"
_TOL = 1e-9


@lru_cache(maxsize=1)
def _components() -> tuple[str, ...]:
    return tuple(sorted(k for k, v in get_items().items() if v.group == "msw_component"))


def _composition(ctx: MethodContext, cat: str, region: str, year: int) -> dict[str, FactorValue]:
    out: dict[str, FactorValue] = {}
    for c in _components():
        fv = lookup(ctx, c, "msw_share", category=cat, region=region, year=year)
        if fv is not None:
            out[c] = fv
    out = latest_share_set(out, ctx.factors.override_files)
    return {c: fv for c, fv in out.items() if fv.value != 0}


def _split_bulk(ctx: MethodContext, rec: dict[str, Any], problems: list[Problem]) -> dict[str, tuple[float, FactorValue]]:
    """Mass of each component in a row of mixed MSW: {component: (t, share factor)}."""
    cat, reg, yr = rec["category"], rec["region"], int(rec["year"])
    comp = _composition(ctx, cat, reg, yr)
    total = sum(to(fv, "1") for fv in comp.values())
    if not comp or total > 1.0 + 1e-6 or any(fv.value < 0 for fv in comp.values()):
        problems.append(problem(rec, "item", f"the MSW composition ('msw_share' of the components) for {reg} {yr} adds "
                                f"to {total:.4f}; it must be between 0 and 1 (add or fix it with --factors FILE)"))
        return {}
    return {c: (rec["value"] * to(fv, "1"), fv) for c, fv in comp.items()}


_SITE_JSON: dict[tuple[FactorValue, FactorValue], str] = {}


def _site_json(f: FactorValue, ox: FactorValue) -> str:
    """The F and OX factors of a site category as JSON, serialised once per pair of factor rows."""
    key = (f, ox)  # frozen dataclasses: hashed by value
    text = _SITE_JSON.get(key)
    if text is None:
        text = explain_json(f=f, ox=ox)
        if len(_SITE_JSON) > 10_000:
            _SITE_JSON.clear()
        _SITE_JSON[key] = text
    return text


_OX_MEMO: dict[tuple[FactorValue, FactorValue], FactorValue] = {}


def _oxidation(ctx: MethodContext, cat: str, reg: str, yr: int) -> FactorValue:
    """OX of a site (region × category) in a year (IPCC 2006 Vol 5 Ch 3 Table 3.2).

    OX = oxidising_cover × ox_covered: ``ox_covered`` is the Table 3.2 value for a site covered
    with CH4-oxidising material (0.1 for managed sites, 4.A.1; 0 for unmanaged/uncategorised) and
    ``oxidising_cover`` the share of the site so covered, a site attribute (default 0).  A user
    factor ``swds, ox`` given directly wins over both.
    """
    direct = lookup(ctx, SWDS, "ox", category=cat, region=reg, year=yr)
    if direct is not None:
        return direct
    cover = factor(ctx, SWDS, "oxidising_cover", category=cat, region=reg, year=yr)
    oxc = factor(ctx, SWDS, "ox_covered", category=cat, region=reg, year=yr)
    if not 0.0 <= cover.value <= 1.0:
        raise CarbonpeakError(f"factor swds oxidising_cover must be between 0 and 1 (got {cover.value}) for {reg} {cat}")
    key = (cover, oxc)
    fv = _OX_MEMO.get(key)
    if fv is None:
        fv = FactorValue(
            item=SWDS, parameter="ox", value=to(cover, "1") * to(oxc, "1"), unit="1",
            source=f"OX = oxidising_cover {cover.value:g} ({cover.source}) x ox_covered {oxc.value:g} ({oxc.source})",
            status="derived" if cover.status == oxc.status == "verified" else oxc.status,
            category=cat, region=cover.region or oxc.region, year_from=cover.year_from, year_to=cover.year_to,
            uncertainty_pct=oxc.uncertainty_pct,
            origin=cover.origin if cover.overridden else oxc.origin,
        )
        if len(_OX_MEMO) > 10_000:
            _OX_MEMO.clear()
        _OX_MEMO[key] = fv
    return fv


def _gap_problems(recs: list[dict[str, Any]], what: str) -> list[Problem]:
    out: list[Problem] = []
    years = sorted(int(r["year"]) for r in recs)
    by_year = {int(r["year"]): r for r in recs}
    for a, b in itertools.pairwise(years):
        if b - a > 1:
            out.append(problem(by_year[b], "year", f"{what}: no row for {a + 1}-{b - 1}; the first-order-decay model "
                               "needs every year of the disposal history (give 0 for years without deposits)"))
    return out


@register("solid_waste_disposal", ("4.A",), "Solid waste disposal CH4, IPCC first-order decay (Vol 5 Ch 3)")
def solid_waste_disposal(activity: pd.DataFrame, ctx: MethodContext) -> pd.DataFrame:
    """CH4 from solid waste disposal sites by the IPCC FOD model (IPCC 2006 Vol 5 Ch 3 Eq 3.1-3.6)."""
    df = prepare(activity)
    problems = check_rows(df, ("solid_waste", "recovery"), "solid waste disposal (4.A)",
                          allowed_items=[i for i, v in get_items().items()
                                         if v.kind == "solid_waste" or i == LANDFILL_RECOVERY])
    mass, p2 = convert_amounts(df, "t", "solid waste disposal (mass)")
    problems += p2
    raise_if(problems)
    df["value"] = mass
    recs = rows_with_file(df)
    waste = [r for r in recs if r["item"] != LANDFILL_RECOVERY]
    recovery = [r for r in recs if r["item"] == LANDFILL_RECOVERY]
    by_series: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in waste:
        by_series[(r["region"], r["category"], r["item"])].append(r)
    for (reg, cat, it), rows in by_series.items():
        problems += _gap_problems(rows, f"{it} deposited in {reg} ({cat})")
    raise_if(problems)
    if not waste:
        if recovery:
            raise_if([problem(r, "item", "CH4 recovery given but no waste deposits for this region and category")
                      for r in recovery])
        return to_result([])

    y0 = min(int(r["year"]) for r in waste)
    # what was deposited keeps decaying after the last deposit (IPCC 2006 Vol 5 Ch 3 Eq 3.4/3.5):
    # every series is reported up to the last inventory year (the engine's ``inventory_end_year``,
    # or option ``fod_end_year``), not only up to its own last deposit year
    y1 = max(
        [int(r["year"]) for r in waste]
        + [int(v) for v in (ctx.options.get("fod_end_year"), ctx.options.get("inventory_end_year")) if v]
    )
    years = np.arange(y0, y1 + 1)
    nyear = len(years)
    # phases: (region, category, reported item, component)
    phase_index: dict[tuple[str, str, str, str], int] = {}
    deposits: list[np.ndarray] = []
    phase_fvs: dict[int, list[FactorValue]] = defaultdict(list)
    span: dict[tuple[str, str, str], tuple[int, int]] = {}
    for (reg, cat, it), rows in by_series.items():
        yrs = [int(r["year"]) for r in rows]
        span[(reg, cat, it)] = (min(yrs), max(yrs))
        for rec in rows:
            yr = int(rec["year"])
            parts = _split_bulk(ctx, rec, problems) if it == BULK else {it: (rec["value"], None)}
            for comp, (w, share_fv) in parts.items():
                try:
                    doc = factor(ctx, comp, "doc", category=cat, region=reg, year=yr)
                    if doc.value == 0:
                        continue  # no degradable carbon (plastics, inert): no phase needed
                    docf = factor(ctx, SWDS, "docf", category=cat, region=reg, year=yr)
                    mcf = factor(ctx, SWDS, "mcf", category=cat, region=reg, year=yr)
                except CarbonpeakError as exc:
                    problems.append(problem(rec, "item", str(exc)))
                    continue
                key = (reg, cat, it, comp)
                if key not in phase_index:
                    phase_index[key] = len(deposits)
                    deposits.append(np.zeros(nyear))
                idx = phase_index[key]
                deposits[idx][yr - y0] += w * to(doc, "1") * to(docf, "1") * to(mcf, "1")
                if len(phase_fvs[idx]) == 0:
                    phase_fvs[idx] = [doc, docf, mcf] + ([share_fv] if share_fv is not None else [])
    raise_if(problems)
    if not deposits:
        return to_result([])
    keys = list(phase_index)
    ks = np.empty(len(keys))
    delays = np.empty(len(keys))
    for (reg, cat, it, comp), idx in phase_index.items():
        first = span[(reg, cat, it)][0]
        try:
            kf = factor(ctx, comp, "k", category=cat, region=reg, year=first)
            dl = factor(ctx, SWDS, "delay_months", category=cat, region=reg, year=first)
        except CarbonpeakError as exc:
            rec0 = by_series[(reg, cat, it)][0]
            problems.append(problem(rec0, "item", str(exc)))
            continue
        ks[idx] = to(kf, "1/yr")
        delays[idx] = to(dl, "1")
        phase_fvs[idx].append(kf)
    raise_if(problems)
    if (delays < 0).any() or (delays > 6).any():
        raise CarbonpeakError("factor swds delay_months must be between 0 and 6")
    dec, _ = fod_decomposed(np.vstack(deposits), ks, delays)

    # CH4 generated per (region, category, reported item, year)
    generated: dict[tuple[str, str, str], np.ndarray] = {}
    fvs_of: dict[tuple[str, str, str], list[FactorValue]] = defaultdict(list)
    for (reg, cat, it, _comp), idx in phase_index.items():
        g = generated.setdefault((reg, cat, it), np.zeros(nyear))
        g += dec[idx]
        fvs_of[(reg, cat, it)].extend(phase_fvs[idx])
    out: list[dict[str, Any]] = []
    total_gen: dict[tuple[str, str, int], float] = defaultdict(float)
    ox_of: dict[tuple[str, str, int], FactorValue] = {}
    rows_of = {k: v for k, v in by_series.items()}
    for (reg, cat, it), ddoc in generated.items():
        a, last_deposit = span[(reg, cat, it)]
        b = y1
        hist = rows_of[(reg, cat, it)]
        by_year = {int(r["year"]): r for r in hist}
        seen: dict[tuple[Any, ...], FactorValue] = {}
        for fv in fvs_of[(reg, cat, it)]:
            seen.setdefault((fv.item, fv.parameter, fv.category, fv.region, fv.year_from, fv.origin), fv)
        ad_unc = mean_uncertainty(r.get("uncertainty_pct") for r in hist)
        # the factors of the series are serialised once, not once per year
        series_factors = explain_json(f={f"{fv.item}.{fv.parameter}": fv for fv in seen.values()})[6:-1]
        cumulative = np.cumsum([by_year[y]["value"] if y in by_year else 0.0 for y in range(a, last_deposit + 1)])
        for yr in range(a, b + 1):
            try:
                f = factor(ctx, SWDS, "f", category=cat, region=reg, year=yr)
                ox = _oxidation(ctx, cat, reg, yr)
            except CarbonpeakError as exc:
                problems.append(problem(by_year.get(yr, hist[0]), "item", str(exc)))
                break
            ch4_gen = float(ddoc[yr - y0]) * to(f, "1") * C_TO_CH4
            total_gen[(reg, cat, yr)] += ch4_gen
            ox_of[(reg, cat, yr)] = ox
            this = by_year.get(yr)
            head = {
                "method": "solid_waste_disposal (IPCC first-order decay)",
                "formula": "CH4 = DDOCm_decomp x F x 16/12 x (1 - OX); DDOCm_d = W x DOC x DOCf x MCF; "
                           "decay exp(-k) per year after a delay (IPCC 2006 Vol 5 Ch 3 Eq 3.1-3.6)",
                "activity": activity_refs([this]) if this else [],
                "history": {"first_year": a, "last_year": last_deposit, "rows": len(hist),
                            "deposited_t_to_date": float(cumulative[min(yr, last_deposit) - a]),
                            "after_last_deposit": yr > last_deposit,
                            "file": str(hist[0].get("__file__"))},
                "ddocm_decomposed_t": float(ddoc[yr - y0]),
                "ch4_generated_t": ch4_gen,
            }
            out.append(
                {
                    "year": yr, "region": reg, "category": cat, "item": it, "gas": "CH4",
                    "mass_t": ch4_gen * (1.0 - to(ox, "1")), "scope": "territorial",
                    "ad_uncertainty_pct": ad_unc,
                    "ef_uncertainty_pct": combined_uncertainty([*seen.values(), f]),
                    "factor_key": f"{it}|CH4|{cat}",
                    "explain": splice_json(head, factors=series_factors, site_factors=_site_json(f, ox)),
                }
            )
    for rec in recovery:
        reg, cat, yr = rec["region"], rec["category"], int(rec["year"])
        gen = total_gen.get((reg, cat, yr))
        if gen is None:
            problems.append(problem(rec, "item", f"CH4 recovery in {reg} {yr} ({cat}) but no CH4 is generated there"))
            continue
        if rec["value"] > gen + _TOL:
            problems.append(problem(rec, "amount", f"CH4 recovered ({rec['value']:.1f} t) exceeds CH4 generated "
                                    f"({gen:.1f} t) in {reg} {yr} ({cat})"))
            continue
        ox = ox_of[(reg, cat, yr)]
        out.append(
            {
                "year": yr, "region": reg, "category": cat, "item": LANDFILL_RECOVERY, "gas": "CH4",
                "mass_t": -rec["value"] * (1.0 - to(ox, "1")), "scope": "territorial",
                "ad_uncertainty_pct": mean_uncertainty([rec.get("uncertainty_pct")]),
                "ef_uncertainty_pct": combined_uncertainty([ox]),
                "factor_key": f"{LANDFILL_RECOVERY}|CH4|{cat}",
                "explain": explain_later(method="solid_waste_disposal (recovery)",
                                        formula="CH4 = -R x (1 - OX) (IPCC 2006 Vol 5 Ch 3 Eq 3.1)",
                                        activity=activity_refs([rec]), factors={"ox": ox}),
            }
        )
    raise_if(problems)
    return to_result(out)


def _simple_rows(ctx: MethodContext, df: pd.DataFrame, kinds: tuple[str, ...], what: str, owner: str,
                 gases: tuple[str, ...], method: str) -> pd.DataFrame:
    df = prepare(df)
    problems = check_rows(df, kinds, what)
    mass, p2 = convert_amounts(df, "t", what + " (mass)")
    problems += p2
    raise_if(problems)
    df["value"] = mass
    out: list[dict[str, Any]] = []
    for rec in rows_with_file(df):
        cat, reg, yr = rec["category"], rec["region"], int(rec["year"])
        for gas in gases:
            try:
                ef = factor(ctx, owner or rec["item"], "ef", category=cat, region=reg, year=yr, gas=gas)
            except CarbonpeakError as exc:
                problems.append(problem(rec, "item", str(exc)))
                continue
            out.append(_out(rec, cat, gas, rec["value"] * to(ef, "t/t"), "territorial", [ef],
                            f"{owner or rec['item']}|{gas}|{cat}", method=method,
                            formula=f"{gas} [t] = M [t wet] x EF", factors={"ef": ef}))
    raise_if(problems)
    return to_result(out)


def _out(rec: dict[str, Any], cat: str, gas: str, mass: float, scope: str, fvs: list[FactorValue | None],
         key: str, **explain: Any) -> dict[str, Any]:
    return {
        "year": int(rec["year"]), "region": rec["region"], "category": cat, "item": rec["item"], "gas": gas,
        "mass_t": float(mass), "scope": scope,
        "ad_uncertainty_pct": mean_uncertainty([rec.get("uncertainty_pct")]),
        "ef_uncertainty_pct": combined_uncertainty(fvs), "factor_key": key,
        "explain": explain_later(activity=activity_refs([rec]), **explain),
    }


@register("biological_treatment", ("4.B",), "Biological treatment of solid waste CH4 and N2O (Vol 5 Ch 4)")
def biological_treatment(activity: pd.DataFrame, ctx: MethodContext) -> pd.DataFrame:
    """CH4 and N2O of composting and anaerobic digestion = M × EF (IPCC 2006 Vol 5 Ch 4 Eq 4.1, 4.2)."""
    return _simple_rows(ctx, activity, ("bio_treatment",), "biological treatment (4.B)", "", ("CH4", "N2O"),
                        "biological_treatment")


@register("waste_incineration", ("4.C.1",), "Waste incineration CO2 (fossil), CH4, N2O (Vol 5 Ch 5)")
def waste_incineration(activity: pd.DataFrame, ctx: MethodContext) -> pd.DataFrame:
    """Incineration: fossil CO2 counted, non-fossil CO2 reported as memo (IPCC 2006 Vol 5 Ch 5 Eq 5.1-5.5)."""
    df = prepare(activity)
    problems = check_rows(df, ("solid_waste",), "waste incineration (4.C.1)")
    mass, p2 = convert_amounts(df, "t", "waste incineration (mass)")
    problems += p2
    raise_if(problems)
    df["value"] = mass
    out: list[dict[str, Any]] = []
    for rec in rows_with_file(df):
        cat, reg, yr, it = rec["category"], rec["region"], int(rec["year"]), rec["item"]
        parts = _split_bulk(ctx, rec, problems) if it == BULK else {it: (rec["value"], None)}
        if not parts:
            continue
        fossil_c = bio_c = 0.0
        used: list[FactorValue] = []
        detail: dict[str, Any] = {}
        try:
            of = factor(ctx, INCINERATION, "of", category=cat, region=reg, year=yr)
            for comp, (w, share) in parts.items():
                dm = factor(ctx, comp, "dm", category=cat, region=reg, year=yr)
                cf = factor(ctx, comp, "cf", category=cat, region=reg, year=yr)
                fcf = factor(ctx, comp, "fcf", category=cat, region=reg, year=yr)
                c = w * to(dm, "1") * to(cf, "1") * to(of, "1")
                fossil_c += c * to(fcf, "1")
                bio_c += c * (1.0 - to(fcf, "1"))
                used += [dm, cf, fcf]
                detail[comp] = {"t": w, "share": share, "dm": dm, "cf": cf, "fcf": fcf}
            ch4 = factor(ctx, INCINERATION, "ef", category=cat, region=reg, year=yr, gas="CH4")
            n2o = factor(ctx, INCINERATION, "ef", category=cat, region=reg, year=yr, gas="N2O")
        except CarbonpeakError as exc:
            problems.append(problem(rec, "item", str(exc)))
            continue
        seen = list({(f.item, f.parameter): f for f in [*used, of]}.values())
        formula = "CO2 = SW x dm x CF x FCF x OF x 44/12 (Eq 5.1); non-fossil part to memo_biomass_co2"
        out.append(_out(rec, cat, "CO2", fossil_c * C_TO_CO2, "territorial", seen, f"{it}|CO2|{cat}",
                        method="waste_incineration", formula=formula, components=detail, factors={"of": of}))
        out.append(_out(rec, cat, "CO2", bio_c * C_TO_CO2, "memo_biomass_co2", seen, f"{it}|CO2bio|{cat}",
                        method="waste_incineration", formula=formula, components=detail, factors={"of": of}))
        out.append(_out(rec, cat, "CH4", rec["value"] * to(ch4, "t/t"), "territorial", [ch4],
                        f"{INCINERATION}|CH4|{cat}", method="waste_incineration",
                        formula="CH4 = SW x EF (Eq 5.4)", factors={"ef": ch4}))
        out.append(_out(rec, cat, "N2O", rec["value"] * to(n2o, "t/t"), "territorial", [n2o],
                        f"{INCINERATION}|N2O|{cat}", method="waste_incineration",
                        formula="N2O = SW x EF (Eq 5.5)", factors={"ef": n2o}))
    raise_if(problems)
    return to_result(out)


@register("wastewater", ("4.D",), "Wastewater CH4 (TOW x B0 x MCF - R) and effluent N2O (Vol 5 Ch 6)")
def wastewater(activity: pd.DataFrame, ctx: MethodContext) -> pd.DataFrame:
    """Domestic (4.D.1) and industrial (4.D.2) wastewater (IPCC 2006 Vol 5 Ch 6)."""
    df = prepare(activity)
    items = get_items()
    problems = check_rows(df, ("wastewater_bod", "wastewater_cod", "wastewater_n", "recovery"),
                          "wastewater (4.D)",
                          allowed_items=[i for i, v in items.items()
                                         if v.kind in ("wastewater_bod", "wastewater_cod", "wastewater_n")
                                         or i == WASTEWATER_RECOVERY])
    raise_if(problems)
    pop = (df["item"] == "population_wastewater").to_numpy()
    values = np.full(len(df), np.nan)
    for mask, target in ((pop, "person"), (~pop, "t")):
        if mask.any():
            v, p2 = convert_amounts(df[mask], target, "wastewater")
            values[mask] = v
            problems += p2
    raise_if(problems)
    df["value"] = values
    recs = rows_with_file(df)
    out: list[dict[str, Any]] = []
    ch4_total: dict[tuple[str, str, int], float] = defaultdict(float)
    recovery: list[dict[str, Any]] = []
    for rec in recs:
        it, cat, reg, yr = rec["item"], rec["category"], rec["region"], int(rec["year"])
        kind = items[it].kind
        want = {"wastewater_bod": "4.D.1", "wastewater_cod": "4.D.2", "wastewater_n": "4.D.1"}.get(kind)
        if want and not (cat == want or cat.startswith(want + ".")):
            problems.append(problem(rec, "category", f"'{it}' belongs under {want}, not {cat}"))
            continue
        try:
            if kind in ("wastewater_bod", "wastewater_cod"):
                bo = factor(ctx, it, "bo", category=cat, region=reg, year=yr, gas="CH4")
                mcf = factor(ctx, it, "mcf", category=cat, region=reg, year=yr)
                ch4 = rec["value"] * to(bo, "kg/kg") * to(mcf, "1")
                ch4_total[(reg, cat, yr)] += ch4
                out.append(_out(rec, cat, "CH4", ch4, "territorial", [bo, mcf], f"{it}|CH4|{cat}",
                                method="wastewater", formula="CH4 = TOW x B0 x MCF (Eq 6.1-6.2, 6.4-6.5)",
                                factors={"bo": bo, "mcf": mcf}))
            elif kind == "wastewater_n":
                ef = factor(ctx, it, "ef_effluent", category=cat, region=reg, year=yr, gas="N2O")
                if it == "population_wastewater":
                    prot = factor(ctx, it, "protein", category=cat, region=reg, year=yr)
                    fnpr = factor(ctx, it, "f_npr", category=cat, region=reg, year=yr)
                    fnc = factor(ctx, it, "f_non_con", category=cat, region=reg, year=yr)
                    fic = factor(ctx, it, "f_ind_com", category=cat, region=reg, year=yr)
                    n = rec["value"] * to(prot, "t/person/yr") * to(fnpr, "1") * to(fnc, "1") * to(fic, "1")
                    fvs: list[FactorValue] = [prot, fnpr, fnc, fic, ef]
                    formula = "N2O = P x Protein x F_NPR x F_NON-CON x F_IND-COM x EF x 44/28 (Eq 6.7-6.8)"
                else:
                    n = rec["value"]
                    fvs = [ef]
                    formula = "N2O = N_effluent x EF x 44/28 (Eq 6.7)"
                out.append(_out(rec, cat, "N2O", n * to(ef, "kg/kg") * N2O_N_TO_N2O, "territorial", fvs,
                                f"{it}|N2O|{cat}", method="wastewater", formula=formula,
                                factors={f.parameter: f for f in fvs}, n_effluent_t=n))
            else:
                recovery.append(rec)
        except CarbonpeakError as exc:
            problems.append(problem(rec, "item", str(exc)))
    for rec in recovery:
        reg, cat, yr = rec["region"], rec["category"], int(rec["year"])
        gen = ch4_total.get((reg, cat, yr), 0.0)
        if rec["value"] > gen + _TOL:
            problems.append(problem(rec, "amount", f"CH4 recovered ({rec['value']:.1f} t) exceeds CH4 generated "
                                    f"({gen:.1f} t) in {reg} {yr} ({cat})"))
            continue
        out.append(_out(rec, cat, "CH4", -rec["value"], "territorial", [], f"{WASTEWATER_RECOVERY}|CH4|{cat}",
                        method="wastewater (recovery)", formula="CH4 = -R (Eq 6.1)"))
    raise_if(problems)
    return to_result(out)
