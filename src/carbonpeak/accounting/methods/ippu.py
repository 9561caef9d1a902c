"""Industrial processes and product use (IPCC 2006 Vol 3).  Formulas, tiers and sources:
``docs/methods/ippu.md``; factors: ``catalog/data/factors/ippu.csv``; items:
``catalog/data/items/ippu.yaml``.

The item of an activity row selects the formula (and so the tier):

=========================  ===========================================================  ========
category / item            emission                                                     source
=========================  ===========================================================  ========
2.A.1 ``clinker``          Tier 2: ``CO2 = M_cl × EF_cl × CF_ckd``                      Eq 2.2
2.A.1 ``cement``           Tier 1: ``CO2 = (M_cem × C_cl − Im + Ex) × EF_clc``          Eq 2.1
                           (``clinker_imported``/``clinker_exported`` rows fold in)
2.A.2 ``lime*``            ``CO2 = M_lime × EF_type``                                   Eq 2.5/2.6
2.A.3 ``glass``            Tier 1: ``CO2 = M_glass × EF × (1 − CR)``                    Eq 2.11
2.A.3/2.A.4/2.C.1          ``CO2 = M_carbonate × EF_carbonate × F_calcination``         Eq 2.14
  carbonates
2.A.4 ``clay_ceramics``    ``CO2 = M_clay × CC × (s × EF_ls + (1 − s) × EF_dol)``       §2.5.1.1
2.C.1 steel routes         Tier 1: ``CO2 = M × EF_route`` (+ CH4 for sinter)            Eq 4.1
2.B.8 ``ethylene_*``       Tier 1: ``CO2, CH4 = M_ethylene × EF_feedstock``             Eq 3.15
2.B.9 ``hcfc22``           Tier 1: ``HFC-23 = P × EF × (1 − DF) − D_destroyed``         Eq 3.30
2.G.1 ``sf6_bank``         Tier 1: ``SF6 = bank × emission rate``                       §8.2
2.G.1 mass balance         ``SF6 = (S_start − S_end) + acquired − disbursed             §8.2
                           − (nameplate_new − nameplate_retired)``
=========================  ===========================================================  ========

Every result row carries the activity uncertainty of its row(s), the factor uncertainty of the
product of its factors (IPCC 2006 Vol 1 Ch 3 Eq 3.1; a factor without one counts as 0 unless
it is the principal factor, then the row is left blank for the sector default), a
``factor_key`` naming the factors used (rows sharing it are fully correlated in the Monte
Carlo) and an ``explain`` record.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from carbonpeak.accounting.base import RESULT_COLUMNS, MethodContext, empty_result, register
from carbonpeak.accounting.deferred import explain_later
from carbonpeak.accounting.resolve import _conv
from carbonpeak.catalog.factors import FactorValue
from carbonpeak.errors import CarbonpeakError, Problem, ValidationError

CARBONATES = ("limestone", "dolomite", "magnesite", "siderite", "soda_ash")
LIME_ITEMS = ("lime", "lime_high_calcium", "lime_dolomitic", "lime_hydraulic")
STEEL_ITEMS = ("crude_steel_bof", "crude_steel_eaf", "crude_steel_ohf", "pig_iron", "dri", "sinter", "pellet")
ETHYLENE_ITEMS = (
    "ethylene_naphtha",
    "ethylene_gas_oil",
    "ethylene_ethane",
    "ethylene_propane",
    "ethylene_butane",
    "ethylene_other",
)
SF6_BALANCE_SIGNS = {
    "sf6_storage_start": 1.0,
    "sf6_storage_end": -1.0,
    "sf6_acquired": 1.0,
    "sf6_disbursed": -1.0,
    "sf6_nameplate_new": -1.0,
    "sf6_nameplate_retired": 1.0,
}


# --------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------


@dataclass
class _Row:
    """One activity row, its amount in t and where it came from."""

    year: int
    region: str
    category: str
    item: str
    amount_t: float
    uncertainty_pct: float
    file: str
    row: int | None
    amount: float
    unit: str

    def where(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "row": self.row,
            "item": self.item,
            "amount": self.amount,
            "unit": self.unit,
            "amount_t": self.amount_t,
        }

    def problem(self, field_: str, message: str) -> Problem:
        return Problem(self.file, self.row, field_, message)


@dataclass
class _Out:
    """Result rows being built, and the problems found."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def add(
        self,
        r: _Row,
        gas: str,
        mass_t: float,
        ad_u: float,
        factors: dict[str, FactorValue],
        principal: str,
        formula: str,
        tier: str,
        method: str,
        item: str | None = None,
        activity: Iterable[_Row] | None = None,
    ) -> None:
        acts = list(activity) if activity is not None else [r]
        self.rows.append(
            {
                "year": r.year,
                "region": r.region,
                "category": r.category,
                "item": item or r.item,
                "gas": gas,
                "mass_t": float(mass_t),
                "scope": "territorial",
                "ad_uncertainty_pct": ad_u,
                "ef_uncertainty_pct": _product_uncertainty(factors, principal),
                "factor_key": _factor_key(factors, principal, gas),
                "explain": explain_later(
                    method=method,
                    tier=tier,
                    formula=formula,
                    gas=gas,
                    mass_t=float(mass_t),
                    **_activity_parts([a.where() for a in acts]),
                    factors=factors,
                ),
            }
        )


