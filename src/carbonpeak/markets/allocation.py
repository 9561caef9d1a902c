"""Allowance allocation (issue 11 §2): the formulas, and runs driven by a rule set.

Formulas (sources in ``docs/markets.md`` and ``data/markets/*``):

* 基准线法 (benchmark)      ``A = Σ_p Q_p × B_p × F_year × C_p`` (+ co-processing uplift, cement draft 2017)
* 历史强度法 (intensity)    ``A = (Σ_base E / Σ_base Q) × Q_year × F_year``
* 历史排放法 (history)      ``A = mean(E over the base years) × F_year (+ process allowance)``
* national power            ``A = Be × Qe × Fc × Fh × Fl + Bh × Qh`` with ``Fh = 1 − slope × heat ratio``
* pre-allocation / true-up  ``A_pre = share × A(base-year output)``; ``ΔA = A(actual) − A_pre``
* free / paid / reserve     ``free = A × share``; ``paid = A − free``; ``reserve = cap − Σ A``
* idle months               ``withdrawn = free × idle months / 12`` when triggered

Plain numbers are read in the unit each function documents (tCO2, MWh, GJ, the benchmark's
denominator); pint Quantities are converted (:mod:`carbonpeak.markets.units`).  Results are tCO2.

Run interface (used by workflows/markets.py, CLI and API)::

    rs = load_ruleset("guangdong-2024")
    req = AllocationRequest("E1", "textiles", year=2024,
                            base_emissions={2021: 102_000, 2022: 98_000, 2023: 100_000})
    a = allocate(req, rs, params={"allocation.history.base_years": 3})
    a.allocation_t, a.free_t, a.paid_t        # 98000.0 93100.0 4900.0  (W1)

A required parameter missing from ``params`` raises
:class:`carbonpeak.catalog.markets.MissingParameterError` naming it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd
import pint

from carbonpeak.catalog.markets import MissingParameterError, ParamValue, RuleSet, qualified_name
from carbonpeak.errors import CarbonpeakError, CatalogError, Problem, ValidationError
from carbonpeak.markets.units import QuantityLike, magnitude, tco2, times_benchmark

FUELS = ("coal", "gas")
COOLING = ("water", "air")


class AllocationError(CarbonpeakError):
    """The inputs of an allocation are incomplete or inconsistent (names the enterprise and field)."""


# ---- results --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ParameterUse:
    """A rule parameter as used in a run: its value, unit and source (or "run parameter")."""

    name: str
    value: float
    unit: str
    source: str


@dataclass(frozen=True)
class Allocation:
    """The allocation of one enterprise (or unit) for one year, in tCO2."""

    enterprise_id: str
    year: int
    ruleset: str
    sector: str
    activity: str
    method: str
    allocation_t: float
    free_t: float
    paid_t: float
    formula: str
    parameters: tuple[ParameterUse, ...] = ()
    components: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "enterprise_id": self.enterprise_id, "year": self.year, "ruleset": self.ruleset,
            "sector": self.sector, "activity": self.activity, "method": self.method,
            "allocation_t": self.allocation_t, "free_t": self.free_t, "paid_t": self.paid_t,
            "formula": self.formula, "components": dict(self.components),
            "parameters": [p.__dict__.copy() for p in self.parameters],
        }


@dataclass(frozen=True)
class PowerUnit:
    """One generating unit for the national power formula.

    ``unit_class`` is a benchmark class of the rule set (``coal_conventional_gt300``,
    ``coal_conventional_le300``, ``coal_unconventional``, ``gas``); ``fuel`` is ``coal`` or ``gas``.
    ``supply_mwh`` = 供电量 (electricity supplied), ``generation_mwh`` = 发电量 (used from 2023);
    ``heat_gj`` = 供热量; ``heat_ratio`` = 供热比 (required when heat is supplied);
    ``load_correction`` = the unit's load-factor correction factor where the rule set needs it.
    """

    unit_id: str
    unit_class: str
    fuel: str
    supply_mwh: QuantityLike = 0.0
    heat_gj: QuantityLike = 0.0
    heat_ratio: float | None = None
    cooling: str = "water"
    generation_mwh: QuantityLike | None = None
    load_correction: float | None = None


@dataclass(frozen=True)
class PowerAllocation:
    unit_id: str
    electricity_t: float
    heat_t: float
    f_cooling: float
    f_heat: float
    f_load: float

    @property
    def total_t(self) -> float:
        return self.electricity_t + self.heat_t


@dataclass(frozen=True)
class TrueUp:
    """Ex-post correction of an ex-ante pre-allocation ("多退少补")."""

    pre_allocated_t: float
    final_t: float

    @property
    def delta_t(self) -> float:
        """Positive: issue more; negative: withdraw."""
        return self.final_t - self.pre_allocated_t

    @property
    def action(self) -> str:
        d = self.delta_t
        return "issue" if d > 0 else "withdraw" if d < 0 else "none"


@dataclass(frozen=True)
class CapSplit:
    """The cap split into free, paid (auction) and reserve allowances; free + paid + reserve = cap."""

    cap_t: float
    allocated_t: float
    free_t: float
    paid_t: float
    reserve_t: float


@dataclass(frozen=True)
class IdleWithdrawal:
    idle_months: tuple[int, ...]
    triggered: bool
    reason: str
    withdrawn_t: float


# ---- the formulas (pure, no rule set) ---------------------------------------------------------------
def _check_factor(name: str, v: float, lo: float = 0.0, hi: float = math.inf) -> float:
    v = float(v)
    if math.isnan(v) or not lo <= v <= hi:
        raise AllocationError(f"{name} = {v} is outside [{lo}, {hi}]")
    return v


def benchmark_allocation(outputs: Mapping[str, QuantityLike], benchmarks: Mapping[str, pint.Quantity],
                         annual_factor: float = 1.0,
                         corrections: Mapping[str, float] | float = 1.0) -> float:
    """基准线法: ``Σ_p output_p × benchmark_p × annual_factor × correction_p`` in tCO2."""
    _check_factor("annual_factor", annual_factor)
    total = 0.0
    for prod, out in outputs.items():
        if prod not in benchmarks:
            raise AllocationError(f"no benchmark for product '{prod}'")
        c = corrections if isinstance(corrections, int | float) else corrections.get(prod, 1.0)
        q = times_benchmark(out, benchmarks[prod], f"output of '{prod}'")
        if q < 0:
            raise AllocationError(f"output of '{prod}' is negative")
        total += q * annual_factor * _check_factor(f"correction of '{prod}'", c)
    return total


def base_intensity(base_emissions: Mapping[int, QuantityLike], base_output: Mapping[int, QuantityLike],
                   output_unit: str = "1") -> float:
    """Base-period intensity ``Σ E / Σ Q`` over the years present in both (tCO2 per output unit)."""
    years = sorted(set(base_emissions) & set(base_output))
    if not years:
        raise AllocationError("no base year has both emissions and output")
    e = sum(tco2(base_emissions[y], f"base emissions {y}") for y in years)
    q = sum(magnitude(base_output[y], output_unit, f"base output {y}") for y in years)
    if q <= 0:
        raise AllocationError(f"base output over {years} is {q}; the intensity is undefined")
    return e / q


def intensity_allocation(base_emissions: Mapping[int, QuantityLike], base_output: Mapping[int, QuantityLike],
                         output: QuantityLike, annual_factor: float, output_unit: str = "1") -> float:
    """历史强度法: ``(Σ_base E / Σ_base Q) × Q_year × annual_factor`` in tCO2."""
    _check_factor("annual_factor", annual_factor)
    q = magnitude(output, output_unit, "output")
    if q < 0:
        raise AllocationError("output is negative")
    return base_intensity(base_emissions, base_output, output_unit) * q * annual_factor


def history_allocation(base_emissions: Mapping[int, QuantityLike], annual_factor: float,
                       process_allowance: QuantityLike = 0.0) -> float:
    """历史排放法: ``mean(base emissions) × annual_factor + process allowance`` in tCO2."""
    _check_factor("annual_factor", annual_factor)
    if not base_emissions:
        raise AllocationError("no base-year emissions")
    vals = [tco2(v, f"base emissions {y}") for y, v in base_emissions.items()]
    if any(v < 0 for v in vals):
        raise AllocationError("a base-year emission is negative")
    return sum(vals) / len(vals) * annual_factor + tco2(process_allowance, "process allowance")


def select_base_years(series: Mapping[int, Any], year: int, n: int, what: str = "base emissions") -> dict[int, Any]:
    """The ``n`` latest years of ``series`` before ``year``; all of them must be present."""
    if n < 1:
        raise AllocationError(f"the number of base years must be >= 1 (got {n})")
    want = list(range(year - n, year))
    missing = [y for y in want if y not in series]
    if missing:
        raise AllocationError(f"{what}: missing base year(s) {missing} (the {n} years before {year})")
    return {y: series[y] for y in want}


def coprocessing_uplift(waste_t: float, bands: Mapping[float, float]) -> float:
    """Uplift share for co-processed waste: the share of the highest band whose lower bound <= waste."""
    share = 0.0
    for lower, s in sorted(bands.items()):
        if waste_t >= lower:
            share = s
    return share


def heat_factor(heat_ratio: float, slope: float) -> float:
    """``Fh = 1 − slope × heat ratio`` (供热量修正系数)."""
    _check_factor("heat_ratio", heat_ratio, 0.0, 1.0)
    return 1.0 - float(slope) * float(heat_ratio)


def power_unit_allocation(unit: PowerUnit, electricity_benchmark: pint.Quantity,
                          heat_benchmark: pint.Quantity | None = None, *, f_cooling: float = 1.0,
                          heat_slope: float = 0.0, f_load: float = 1.0, basis: str = "supply") -> PowerAllocation:
    """National power formula ``Be × Qe × Fc × Fh × Fl + Bh × Qh`` in tCO2.

    ``Qe`` is 供电量 (``basis="supply"``) or 发电量 (``basis="generation"``).  Without heat
    (``heat_gj == 0``) ``Fh = 1`` and the heat term is 0.
    """
    if basis == "generation":
        if unit.generation_mwh is None:
            raise AllocationError(f"unit {unit.unit_id}: generation_mwh (发电量) is required by this rule set")
        qe: QuantityLike = unit.generation_mwh
    else:
        qe = unit.supply_mwh
    qh = magnitude(unit.heat_gj, "GJ", f"unit {unit.unit_id} heat")
    if qh < 0 or magnitude(qe, "MWh", f"unit {unit.unit_id} electricity") < 0:
        raise AllocationError(f"unit {unit.unit_id}: negative output")
    if qh > 0:
        if unit.heat_ratio is None:
            raise AllocationError(f"unit {unit.unit_id}: heat_ratio (供热比) is required when heat is supplied")
        if heat_benchmark is None:
            raise AllocationError(f"unit {unit.unit_id}: a heat benchmark is required when heat is supplied")
        fh = heat_factor(unit.heat_ratio, heat_slope)
        heat_t = times_benchmark(unit.heat_gj if not isinstance(unit.heat_gj, int | float) else qh,
                                 heat_benchmark, f"unit {unit.unit_id} heat")
    else:
        fh, heat_t = 1.0, 0.0
    fc = _check_factor(f"unit {unit.unit_id} cooling factor", f_cooling)
    fl = _check_factor(f"unit {unit.unit_id} load correction", f_load)
    el = times_benchmark(qe, electricity_benchmark, f"unit {unit.unit_id} electricity") * fc * fh * fl
    return PowerAllocation(unit.unit_id, el, heat_t, fc, fh, fl)


def split_free_paid(allocation_t: float, free_share: float) -> tuple[float, float]:
    """``(free, paid)`` with ``free = A × share`` and ``paid = A − free``."""
    s = _check_factor("free_share", free_share, 0.0, 1.0)
    free = allocation_t * s
    return free, allocation_t - free


def cap_split(cap_t: float, allocations: Iterable[Allocation] | Mapping[str, float],
              free_share: float | None = None) -> CapSplit:
    """Split a cap: Σ allocations (free + paid) and the reserve ``cap − Σ A``.

    With :class:`Allocation` objects their own free/paid split is used; with a mapping of tCO2 the
    ``free_share`` is applied.  Raises :class:`AllocationError` when the allocations exceed the cap.
    """
    if isinstance(allocations, Mapping):
        if free_share is None:
            raise AllocationError("free_share is required when allocations are given as numbers")
        total = float(sum(allocations.values()))
        free = float(sum(split_free_paid(v, free_share)[0] for v in allocations.values()))
        paid = total - free
    else:
        items = list(allocations)
        total = float(sum(a.allocation_t for a in items))
        free = float(sum(a.free_t for a in items))
        paid = float(sum(a.paid_t for a in items))
    if total > cap_t * (1 + 1e-12):
        raise AllocationError(f"allocations ({total:,.0f} t) exceed the cap ({cap_t:,.0f} t)")
    return CapSplit(cap_t, total, free, paid, cap_t - free - paid)


def idle_withdrawal(free_t: float, monthly_utilisation: Sequence[float], *, utilisation_min: float,
                    months_min: int, closed: bool = False, relocated: bool = False) -> IdleWithdrawal:
    """Free allowances withdrawn for non-normal production months (实施细则 §14–15).

    A month is idle (非正常生产月份) when utilisation (开工率) < ``utilisation_min``.  §14: on closure or
    leaving the province the free allowances of the idle months are withdrawn; §15: when production
    stopped for more than ``months_min`` months in the year the allowances of the idle months are
    withdrawn.  We read "stopped > 6 months" as "more than 6 idle months" (the text does not say
    whether the months must be consecutive) and withdraw ``free × idle / 12`` (equal monthly shares:
    the text gives no monthly profile) -- both documented readings.
    """
    if len(monthly_utilisation) != 12:
        raise AllocationError(f"monthly_utilisation must have 12 values (got {len(monthly_utilisation)})")
    idle = tuple(i + 1 for i, u in enumerate(monthly_utilisation) if float(u) < utilisation_min)
    if closed:
        reason = "closure"
    elif relocated:
        reason = "left the province"
    elif len(idle) > months_min:
        reason = f"idle more than {months_min} months"
    else:
        return IdleWithdrawal(idle, False, f"{len(idle)} idle month(s) <= {months_min}: no withdrawal", 0.0)
    return IdleWithdrawal(idle, True, reason, free_t * len(idle) / 12.0)


def withdraw_idle(allocation: Allocation, monthly_utilisation: Sequence[float], ruleset: RuleSet, *,
                  closed: bool = False, relocated: bool = False,
                  params: Mapping[str, ParamValue] | None = None) -> IdleWithdrawal:
    """:func:`idle_withdrawal` of an allocation's free allowances with the rule set's
    ``idle.utilisation_min`` and ``idle.months_min``."""
    u = ruleset.param("idle.utilisation_min", allocation.sector, year=allocation.year, overrides=params)
    m = int(ruleset.param("idle.months_min", allocation.sector, year=allocation.year, overrides=params))
    return idle_withdrawal(allocation.free_t, monthly_utilisation, utilisation_min=u, months_min=m,
                           closed=closed, relocated=relocated)


def true_up(pre_allocated_t: float, final_t: float) -> TrueUp:
    """Ex-post true-up of an ex-ante allocation."""
    return TrueUp(float(pre_allocated_t), float(final_t))


# ---- rule-set runs --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AllocationRequest:
    """What an allocation run needs for one enterprise and year (from the store, never retyped).

    ``output``: current-year output per product/activity (benchmark and intensity methods);
    ``base_emissions`` / ``base_output``: verified history by year (intensity, history);
    ``power_units``: for the national power formula; ``method`` overrides the rule set's method.
    """

    enterprise_id: str
    sector: str
    year: int
    activity: str = "*"
    output: Mapping[str, QuantityLike] = field(default_factory=dict)
    output_unit: str = "1"
    base_emissions: Mapping[int, QuantityLike] = field(default_factory=dict)
    base_output: Mapping[int, QuantityLike] = field(default_factory=dict)
    process_allowance: QuantityLike = 0.0
    power_units: tuple[PowerUnit, ...] = ()
    coprocessed_waste_t: float = 0.0
    corrections: Mapping[str, float] = field(default_factory=dict)
    method: str | None = None


class _Params:
    """Parameter look-ups of one run, recording what was used (for the allocation's trace)."""

    def __init__(self, rs: RuleSet, year: int, overrides: Mapping[str, ParamValue] | None) -> None:
        self.rs, self.year, self.over = rs, year, dict(overrides or {})
        self.used: dict[str, ParameterUse] = {}

    def q(self, key: str, sector: str = "*", product: str = "*") -> pint.Quantity:
        q = self.rs.quantity(key, sector, product, self.year, self.over)
        name = qualified_name(key, sector, product)
        src = self.rs.source_of(key, sector, product, self.year)
        if any(n in self.over for n in (name, key)):
            src = "run parameter"
        self.used[name] = ParameterUse(name, float(q.magnitude), str(q.units), src)
        return q

    def f(self, key: str, sector: str = "*", product: str = "*", unit: str | None = None) -> float:
        q = self.q(key, sector, product)
        return magnitude(q, unit, qualified_name(key, sector, product)) if unit else float(
            q.to("dimensionless").magnitude if q.dimensionless else q.magnitude)

    def f_or(self, default: float, key: str, sector: str = "*", product: str = "*") -> float:
        """A factor that the rule set may not have at all (absent rule = no such correction)."""
        if not self.rs.has(key, sector, product, self.year) and not any(
                n in self.over for n in (qualified_name(key, sector, product), key)):
            return default
        return self.f(key, sector, product)


def _free_share(p: _Params, sector: str) -> float:
    return p.f("allocation.free_share", sector)


def allocate(req: AllocationRequest, ruleset: RuleSet, params: Mapping[str, ParamValue] | None = None) -> Allocation:
    """Allocate for one enterprise and year under ``ruleset`` (method from ``methods.csv``)."""
    if ruleset.compliance_years and req.year not in ruleset.compliance_years:
        raise AllocationError(f"{req.enterprise_id}: year {req.year} is outside rule set '{ruleset.id}' "
                              f"({', '.join(map(str, ruleset.compliance_years))})")
    method = req.method or ruleset.method(req.sector, req.activity).method
    p = _Params(ruleset, req.year, params)
    comps: dict[str, float] = {}
    try:
        if method == "history":
            n = int(p.f("allocation.history.base_years", req.sector))
            base = select_base_years(req.base_emissions, req.year, n)
            factor = p.f("allocation.history.annual_factor", req.sector)
            total = history_allocation(base, factor, req.process_allowance)
            formula = f"mean({', '.join(str(y) for y in base)} emissions) × {factor:g}"
            if tco2(req.process_allowance):
                formula += " + process allowance"
        elif method == "intensity":
            n = int(p.f("allocation.intensity.base_years", req.sector))
            be = select_base_years(req.base_emissions, req.year, n)
            bq = select_base_years(req.base_output, req.year, n, "base output")
            factor = p.f("allocation.intensity.annual_factor", req.sector)
            if len(req.output) != 1:
                raise AllocationError("the intensity method needs exactly one current-year output")
            (prod, out), = req.output.items()
            total = intensity_allocation(be, bq, out, factor, req.output_unit)
            comps["base_intensity"] = base_intensity(be, bq, req.output_unit)
            formula = f"(Σ E / Σ Q over {min(be)}–{max(be)}) × output × {factor:g}"
        elif method == "benchmark":
            if not req.output:
                raise AllocationError("the benchmark method needs the current-year output per product")
            bench = {prod: p.q("allocation.benchmark.value", req.sector, prod) for prod in req.output}
            factor = p.f("allocation.benchmark.annual_factor", req.sector)
            for prod, out in req.output.items():
                comps[prod] = times_benchmark(out, bench[prod]) * factor * req.corrections.get(prod, 1.0)
            total = benchmark_allocation(req.output, bench, factor, req.corrections)
            formula = f"Σ output × benchmark × {factor:g}"
            bands = {float(x.product): float(x.value) for x in ruleset.parameters
                     if x.key == "allocation.coprocessing_uplift" and x.sector == req.sector
                     and x.value is not None}
            if req.coprocessed_waste_t and bands:
                up = coprocessing_uplift(req.coprocessed_waste_t, bands)
                comps["coprocessing_uplift_share"] = up
                total *= 1 + up
                formula += f" × (1 + {up:g} co-processing uplift)"
        elif method == "power_benchmark":
            total, formula = _power(req, ruleset, p, comps)
        else:
            raise AllocationError(f"unknown allocation method '{method}'")
    except AllocationError as exc:
        raise AllocationError(f"{req.enterprise_id} ({req.sector}/{req.activity}, {req.year}, "
                              f"{ruleset.id}): {exc}") from None
    share = _free_share(p, req.sector)
    free, paid = split_free_paid(total, share)
    return Allocation(req.enterprise_id, req.year, ruleset.id, req.sector, req.activity, method, total, free,
                      paid, formula, tuple(p.used.values()), comps)


def _power(req: AllocationRequest, rs: RuleSet, p: _Params, comps: dict[str, float]) -> tuple[float, str]:
    if not req.power_units:
        raise AllocationError("the power formula needs at least one unit (power_units)")
    basis = str(rs.extra.get("power_output_basis", "supply"))
    total = 0.0
    for u in req.power_units:
        if u.fuel not in FUELS:
            raise AllocationError(f"unit {u.unit_id}: fuel '{u.fuel}' not in {FUELS}")
        if u.cooling not in COOLING:
            raise AllocationError(f"unit {u.unit_id}: cooling '{u.cooling}' not in {COOLING}")
        be = p.q("power.benchmark.electricity", "power", u.unit_class)
        has_heat = magnitude(u.heat_gj, "GJ", f"unit {u.unit_id} heat") > 0
        bh = p.q("power.benchmark.heat", "power", u.unit_class) if has_heat else None
        slope = p.f_or(0.0, "power.correction.heat_slope", "power", u.fuel) if has_heat else 0.0
        fc = p.f_or(1.0, "power.correction.cooling", "power", u.cooling)
        if u.load_correction is not None:
            fl = float(u.load_correction)
        else:
            try:
                fl = p.f_or(1.0, "power.correction.load", "power", u.fuel)
            except MissingParameterError as exc:
                raise MissingParameterError(
                    exc.parameter, rs.id, f"or give PowerUnit.load_correction of unit {u.unit_id}; "
                    "the load-factor correction formula of the final plan was not retrieved") from None
        pa = power_unit_allocation(u, be, bh, f_cooling=fc, heat_slope=slope, f_load=fl, basis=basis)
        comps[f"{u.unit_id}.electricity"] = pa.electricity_t
        comps[f"{u.unit_id}.heat"] = pa.heat_t
        comps[f"{u.unit_id}.f_heat"] = pa.f_heat
        total += pa.total_t
    q = "发电量" if basis == "generation" else "供电量"
    return total, f"Σ units (Be × {q} × Fc × Fh × Fl + Bh × 供热量)"


def allocate_many(requests: Iterable[AllocationRequest], ruleset: RuleSet,
                  params: Mapping[str, ParamValue] | None = None) -> list[Allocation]:
    """:func:`allocate` over many requests; the first failure is raised (all-or-nothing)."""
    return [allocate(r, ruleset, params) for r in requests]


def pre_allocate(base_request: AllocationRequest, ruleset: RuleSet,
                 params: Mapping[str, ParamValue] | None = None, share: float | None = None) -> Allocation:
    """Ex-ante pre-allocation: ``share × A(base-year output)``.

    ``base_request`` carries the base-year output (e.g. 2018 for the national 2019–20 plan) but the
    compliance ``year``.  The share is the rule set's ``power.pre_allocation_share`` (power) or
    ``allocation.pre_allocation_share``, unless given.
    """
    full = allocate(base_request, ruleset, params)
    if share is None:
        key = "power.pre_allocation_share" if full.method == "power_benchmark" else "allocation.pre_allocation_share"
        sector = "power" if full.method == "power_benchmark" else base_request.sector
        try:
            share = ruleset.param(key, sector, year=base_request.year, overrides=params)
        except CatalogError:
            raise MissingParameterError(key, ruleset.id, "no pre-allocation share in the rule set") from None
    s = _check_factor("pre-allocation share", share, 0.0, 1.0)
    return replace(full, allocation_t=full.allocation_t * s, free_t=full.free_t * s, paid_t=full.paid_t * s,
                   formula=f"{s:g} × [{full.formula}] (pre-allocation on base-year output)",
                   components={**full.components, "pre_allocation_share": s})


# ---- frames (what the workflow reads from the store) ------------------------------------------------------
ALLOCATION_COLUMNS = ("enterprise_id", "year", "ruleset", "sector", "activity", "method", "allocation_t", "free_t",
                      "paid_t", "formula")


def requests_from_frames(enterprises: pd.DataFrame, emissions: pd.DataFrame | None = None,
                         outputs: pd.DataFrame | None = None, *, year: int, file: str = "") -> list[AllocationRequest]:
    """Allocation requests from the store's frames (never retyped).

    ``enterprises``: ``enterprise_id, sector`` and optional ``activity``, ``method``, ``output_unit``;
    ``emissions``: verified history ``enterprise_id, year, emissions_t``; ``outputs``:
    ``enterprise_id, year, product, output`` (the current year's rows are the output, earlier years the
    base output summed over products).  Problems name the frame, row and field.
    """
    problems: list[Problem] = []
    for name, df, cols in (("enterprises", enterprises, ("enterprise_id", "sector")),
                           ("emissions", emissions, ("enterprise_id", "year", "emissions_t")),
                           ("outputs", outputs, ("enterprise_id", "year", "product", "output"))):
        if df is not None:
            problems += [Problem(file or name, None, c, "missing column") for c in cols if c not in df.columns]
    if problems:
        raise ValidationError(problems)
    hist: dict[str, dict[int, float]] = {}
    if emissions is not None:
        for i, r in enumerate(emissions.to_dict("records")):
            try:
                hist.setdefault(str(r["enterprise_id"]), {})[int(r["year"])] = float(r["emissions_t"])
            except (TypeError, ValueError):
                problems.append(Problem(file or "emissions", i + 2, "emissions_t/year", f"not a number: {r!r}"))
    cur: dict[str, dict[str, float]] = {}
    base_q: dict[str, dict[int, float]] = {}
    if outputs is not None:
        for i, r in enumerate(outputs.to_dict("records")):
            try:
                eid, y, v = str(r["enterprise_id"]), int(r["year"]), float(r["output"])
            except (TypeError, ValueError):
                problems.append(Problem(file or "outputs", i + 2, "output/year", f"not a number: {r!r}"))
                continue
            if y == year:
                cur.setdefault(eid, {})[str(r["product"])] = cur.get(eid, {}).get(str(r["product"]), 0.0) + v
            elif y < year:
                base_q.setdefault(eid, {})[y] = base_q.get(eid, {}).get(y, 0.0) + v
    if problems:
        raise ValidationError(problems)
    out: list[AllocationRequest] = []
    for r in enterprises.to_dict("records"):
        eid = str(r["enterprise_id"])
        act = str(r.get("activity") or "*")
        method = r.get("method") or None
        out.append(AllocationRequest(eid, str(r["sector"]), year, activity=act, output=cur.get(eid, {}),
                                     output_unit=str(r.get("output_unit") or "1"),
                                     base_emissions=hist.get(eid, {}), base_output=base_q.get(eid, {}),
                                     method=str(method) if method else None))
    return out


def allocations_frame(allocations: Iterable[Allocation]) -> pd.DataFrame:
    """Allocations as a frame (``ALLOCATION_COLUMNS``) for the ledger's issuance and the reports."""
    return pd.DataFrame([{c: getattr(a, c) for c in ALLOCATION_COLUMNS} for a in allocations],
                        columns=list(ALLOCATION_COLUMNS))
