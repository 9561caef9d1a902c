"""Agriculture (IPCC 2006 sector 3.A livestock and 3.C aggregate sources on land).

Methods (formulas and sources in ``docs/methods/afolu-waste.md``):

* ``enteric_fermentation`` (3.A.1): CH4 = N × EF (IPCC 2006 Vol 4 Ch 10 Eq 10.19, Tier 1).
* ``manure_management`` (3.A.2): CH4 = N × EF (Eq 10.22, Tier 1); direct N2O =
  N × Nex × Σ_S (MS_S × EF3_S) × 44/28 (Eq 10.25); indirect N2O (3.C.6 rows) =
  N × Nex × Σ_S (MS_S × FracGasMS_S) × EF4 × 44/28 (Eq 10.26-10.27).  Pasture and burned-for-fuel shares carry no
  3.A.2 N2O (they belong to 3.C.4 and 1.A).
* ``managed_soils_n2o`` (3.C.4, 3.C.5): direct N2O = F × EF1 × 44/28 (Ch 11 Eq 11.1, EF by input),
  indirect N2O = F × (Frac_GAS × EF4 + Frac_LEACH × EF5) × 44/28 (Eq 11.9, 11.10), returned as
  3.C.5 rows beside the 3.C.4 rows of the same inputs.
* ``rice_cultivation`` (3.C.7): CH4 = A × EF_season (provincial guideline, regional factors),
  or with option ``rice_method="ipcc"`` CH4 = A × t × EF_c × SF_w × SF_p × SF_o,
  SF_o = (1 + ROA × CFOA)^0.59 (IPCC 2006 Vol 4 Ch 5 Eq 5.1-5.3).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from carbonpeak.accounting.base import MethodContext, register
from carbonpeak.accounting.deferred import explain_later
from carbonpeak.accounting.methods._aw_common import (
    N2O_N_TO_N2O,
    activity_refs,
    check_rows,
    combined_uncertainty,
    convert_amounts,
    factor,
    latest_share_set,
    lookup,
    prepare,
    problem,
    raise_if,
    rows_with_file,
    to,
    to_result,
)
from carbonpeak.catalog.factors import FactorValue
from carbonpeak.catalog.items import get_items
from carbonpeak.errors import CarbonpeakError, Problem

#: Manure systems whose N2O is reported elsewhere (IPCC 2006 Vol 4 §10.5.2): pasture deposits in
#: 3.C.4 (F_PRP), dung burned for fuel in 1.A.
_NOT_IN_3A2 = ("mms_pasture", "mms_burned_fuel")

#: Indirect N2O of manure management is reported under its own code (IPCC 2006 Vol 1 Table 8.2).
_MANURE_INDIRECT = "3.C.6"

#: Exponent of the organic-amendment scaling factor, IPCC 2006 Vol 4 Ch 5 Eq 5.3 (a fitted
#: constant of the equation itself, not a default value).
_SFO_EXPONENT = 0.59


def _uncert(rec: dict[str, Any]) -> float:
    v = rec.get("uncertainty_pct")
    try:
        return float(v) if v is not None else float("nan")
    except (TypeError, ValueError):
        return float("nan")


def _row(rec: dict[str, Any], category: str, gas: str, mass_t: float, fvs: list[FactorValue | None],
         key: str, **explain: Any) -> dict[str, Any]:
    return {
        "year": int(rec["year"]),
        "region": rec["region"],
        "category": category,
        "item": rec["item"],
        "gas": gas,
        "mass_t": float(mass_t),
        "scope": "territorial",
        "ad_uncertainty_pct": _uncert(rec),
        "ef_uncertainty_pct": combined_uncertainty(fvs),
        "factor_key": key,
        "explain": explain_later(activity=activity_refs([rec]), **explain),
    }


def _heads(act: pd.DataFrame, kinds: tuple[str, ...], what: str) -> tuple[pd.DataFrame, list[Problem]]:
    df = prepare(act)
    problems = check_rows(df, kinds, what)
    heads, p2 = convert_amounts(df, "head", what + " (population in head)")
    problems += p2
    df["value"] = heads
    return df, problems


@register("enteric_fermentation", ("3.A.1",), "Enteric fermentation CH4, Tier 1 (IPCC 2006 Vol 4 Eq 10.19)")
def enteric_fermentation(activity: pd.DataFrame, ctx: MethodContext) -> pd.DataFrame:
    """Enteric fermentation CH4 = heads × EF (IPCC 2006 Vol 4 Ch 10 Eq 10.19-10.20, Tier 1)."""
    df, problems = _heads(activity, ("livestock",), "enteric fermentation (3.A.1)")
    raise_if(problems)
    out: list[dict[str, Any]] = []
    for rec in rows_with_file(df):
        cat, reg, yr = rec["category"], rec["region"], int(rec["year"])
        try:
            ef = factor(ctx, rec["item"], "ef", category=cat, region=reg, year=yr, gas="CH4")
            ef_t = to(ef, "t/head/yr")
        except CarbonpeakError as exc:
            problems.append(problem(rec, "item", str(exc)))
            continue
        out.append(
            _row(rec, cat, "CH4", rec["value"] * ef_t, [ef], f"{rec['item']}|CH4|{cat}",
                 method="enteric_fermentation", formula="CH4 [t] = N [head] x EF [t/head/yr]",
                 factors={"ef": ef})
        )
    raise_if(problems)
    return to_result(out)


def _manure_systems() -> list[str]:
    return sorted(k for k, v in get_items().items() if v.kind == "manure_system")


@register("manure_management", ("3.A.2",), "Manure management CH4 (Tier 1), direct N2O (Eq 10.25), indirect N2O (3.C.6)")
def manure_management(activity: pd.DataFrame, ctx: MethodContext) -> pd.DataFrame:
    """Manure management CH4 and direct N2O (IPCC 2006 Vol 4 Ch 10 Eq 10.22 and 10.25), and the indirect
    N2O of the N volatilised from the systems (Eq 10.26-10.27), returned as 3.C.6 rows.  Leaching
    losses (Eq 10.28-10.29) are not estimated: IPCC 2006 gives no default FracLeachMS.

    System shares are factor rows ``ms_share.<system>`` of the livestock item (see the docs);
    shares may add to less than 1, never to more.  The latest factor file giving any share of a
    livestock replaces the whole default set.
    """
    df, problems = _heads(activity, ("livestock",), "manure management (3.A.2)")
    raise_if(problems)
    systems = _manure_systems()
    out: list[dict[str, Any]] = []
    for rec in rows_with_file(df):
        cat, reg, yr, it = rec["category"], rec["region"], int(rec["year"]), rec["item"]
        try:
            ef = factor(ctx, it, "ef", category=cat, region=reg, year=yr, gas="CH4")
            ch4 = rec["value"] * to(ef, "t/head/yr")
            nex = factor(ctx, it, "nex", category=cat, region=reg, year=yr)
            nex_t = to(nex, "t/head/yr")
        except CarbonpeakError as exc:
            problems.append(problem(rec, "item", str(exc)))
            continue
        shares: dict[str, FactorValue] = {}
        for s in systems:
            fv = lookup(ctx, it, f"ms_share.{s}", category=cat, region=reg, year=yr)
            if fv is not None:
                shares[s] = fv
        shares = latest_share_set(shares, ctx.factors.override_files)
        if not shares:
            problems.append(problem(rec, "item", f"no manure-management-system shares (factor 'ms_share.<system>') "
                                    f"for '{it}'; add them with --factors FILE"))
            continue
        total_share = sum(to(fv, "1") for fv in shares.values())
        if total_share > 1.0 + 1e-6 or any(fv.value < 0 for fv in shares.values()):
            problems.append(problem(rec, "item", f"manure-system shares of '{it}' add to {total_share:.4f} "
                                    "(must be between 0 and 1)"))
            continue
        n_managed = 0.0
        n2o_n = 0.0
        n_volatilised = 0.0
        used: list[FactorValue | None] = [nex]
        used_ind: list[FactorValue | None] = [nex]
        parts: dict[str, Any] = {}
        icat = _MANURE_INDIRECT
        for s, sh in shares.items():
            if s in _NOT_IN_3A2 or sh.value == 0:
                continue
            try:
                ef3 = factor(ctx, s, "ef3", category=cat, region=reg, year=yr, gas="N2O")
                fgas = factor(ctx, it, f"frac_gas_ms.{s}", category=icat, region=reg, year=yr)
            except CarbonpeakError as exc:
                problems.append(problem(rec, "item", str(exc)))
                continue
            n_sys = rec["value"] * nex_t * to(sh, "1")
            n_managed += n_sys
            n2o_n += n_sys * to(ef3, "kg/kg")
            n_volatilised += n_sys * to(fgas, "1")
            used.append(ef3)
            used_ind.append(fgas)
            parts[s] = {"share": sh, "ef3": ef3, "frac_gas_ms": fgas, "n_t": n_sys}
        try:
            ef4 = factor(ctx, it, "ef4", category=icat, region=reg, year=yr, gas="N2O")
        except CarbonpeakError as exc:
            problems.append(problem(rec, "item", str(exc)))
            continue
        out.append(
            _row(rec, cat, "CH4", ch4, [ef], f"{it}|CH4|{cat}", method="manure_management",
                 formula="CH4 [t] = N [head] x EF [t/head/yr]", factors={"ef": ef})
        )
        out.append(
            _row(rec, cat, "N2O", n2o_n * N2O_N_TO_N2O, used, f"{it}|N2O|{cat}", method="manure_management",
                 formula="N2O [t] = N [head] x Nex [t N/head/yr] x sum_S(MS_S x EF3_S) x 44/28",
                 factors={"nex": nex}, systems=parts, managed_n_t=n_managed)
        )
        out.append(
            _row(rec, icat, "N2O", n_volatilised * to(ef4, "kg/kg") * N2O_N_TO_N2O, [*used_ind, ef4],
                 f"{it}|N2O|{icat}", method="manure_management (indirect, volatilisation)",
                 formula="N2O [t] = N x Nex x sum_S(MS_S x FracGasMS_S) x EF4 x 44/28 (Eq 10.26-10.27)",
                 factors={"nex": nex, "ef4": ef4}, systems=parts, volatilised_n_t=n_volatilised)
        )
    raise_if(problems)
    return to_result(out)


def _indirect_category(cat: str) -> str:
    """3.C.4 inputs → their indirect emissions are reported under 3.C.5."""
    return "3.C.5" if cat == "3.C.4" or cat.startswith("3.C.4.") else cat


@register("managed_soils_n2o", ("3.C.4", "3.C.5"), "Direct and indirect N2O from managed soils (Eq 11.1, 11.9, 11.10)")
def managed_soils_n2o(activity: pd.DataFrame, ctx: MethodContext) -> pd.DataFrame:
    """N2O from managed soils (IPCC 2006 Vol 4 Ch 11).

    Rows under 3.C.4 give direct N2O (3.C.4) and the indirect N2O of the same N (3.C.5); rows under
    3.C.5 give indirect N2O only.  ``amount`` is the mass of nitrogen.
    """
    df = prepare(activity)
    problems = check_rows(df, ("nitrogen_input",), "managed soils (3.C.4/3.C.5)")
    n_t, p2 = convert_amounts(df, "t", "managed soils (mass of N)")
    problems += p2
    raise_if(problems)
    df["value"] = n_t
    recs = rows_with_file(df)
    out: list[dict[str, Any]] = []
    indirect: dict[tuple[int, str, str, str], dict[str, Any]] = {}
    for rec in recs:
        cat, reg, yr, it = rec["category"], rec["region"], int(rec["year"]), rec["item"]
        n = rec["value"]
        direct = cat == "3.C.4" or cat.startswith("3.C.4.")
        try:
            if direct:
                ef1 = factor(ctx, it, "ef_direct", category=cat, region=reg, year=yr, gas="N2O")
                out.append(
                    _row(rec, cat, "N2O", n * to(ef1, "kg/kg") * N2O_N_TO_N2O, [ef1], f"{it}|N2O|{cat}",
                         method="managed_soils_n2o", formula="N2O [t] = F_N [t N] x EF1 x 44/28 (Eq 11.1)",
                         factors={"ef1": ef1})
                )
            icat = _indirect_category(cat)
            fg = factor(ctx, it, "frac_gas", category=icat, region=reg, year=yr)
            fl = factor(ctx, it, "frac_leach", category=icat, region=reg, year=yr)
            ef4 = factor(ctx, it, "ef4", category=icat, region=reg, year=yr, gas="N2O")
            ef5 = factor(ctx, it, "ef5", category=icat, region=reg, year=yr, gas="N2O")
        except CarbonpeakError as exc:
            problems.append(problem(rec, "item", str(exc)))
            continue
        atd = n * to(fg, "1") * to(ef4, "kg/kg")
        leach = n * to(fl, "1") * to(ef5, "kg/kg")
        key = (yr, reg, icat, it)
        if key in indirect:
            acc = indirect[key]
            acc["atd"] += atd
            acc["leach"] += leach
            acc["recs"].append(rec)
        else:
            indirect[key] = {"atd": atd, "leach": leach, "recs": [rec], "fvs": [fg, fl, ef4, ef5]}
    for (yr, reg, icat, it), acc in indirect.items():
        fg, fl, ef4, ef5 = acc["fvs"]
        # volatilisation and leaching pathways are added; uncertainty: the larger path dominates
        unc_atd = combined_uncertainty([fg, ef4])
        unc_l = combined_uncertainty([fl, ef5])
        tot = acc["atd"] + acc["leach"]
        unc = (
            float(np.sqrt(np.nansum([(acc["atd"] * unc_atd) ** 2, (acc["leach"] * unc_l) ** 2])) / tot)
            if tot > 0 else float("nan")
        )
        out.append(
            {
                "year": yr, "region": reg, "category": icat, "item": it, "gas": "N2O",
                "mass_t": tot * N2O_N_TO_N2O, "scope": "territorial",
                "ad_uncertainty_pct": float(np.nanmean([_uncert(r) for r in acc["recs"]]))
                if any(np.isfinite(_uncert(r)) for r in acc["recs"]) else float("nan"),
                "ef_uncertainty_pct": unc,
                "factor_key": f"{it}|N2O|{icat}",
                "explain": explain_later(
                    method="managed_soils_n2o",
                    formula="N2O [t] = F_N x (Frac_GAS x EF4 + Frac_LEACH x EF5) x 44/28 (Eq 11.9, 11.10)",
                    activity=activity_refs(acc["recs"]),
                    factors={"frac_gas": fg, "frac_leach": fl, "ef4": ef4, "ef5": ef5},
                    volatilisation_n2o_n_t=acc["atd"], leaching_n2o_n_t=acc["leach"],
                ),
            }
        )
    raise_if(problems)
    return to_result(out)


@register("rice_cultivation", ("3.C.7",), "Rice cultivation CH4 (provincial guideline factors or IPCC Eq 5.1)")
def rice_cultivation(activity: pd.DataFrame, ctx: MethodContext) -> pd.DataFrame:
    """Rice CH4 = area × seasonal EF (provincial guideline), or the IPCC scaling-factor method
    (option ``rice_method="ipcc"``, IPCC 2006 Vol 4 Ch 5 Eq 5.1-5.3)."""
    df = prepare(activity)
    problems = check_rows(df, ("rice_season",), "rice cultivation (3.C.7)")
    ha, p2 = convert_amounts(df, "ha", "rice cultivation (harvested area)")
    problems += p2
    raise_if(problems)
    df["value"] = ha
    method = str(ctx.options.get("rice_method", "guideline")).lower()
    if method not in ("guideline", "ipcc"):
        raise CarbonpeakError(f"option rice_method must be 'guideline' or 'ipcc', not '{method}'")
    out: list[dict[str, Any]] = []
    for rec in rows_with_file(df):
        cat, reg, yr, it = rec["category"], rec["region"], int(rec["year"]), rec["item"]
        try:
            if method == "guideline":
                ef = factor(ctx, it, "ef_season", category=cat, region=reg, year=yr, gas="CH4")
                mass = rec["value"] * to(ef, "t/ha")
                out.append(_row(rec, cat, "CH4", mass, [ef], f"{it}|CH4|{cat}", method="rice_cultivation",
                                formula="CH4 [t] = A [ha] x EF_season [t/ha]", factors={"ef_season": ef}))
            else:
                efc = factor(ctx, it, "efc", category=cat, region=reg, year=yr, gas="CH4")
                days = factor(ctx, it, "cultivation_days", category=cat, region=reg, year=yr)
                sfw = factor(ctx, it, "sf_w", category=cat, region=reg, year=yr)
                sfp = factor(ctx, it, "sf_p", category=cat, region=reg, year=yr)
                roa = factor(ctx, it, "oa_rate", category=cat, region=reg, year=yr)
                cfoa = factor(ctx, it, "cfoa", category=cat, region=reg, year=yr)
                sfo = (1.0 + to(roa, "t/ha") * to(cfoa, "1")) ** _SFO_EXPONENT
                ef_daily = to(efc, "t/ha/d") * to(sfw, "1") * to(sfp, "1") * sfo
                mass = rec["value"] * ef_daily * to(days, "d")
                out.append(_row(rec, cat, "CH4", mass, [efc, sfw, sfp, days], f"{it}|CH4|{cat}|ipcc",
                                method="rice_cultivation (IPCC scaling factors)",
                                formula="CH4 [t] = A x t x EFc x SFw x SFp x (1 + ROA x CFOA)^0.59 (Eq 5.1-5.3)",
                                factors={"efc": efc, "cultivation_days": days, "sf_w": sfw, "sf_p": sfp,
                                         "oa_rate": roa, "cfoa": cfoa}, sf_o=sfo))
        except CarbonpeakError as exc:
            problems.append(problem(rec, "item", str(exc)))
    raise_if(problems)
    return to_result(out)