def _activity_parts(refs: list[dict[str, Any]]) -> dict[str, Any]:
    """``activity``: the main activity row (a dict, as every method writes it); ``activity_more``:
    the other rows folded into the same figure (clinker trade, HFC-23 destroyed, SF6 balance)."""
    out: dict[str, Any] = {"activity": refs[0]}
    if len(refs) > 1:
        out["activity_more"] = refs[1:]
    return out


def _product_uncertainty(factors: dict[str, FactorValue], principal: str) -> float:
    """Eq 3.1 over the factors of a product; ``cullet_ratio``/``destruction_fraction`` enter as (1 − x)."""
    pf = factors.get(principal)
    if pf is None or pf.uncertainty_pct is None:
        return math.nan
    total = 0.0
    for name, fv in factors.items():
        if fv.uncertainty_pct is None:
            continue
        u = fv.uncertainty_pct
        if name in ("cullet_ratio", "destruction_fraction") and fv.value < 1:
            u = u * fv.value / (1.0 - fv.value)  # relative uncertainty of (1 − x)
        total += u * u
    return math.sqrt(total)


def _factor_key(factors: dict[str, FactorValue], principal: str, gas: str) -> str:
    pf = factors[principal]
    parts = [pf.item, gas, pf.category or "*"]
    if pf.region:
        parts.append(pf.region)
    if pf.year_from is not None or pf.year_to is not None:
        parts.append(f"{pf.year_from or ''}-{pf.year_to or ''}")
    key = "|".join(parts) + "|" + "*".join(sorted(f"{k}={v.item}" for k, v in factors.items()))
    origins = sorted({Path(v.origin).name for v in factors.values() if v.overridden})
    if origins:
        key += "@" + ",".join(origins)
    return key


def _combine_ad(parts: list[tuple[float, float]], net: float) -> float:
    """AD uncertainty of a signed sum (Eq 3.2); NaN when the main part has none."""
    if not parts or math.isnan(parts[0][1]) or net == 0:
        return math.nan
    main_u = parts[0][1]
    var = sum((x * (main_u if math.isnan(u) else u)) ** 2 for x, u in parts)
    return math.sqrt(var) / abs(net)


def _rows(activity: pd.DataFrame) -> tuple[list[_Row], list[Problem]]:
    rows: list[_Row] = []
    problems: list[Problem] = []
    df = activity.reset_index(drop=True)
    files = df["__file__"] if "__file__" in df.columns else pd.Series(["<data>"] * len(df))
    rownos = df["__row__"] if "__row__" in df.columns else pd.Series(np.arange(2, 2 + len(df)))
    unc = (
        pd.to_numeric(df["uncertainty_pct"], errors="coerce").astype(float)
        if "uncertainty_pct" in df.columns
        else pd.Series([np.nan] * len(df))
    ).to_numpy()
    amounts = pd.to_numeric(df["amount"], errors="coerce").astype(float).to_numpy()
    factors: dict[str, float | None] = {}
    # plain Python lists: one conversion per column instead of an .iloc per cell
    units_l, files_l, rownos_l = df["unit"].tolist(), files.tolist(), rownos.tolist()
    years_l, regions_l = df["year"].tolist(), df["region"].tolist()
    cats_l, items_l = df["category"].tolist(), df["item"].tolist()
    for i in range(len(df)):
        unit = str(units_l[i])
        file = str(files_l[i])
        rn = rownos_l[i]
        rown = int(rn) if rn is not None and not (isinstance(rn, float) and math.isnan(rn)) else None
        if unit not in factors:
            try:
                factors[unit] = _conv(unit, "t")
            except CarbonpeakError:
                factors[unit] = None
        f = factors[unit]
        amount = float(amounts[i])
        if f is None:
            problems.append(
                Problem(file, rown, "unit", f"unit '{unit}' is not a mass; IPPU activity is in t")
            )
            continue
        if not math.isfinite(amount) or amount < 0:
            problems.append(Problem(file, rown, "amount", f"must be a non-negative number: '{amount}'"))
            continue
        u = unc[i]
        rows.append(
            _Row(
                year=int(years_l[i]),
                region=str(regions_l[i]),
                category=str(cats_l[i]),
                item=str(items_l[i]),
                amount_t=amount * f,
                uncertainty_pct=float(u),
                file=file,
                row=rown,
                amount=amount,
                unit=unit,
            )
        )
    return rows, problems


def _factor(
    ctx: MethodContext, r: _Row, item: str, parameter: str, out: _Out, gas: str = "", unit: str = ""
) -> FactorValue | None:
    fv = ctx.factors.lookup(item, parameter, category=r.category, gas=gas, region=r.region, year=r.year)
    if fv is None:
        out.problems.append(
            r.problem(
                "item",
                f"no factor '{parameter}'{f' ({gas})' if gas else ''} for '{item}' in {r.category}, "
                f"{r.region} {r.year}; add one with --factors FILE",
            )
        )
        return None
    if unit:
        try:
            _conv(fv.unit, unit)
        except CarbonpeakError:
            out.problems.append(
                r.problem("item", f"factor '{parameter}' of '{item}' is in '{fv.unit}', expected '{unit}'")
            )
            return None
    return fv


def _val(fv: FactorValue, unit: str) -> float:
    return fv.value * _conv(fv.unit, unit)  # = fv.to(unit), through the conversion cache


def _unknown(r: _Row, allowed: Iterable[str], out: _Out, what: str) -> None:
    out.problems.append(
        r.problem(
            "item", f"'{r.item}' is not an item of {what} ({r.category}); use one of: {', '.join(allowed)}"
        )
    )


def _finish(out: _Out) -> pd.DataFrame:
    if out.problems:
        raise ValidationError(out.problems)
    if not out.rows:
        return empty_result()
    return pd.DataFrame(out.rows, columns=list(RESULT_COLUMNS))


def _by_region_year(rows: list[_Row]) -> dict[tuple[int, str, str], list[_Row]]:
    grp: dict[tuple[int, str, str], list[_Row]] = defaultdict(list)
    for r in rows:
        grp[(r.year, r.region, r.category)].append(r)
    return grp


# --------------------------------------------------------------------------------------
# carbonates (shared by 2.A.3, 2.A.4 and 2.C.1)
# --------------------------------------------------------------------------------------


def _carbonate(r: _Row, ctx: MethodContext, out: _Out, method: str) -> None:
    """Eq 2.14: CO2 = M × EF × F (stoichiometric EF, F the calcination fraction)."""
    ef = _factor(ctx, r, r.item, "ef", out, gas="CO2", unit="tCO2/t")
    frac = _factor(ctx, r, r.item, "calcination_fraction", out, unit="1")
    if ef is None or frac is None:
        return
    mass = r.amount_t * _val(ef, "tCO2/t") * _val(frac, "1")
    out.add(
        r,
        "CO2",
        mass,
        r.uncertainty_pct,
        {"ef": ef, "calcination_fraction": frac},
        "ef",
        "CO2 = M_carbonate × EF_carbonate × F_calcination (IPCC 2006 Vol 3 Eq 2.14)",
        "Tier 1/3 carbonate input",
        method,
    )


def _clay(r: _Row, ctx: MethodContext, out: _Out, method: str) -> None:
    """Ceramics Tier 1: carbonate = clay × carbonate content, 85 % limestone / 15 % dolomite."""
    cc = _factor(ctx, r, "clay_ceramics", "carbonate_content", out, unit="1")
    share = _factor(ctx, r, "clay_ceramics", "limestone_share", out, unit="1")
    ef_ls = _factor(ctx, r, "limestone", "ef", out, gas="CO2", unit="tCO2/t")
    ef_d = _factor(ctx, r, "dolomite", "ef", out, gas="CO2", unit="tCO2/t")
    if cc is None or share is None or ef_ls is None or ef_d is None:
        return
    s = _val(share, "1")
    ef_mix = s * _val(ef_ls, "tCO2/t") + (1 - s) * _val(ef_d, "tCO2/t")
    mass = r.amount_t * _val(cc, "1") * ef_mix
    out.add(
        r,
        "CO2",
        mass,
        r.uncertainty_pct,
        {"carbonate_content": cc, "limestone_share": share, "ef_limestone": ef_ls, "ef_dolomite": ef_d},
        "carbonate_content",
        "CO2 = M_clay × CC × (s × EF_limestone + (1 − s) × EF_dolomite) (IPCC 2006 Vol 3 §2.5.1.1, Eq 2.14)",
        "Tier 1 ceramics",
        method,
    )


# --------------------------------------------------------------------------------------
# methods
# --------------------------------------------------------------------------------------


@register("ippu_cement", ("2.A.1",), "Cement production CO2 (IPCC 2006 Vol 3 Ch 2 §2.2)")
def cement(activity: pd.DataFrame, ctx: MethodContext) -> pd.DataFrame:
    """Cement: Tier 2 from clinker output, Tier 1 from cement output and the clinker fraction."""
    rows, problems = _rows(activity)
    out = _Out(problems=problems)
    allowed = ("clinker", "cement", "clinker_imported", "clinker_exported")
    for (_y, _reg, _cat), grp in _by_region_year(rows).items():
        items = {r.item: r for r in grp}
        for r in grp:
            if r.item not in allowed:
                _unknown(r, allowed, out, "cement production")
        if "clinker" in items and "cement" in items:
            r = items["cement"]
            out.problems.append(
                r.problem(
                    "item",
                    "both clinker (Tier 2) and cement (Tier 1) given for this region and year: "
                    "report one of them, not both (double counting)",
                )
            )
            continue
        if "clinker" in items:
            r = items["clinker"]
            ef = _factor(ctx, r, "clinker", "ef", out, gas="CO2", unit="tCO2/t")
            ckd = _factor(ctx, r, "clinker", "cf_ckd", out, unit="1")
            for extra in ("clinker_imported", "clinker_exported"):
                if extra in items:
                    out.problems.append(
                        items[extra].problem(
                            "item", f"{extra} belongs to Tier 1 (cement); with clinker output omit it"
                        )
                    )
            if ef is None or ckd is None:
                continue
            mass = r.amount_t * _val(ef, "tCO2/t") * _val(ckd, "1")
            out.add(
                r,
                "CO2",
                mass,
                r.uncertainty_pct,
                {"ef": ef, "cf_ckd": ckd},
                "ef",
                "CO2 = M_clinker × EF_clinker × CF_ckd (IPCC 2006 Vol 3 Eq 2.2)",
                "Tier 2",
                "ippu_cement",
            )
        elif "cement" in items:
            r = items["cement"]
            cf = _factor(ctx, r, "cement", "clinker_fraction", out, unit="1")
            ef = _factor(ctx, r, "clinker", "ef_clc", out, gas="CO2", unit="tCO2/t")
            if cf is None or ef is None:
                continue
            clinker = r.amount_t * _val(cf, "1")
            parts = [(clinker, r.uncertainty_pct)]
            net = clinker
            acts = [r]
            if "clinker_imported" in items:
                im = items["clinker_imported"]
                net -= im.amount_t
                parts.append((-im.amount_t, im.uncertainty_pct))
                acts.append(im)
            if "clinker_exported" in items:
                ex = items["clinker_exported"]
                net += ex.amount_t
                parts.append((ex.amount_t, ex.uncertainty_pct))
                acts.append(ex)
            if net < 0:
                out.problems.append(
                    r.problem(
                        "amount",
                        f"clinker implied by cement less imports plus exports is negative ({net:g} t)",
                    )
                )
                continue
            # the clinker fraction is a (shared) factor: its uncertainty goes with EF_clc (Eq 3.1)
            out.add(
                r,
                "CO2",
                net * _val(ef, "tCO2/t"),
                _combine_ad(parts, net),
                {"ef_clc": ef, "clinker_fraction": cf},
                "ef_clc",
                "CO2 = (M_cement × C_clinker − Im + Ex) × EF_clc (IPCC 2006 Vol 3 Eq 2.1)",
                "Tier 1",
                "ippu_cement",
                activity=acts,
            )
        else:
            for r in grp:
                if r.item in ("clinker_imported", "clinker_exported"):
                    out.problems.append(
                        r.problem("item", f"{r.item} needs a cement row for the same region and year")
                    )
    return _finish(out)


@register("ippu_lime", ("2.A.2",), "Lime production CO2 (IPCC 2006 Vol 3 Ch 2 §2.3)")
def lime(activity: pd.DataFrame, ctx: MethodContext) -> pd.DataFrame:
    """Lime by type: CO2 = M_lime × EF_lime,type (Tier 1 mix for ``lime`` of unknown type)."""
    rows, problems = _rows(activity)
    out = _Out(problems=problems)
    for r in rows:
        if r.item not in LIME_ITEMS:
            _unknown(r, LIME_ITEMS, out, "lime production")
            continue
        ef = _factor(ctx, r, r.item, "ef", out, gas="CO2", unit="tCO2/t")
        if ef is None:
            continue
        out.add(
            r,
            "CO2",
            r.amount_t * _val(ef, "tCO2/t"),
            r.uncertainty_pct,
            {"ef": ef},
            "ef",
            "CO2 = M_lime × EF_lime (IPCC 2006 Vol 3 Eq 2.5/2.6)",
            "Tier 1" if r.item == "lime" else "Tier 2 (by lime type)",
            "ippu_lime",
        )
    return _finish(out)


@register("ippu_glass", ("2.A.3",), "Glass production CO2 (IPCC 2006 Vol 3 Ch 2 §2.4)")
def glass(activity: pd.DataFrame, ctx: MethodContext) -> pd.DataFrame:
    """Glass: Tier 1 from glass melted and the cullet ratio, or Tier 3 from the carbonates used."""
    rows, problems = _rows(activity)
    out = _Out(problems=problems)
    allowed = ("glass", *CARBONATES)
    for (_y, _reg, _cat), grp in _by_region_year(rows).items():
        has_glass = any(r.item == "glass" for r in grp)
        has_carb = any(r.item in CARBONATES for r in grp)
        if has_glass and has_carb:
            r = next(r for r in grp if r.item == "glass")
            out.problems.append(
                r.problem("item", "glass output (Tier 1) and carbonate inputs (Tier 3) both given: use one")
            )
            continue
        for r in grp:
            if r.item == "glass":
                ef = _factor(ctx, r, "glass", "ef", out, gas="CO2", unit="tCO2/t")
                cr = _factor(ctx, r, "glass", "cullet_ratio", out, unit="1")
                if ef is None or cr is None:
                    continue
                mass = r.amount_t * _val(ef, "tCO2/t") * (1.0 - _val(cr, "1"))
                out.add(
                    r,
                    "CO2",
                    mass,
                    r.uncertainty_pct,
                    {"ef": ef, "cullet_ratio": cr},
                    "ef",
                    "CO2 = M_glass × EF × (1 − CR) (IPCC 2006 Vol 3 Eq 2.11)",
                    "Tier 1",
                    "ippu_glass",
                )
            elif r.item in CARBONATES:
                _carbonate(r, ctx, out, "ippu_glass")
            else:
                _unknown(r, allowed, out, "glass production")
    return _finish(out)


@register("ippu_carbonates", ("2.A.4",), "Other process uses of carbonates CO2 (IPCC 2006 Vol 3 Ch 2 §2.5)")
def carbonates(activity: pd.DataFrame, ctx: MethodContext) -> pd.DataFrame:
    """Ceramics, other uses of soda ash, magnesia and other carbonate use (Eq 2.14)."""
    rows, problems = _rows(activity)
    out = _Out(problems=problems)
    allowed = (*CARBONATES, "clay_ceramics")
    for r in rows:
        if r.item in CARBONATES:
            _carbonate(r, ctx, out, "ippu_carbonates")
        elif r.item == "clay_ceramics":
            _clay(r, ctx, out, "ippu_carbonates")
        else:
            _unknown(r, allowed, out, "carbonate use")
    return _finish(out)


@register("ippu_iron_steel", ("2.C.1",), "Iron and steel production (IPCC 2006 Vol 3 Ch 4 §4.2)")
def iron_steel(activity: pd.DataFrame, ctx: MethodContext) -> pd.DataFrame:
    """Tier 1 by route (CO2 = M × EF_route; CH4 from sinter) and carbonate fluxes (Eq 2.14)."""
    rows, problems = _rows(activity)
    out = _Out(problems=problems)
    fluxes = ("limestone", "dolomite", "magnesite", "siderite")
    allowed = (*STEEL_ITEMS, *fluxes)
    for r in rows:
        if r.item in STEEL_ITEMS:
            for gas, unit in (("CO2", "tCO2/t"), ("CH4", "t/t")):
                fv = ctx.factors.lookup(
                    r.item, "ef", category=r.category, gas=gas, region=r.region, year=r.year
                )
                if fv is None:
                    if gas == "CO2":
                        _factor(ctx, r, r.item, "ef", out, gas="CO2")  # records the problem
                    continue
                try:
                    value = fv.to(unit)
                except CarbonpeakError:
                    out.problems.append(
                        r.problem("item", f"factor ef ({gas}) of '{r.item}' has unit '{fv.unit}'")
                    )
                    continue
                out.add(
                    r,
                    gas,
                    r.amount_t * value,
                    r.uncertainty_pct,
                    {"ef": fv},
                    "ef",
                    f"{gas} = M × EF_{r.item} (IPCC 2006 Vol 3 Eq 4.1 / Table 4.1-4.2)",
                    "Tier 1",
                    "ippu_iron_steel",
                )
        elif r.item in fluxes:
            _carbonate(r, ctx, out, "ippu_iron_steel")
        else:
            _unknown(r, allowed, out, "iron and steel production")
    return _finish(out)


@register(
    "ippu_petrochemicals", ("2.B.8",), "Petrochemicals: ethylene CO2 and CH4 (IPCC 2006 Vol 3 Ch 3 §3.9)"
)
def petrochemicals(activity: pd.DataFrame, ctx: MethodContext) -> pd.DataFrame:
    """Ethylene by steam-cracking feedstock: CO2 and CH4 = M_ethylene × EF (Tier 1)."""
    rows, problems = _rows(activity)
    out = _Out(problems=problems)
    for r in rows:
        if r.item not in ETHYLENE_ITEMS:
            _unknown(r, ETHYLENE_ITEMS, out, "petrochemical production")
            continue
        co2 = _factor(ctx, r, r.item, "ef", out, gas="CO2", unit="tCO2/t")
        ch4 = _factor(ctx, r, r.item, "ef", out, gas="CH4", unit="t/t")
        if co2 is None or ch4 is None:
            continue
        for gas, fv, unit in (("CO2", co2, "tCO2/t"), ("CH4", ch4, "t/t")):
            out.add(
                r,
                gas,
                r.amount_t * _val(fv, unit),
                r.uncertainty_pct,
                {"ef": fv},
                "ef",
                f"{gas} = M_ethylene × EF_{gas},feedstock (IPCC 2006 Vol 3 Eq 3.15, Tables 3.14/3.16)",
                "Tier 1",
                "ippu_petrochemicals",
            )
    return _finish(out)


@register("ippu_hfc23", ("2.B.9",), "HFC-23 from HCFC-22 production (IPCC 2006 Vol 3 Ch 3 §3.10.1)")
def hfc23(activity: pd.DataFrame, ctx: MethodContext) -> pd.DataFrame:
    """HFC-23 = P_HCFC-22 × EF × (1 − destruction fraction) − HFC-23 destroyed."""
    rows, problems = _rows(activity)
    out = _Out(problems=problems)
    allowed = ("hcfc22", "hfc23_destroyed")
    for (_y, _reg, _cat), grp in _by_region_year(rows).items():
        items = {r.item: r for r in grp}
        for r in grp:
            if r.item not in allowed:
                _unknown(r, allowed, out, "fluorochemical production")
        if "hcfc22" not in items:
            if "hfc23_destroyed" in items:
                r = items["hfc23_destroyed"]
                out.problems.append(
                    r.problem("item", "hfc23_destroyed needs an hcfc22 row for the same region and year")
                )
            continue
        r = items["hcfc22"]
        ef = _factor(ctx, r, "hcfc22", "ef", out, gas="HFC-23", unit="t/t")
        df_ = _factor(ctx, r, "hcfc22", "destruction_fraction", out, gas="HFC-23", unit="1")
        if ef is None or df_ is None:
            continue
        generated = r.amount_t * _val(ef, "t/t")
        emitted = generated * (1.0 - _val(df_, "1"))
        acts = [r]
        destroyed = items.get("hfc23_destroyed")
        if destroyed is not None:
            emitted -= destroyed.amount_t
            acts.append(destroyed)
        if emitted < 0:
            out.problems.append(
                r.problem(
                    "amount",
                    f"HFC-23 destroyed exceeds HFC-23 generated by the default factor ({generated:g} t); "
                    "give the plant's own generation factor with --factors",
                )
            )
            continue
        out.add(
            r,
            "HFC-23",
            emitted,
            r.uncertainty_pct,
            {"ef": ef, "destruction_fraction": df_},
            "ef",
            "HFC-23 = P_HCFC-22 × EF × (1 − DF) − D (IPCC 2006 Vol 3 Eq 3.30)",
            "Tier 1",
            "ippu_hfc23",
            activity=acts,
        )
    return _finish(out)


@register("ippu_sf6_electrical", ("2.G.1",), "SF6 from electrical equipment (IPCC 2006 Vol 3 Ch 8 §8.2)")
def sf6_electrical(activity: pd.DataFrame, ctx: MethodContext) -> pd.DataFrame:
    """SF6: Tier 1 bank × emission rate, or the utility mass balance."""
    rows, problems = _rows(activity)
    out = _Out(problems=problems)
    allowed = ("sf6_bank", *SF6_BALANCE_SIGNS)
    for (_y, _reg, _cat), grp in _by_region_year(rows).items():
        bank = [r for r in grp if r.item == "sf6_bank"]
        bal = [r for r in grp if r.item in SF6_BALANCE_SIGNS]
        for r in grp:
            if r.item not in allowed:
                _unknown(r, allowed, out, "SF6 in electrical equipment")
        if bank and bal:
            out.problems.append(
                bank[0].problem("item", "sf6_bank (Tier 1) and mass-balance items both given: use one")
            )
            continue
        for r in bank:
            rate = _factor(ctx, r, "sf6_bank", "emission_rate", out, gas="SF6", unit="1")
            if rate is None:
                continue
            out.add(
                r,
                "SF6",
                r.amount_t * _val(rate, "1"),
                r.uncertainty_pct,
                {"emission_rate": rate},
                "emission_rate",
                "SF6 = nameplate capacity in use × annual emission rate (IPCC 2006 Vol 3 §8.2, Tier 1)",
                "Tier 1",
                "ippu_sf6_electrical",
            )
        if bal:
            net = sum(SF6_BALANCE_SIGNS[r.item] * r.amount_t for r in bal)
            first = bal[0]
            if net < 0:
                out.problems.append(
                    first.problem(
                        "amount", f"the SF6 mass balance of this region and year is negative ({net:g} t)"
                    )
                )
                continue
            us = [r.uncertainty_pct for r in bal]
            if any(math.isnan(u) for u in us):
                ad_u = math.nan
            else:
                var = sum((r.amount_t * r.uncertainty_pct) ** 2 for r in bal)
                ad_u = math.sqrt(var) / net if net > 0 else math.nan
            out.rows.append(
                {
                    "year": first.year,
                    "region": first.region,
                    "category": first.category,
                    "item": "sf6_mass_balance",
                    "gas": "SF6",
                    "mass_t": float(net),
                    "scope": "territorial",
                    "ad_uncertainty_pct": ad_u,
                    "ef_uncertainty_pct": 0.0,  # a mass balance has no factor
                    "factor_key": None,
                    "explain": explain_later(
                        method="ippu_sf6_electrical",
                        tier="mass balance",
                        formula=(
                            "SF6 = (storage start − storage end) + acquired − disbursed − "
                            "(nameplate new − nameplate retired) (IPCC 2006 Vol 3 §8.2)"
                        ),
                        gas="SF6",
                        mass_t=float(net),
                        **_activity_parts([{**r.where(), "sign": SF6_BALANCE_SIGNS[r.item]} for r in bal]),
                        factors={},
                    ),
                }
            )
    return _finish(out)


#: The IPPU methods by registry name (for docs and tests).
METHODS: dict[str, Callable[[pd.DataFrame, MethodContext], pd.DataFrame]] = {
    "ippu_cement": cement,
    "ippu_lime": lime,
    "ippu_glass": glass,
    "ippu_carbonates": carbonates,
    "ippu_iron_steel": iron_steel,
    "ippu_petrochemicals": petrochemicals,
    "ippu_hfc23": hfc23,
    "ippu_sf6_electrical": sf6_electrical,
}
