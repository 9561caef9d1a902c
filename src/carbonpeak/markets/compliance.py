"""Compliance (issue 11 §4): MRV calendar, obligations, status, penalties, flexibility, offsets.

Rules by rule set (``data/markets/*``; formulas and sources in ``docs/markets.md``):

* calendar       report → verification → (offset application) → surrender deadlines
* obligation     Guangdong: verified emissions.  National power: ``min(E, A × (1 + gap cap))``, the 20 %
                 cap for coal, 0 for gas (gas units surrender at most their free allocation)
* status         ``compliant`` when allowances + accepted offsets >= obligation by the deadline
* GD penalty     refusing the order to surrender: ``2 × shortfall`` deducted from next year's
                 allocation, plus a CNY 50,000 fine
* borrowing      2021–22: gap > 10 % of the allocation → borrow up to 50 % of the gap
* banking        2023–24: bankable = 10,000 t + 1.5 × net allowances sold 2019–2024
* offsets        Guangdong: <= 10 % of last year's emissions, >= 70 % from Guangdong, within the
                 province-wide pool, type/origin/vintage exclusions; national: CCER <= 5 % of the
                 obligation.  :func:`check_surrender` says for each refusal which rule and by how much.

mk-ledger calls these with values read from the ledger (holdings, net sales, pool usage).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import KW_ONLY, asdict, dataclass
from typing import Any

from carbonpeak.catalog.markets import EVENTS, MissingParameterError, ParamValue, RuleSet
from carbonpeak.errors import CarbonpeakError, CatalogError
from carbonpeak.i18n import Msg, declare

UNIT_TYPES_OFFSET = ("CCER", "PHCER")

declare({
    "markets.refusal.unit_type": {"unit_type": str, "ruleset": str, "allowed": str},
    "markets.refusal.exclusion": {"what": Msg, "source": str},
    "markets.exclusion.project_type": {"value": str},
    "markets.exclusion.origin_pilot": {},
    "markets.exclusion.pre_cdm": {},
    "markets.exclusion.inside_boundary": {},
    "markets.exclusion.vintage_before": {"vintage": int, "value": str},
    "markets.refusal.limit": {"what": Msg, "limit": float},
    "markets.limit.share_of_emissions": {"share": float, "emissions": float},
    "markets.limit.share_of_obligation": {"share": float, "obligation": float},
    "markets.limit.obligation": {},
    "markets.limit.obligation_t": {"obligation": float},
    "markets.refusal.pool": {"pool": float},
    "markets.refusal.local_share": {"types": str, "share": float, "local": float, "allows": float},
    "markets.refused_item": {"rule": str, "refused": float, "detail": Msg},
    "markets.refused": {"enterprise": str, "year": int, "items": list},
})


class ComplianceError(CarbonpeakError):
    """Inputs of a compliance computation are inconsistent (negative amounts, unknown fuel...)."""


# ---- calendar --------------------------------------------------------------------------------
@dataclass(frozen=True)
class CalendarEvent:
    event: str
    date: dt.date
    source: str
    status: str
    note: str = ""


def mrv_calendar(ruleset: RuleSet, compliance_year: int) -> list[CalendarEvent]:
    """The MRV and compliance deadlines of ``compliance_year`` under ``ruleset``, in date order."""
    out: list[CalendarEvent] = []
    for ev in EVENTS:
        try:
            d = ruleset.deadline(ev, compliance_year)
        except CatalogError:
            continue
        out.append(CalendarEvent(ev, d.date(compliance_year), d.source.cite(), d.source.status, d.note))
    return sorted(out, key=lambda e: (e.date, EVENTS.index(e.event)))


def due(ruleset: RuleSet, compliance_year: int, event: str = "surrender") -> dt.date:
    return ruleset.deadline(event, compliance_year).date(compliance_year)


# ---- obligations and status ------------------------------------------------------------------------
@dataclass(frozen=True)
class Obligation:
    enterprise_id: str
    year: int
    verified_emissions_t: float
    obligation_t: float
    rule: str

    @property
    def relief_t(self) -> float:
        """Emissions not to be surrendered because of a flexibility cap."""
        return self.verified_emissions_t - self.obligation_t


def obligation(enterprise_id: str, year: int, verified_emissions_t: float, ruleset: RuleSet,
               allocation_t: float | None = None, fuel: str | None = None,
               params: Mapping[str, ParamValue] | None = None) -> Obligation:
    """The surrender obligation.

    With a ``flex.gap_cap_share`` rule for the unit's fuel (national power), the obligation is
    ``min(E, A × (1 + cap))``: the 20 % cap for coal, 0 for gas.  Without such a rule it is E.
    """
    if verified_emissions_t < 0:
        raise ComplianceError(f"{enterprise_id} {year}: verified emissions are negative")
    fuel_key = fuel or "*"
    capped = any(x.key == "flex.gap_cap_share" for x in ruleset.parameters)
    if capped and fuel is None:
        raise ComplianceError(f"{enterprise_id} {year}: rule set {ruleset.id} caps the obligation by fuel; "
                              f"give fuel ('coal' or 'gas')")
    if ruleset.has("flex.gap_cap_share", "power", fuel_key, year) or (
            params and any(k.startswith("flex.gap_cap_share") for k in params)):
        if allocation_t is None:
            raise ComplianceError(f"{enterprise_id} {year}: the allocation is needed for the "
                                  f"{ruleset.id} gap cap")
        cap = ruleset.param("flex.gap_cap_share", "power", fuel_key, year, params)
        ob = min(verified_emissions_t, allocation_t * (1 + cap))
        return Obligation(enterprise_id, year, verified_emissions_t, ob,
                          f"min(E, A × (1 + {cap:g})) [{ruleset.source_of('flex.gap_cap_share', 'power', fuel_key, year)}]")
    return Obligation(enterprise_id, year, verified_emissions_t, verified_emissions_t, "obligation = verified emissions")


@dataclass(frozen=True)
class ComplianceStatus:
    enterprise_id: str
    year: int
    obligation_t: float
    surrendered_allowances_t: float
    accepted_offsets_t: float
    shortfall_t: float
    deadline: dt.date
    as_of: dt.date
    status: str        # compliant | open (before the deadline) | non_compliant

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["deadline"], d["as_of"] = self.deadline.isoformat(), self.as_of.isoformat()
        return d


def compliance_status(ob: Obligation, surrendered_allowances_t: float, accepted_offsets_t: float,
                      ruleset: RuleSet, as_of: dt.date) -> ComplianceStatus:
    """``compliant`` if allowances + accepted offsets cover the obligation; ``open`` before the
    surrender deadline; ``non_compliant`` after it."""
    if surrendered_allowances_t < 0 or accepted_offsets_t < 0:
        raise ComplianceError(f"{ob.enterprise_id} {ob.year}: negative surrender")
    dl = due(ruleset, ob.year)
    short = max(0.0, ob.obligation_t - surrendered_allowances_t - accepted_offsets_t)
    status = "compliant" if short <= 1e-9 else ("open" if as_of <= dl else "non_compliant")
    return ComplianceStatus(ob.enterprise_id, ob.year, ob.obligation_t, surrendered_allowances_t,
                            accepted_offsets_t, short, dl, as_of, status)


# ---- penalties -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Penalty:
    shortfall_t: float
    deduction_next_year_t: float
    fine_cny: float
    rule: str


def guangdong_penalty(shortfall_t: float, ruleset: RuleSet, refused_order: bool = True,
                      params: Mapping[str, ParamValue] | None = None) -> Penalty:
    """Guangdong non-surrender penalty: when the order to surrender is refused, ``multiplier ×
    shortfall`` is deducted from next year's allocation and the fine is imposed."""
    if shortfall_t < 0:
        raise ComplianceError("shortfall is negative")
    if shortfall_t == 0 or not refused_order:
        return Penalty(shortfall_t, 0.0, 0.0, "no penalty (nothing short, or the order was obeyed)")
    m = ruleset.param("penalty.deduction_multiplier", overrides=params)
    fine = ruleset.param("penalty.fine", overrides=params, unit="CNY")
    return Penalty(shortfall_t, m * shortfall_t, fine,
                   f"{m:g} × shortfall deducted + CNY {fine:,.0f} [{ruleset.source_of('penalty.deduction_multiplier')}]")


def apply_deduction(next_year_allocation_t: float, penalty: Penalty) -> float:
    """Next year's allocation after the deduction (never below zero; the rest stays owed)."""
    return max(0.0, next_year_allocation_t - penalty.deduction_next_year_t)


# ---- national flexibility ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Borrowing:
    gap_t: float
    gap_share: float
    eligible: bool
    max_borrow_t: float
    rule: str


def borrowing_limit(allocation_t: float, obligation_t: float, ruleset: RuleSet, year: int | None = None,
                    params: Mapping[str, ParamValue] | None = None) -> Borrowing:
    """Borrowing from the next allocation (2021–22: gap > 10 % of the allocation → up to 50 % of it)."""
    gap = max(0.0, obligation_t - allocation_t)
    share = gap / allocation_t if allocation_t > 0 else (1.0 if gap > 0 else 0.0)
    if not ruleset.has("flex.borrowing_allowed", year=year) or ruleset.param(
            "flex.borrowing_allowed", year=year, overrides=params) == 0:
        return Borrowing(gap, share, False, 0.0, f"borrowing not allowed in {ruleset.id}")
    thr = ruleset.param("flex.borrowing_gap_threshold", year=year, overrides=params)
    mx = ruleset.param("flex.borrowing_share_max", year=year, overrides=params)
    ok = share > thr
    return Borrowing(gap, share, ok, mx * gap if ok else 0.0,
                     f"gap/allocation {share:.1%} {'>' if ok else '<='} {thr:.0%}; borrow <= {mx:.0%} of the gap")


@dataclass(frozen=True)
class Banking:
    surplus_t: float
    limit_t: float | None
    carried_t: float
    forfeited_t: float
    rule: str


def banking(surplus_t: float, ruleset: RuleSet, net_sales_t: float | None = None, year: int | None = None,
            params: Mapping[str, ParamValue] | None = None) -> Banking:
    """Carry a surplus forward.  2023–24: limit = base + multiplier × net allowances sold 2019–2024;
    rule sets without a banking rule carry the whole surplus."""
    if surplus_t < 0:
        raise ComplianceError("surplus is negative")
    if not ruleset.has("flex.banking_base", year=year):
        return Banking(surplus_t, None, surplus_t, 0.0, f"no banking limit in {ruleset.id}")
    if net_sales_t is None:
        raise MissingParameterError("net_sales_t", ruleset.id, "net allowances sold 2019-2024 from the ledger")
    base = ruleset.param("flex.banking_base", year=year, overrides=params, unit="tCO2")
    mult = ruleset.param("flex.banking_sales_multiplier", year=year, overrides=params)
    limit = base + mult * max(0.0, net_sales_t)
    carried = min(surplus_t, limit)
    return Banking(surplus_t, limit, carried, surplus_t - carried,
                   f"{base:,.0f} + {mult:g} × net sales {net_sales_t:,.0f} = {limit:,.0f} t")


# ---- offsets at surrender -----------------------------------------------------------------------------
@dataclass(frozen=True)
class OffsetLot:
    """Offsets offered for surrender (a serial block of CCER or PHCER)."""

    lot_id: str
    unit_type: str                 # CCER | PHCER
    amount_t: float
    vintage: int
    _: KW_ONLY                     # the rest by keyword only: origin and type must never be swapped
    origin_province: str           # where the project is (a rule set's jurisdiction id, e.g. "guangdong")
    project_type: str = ""
    origin_pilot: bool = False     # from another ETS pilot region
    pre_cdm: bool = False
    inside_boundary: bool = False  # reductions inside the surrendering enterprise's own boundary


@dataclass(frozen=True)
class Refusal:
    lot_id: str
    rule: str
    refused_t: float
    detail: str  # a :class:`~carbonpeak.i18n.Msg` (message key + parameters); its str is the English text


@dataclass(frozen=True)
class SurrenderCheck:
    accepted: dict[str, float]
    refusals: tuple[Refusal, ...]
    limit_t: float | None
    local_t: float           # accepted local offsets of the types the local-share rule covers
    nonlocal_t: float        # accepted non-local offsets of those types
    other_t: float = 0.0     # accepted offsets outside the local-share rule (e.g. PHCER in Guangdong)

    @property
    def accepted_t(self) -> float:
        return float(sum(self.accepted.values()))

    def to_dict(self) -> dict[str, Any]:
        return {"accepted": dict(self.accepted), "accepted_t": self.accepted_t, "limit_t": self.limit_t,
                "local_t": self.local_t, "nonlocal_t": self.nonlocal_t, "other_t": self.other_t,
                "refusals": [asdict(r) for r in self.refusals]}


def _excluded(lot: OffsetLot, ruleset: RuleSet) -> tuple[str, Msg | str]:
    """``(rule, detail)`` of the first exclusion that refuses the lot, or ``("", "")``."""
    for e in ruleset.exclusions:
        if e.unit_types and lot.unit_type not in e.unit_types:
            continue
        hit = ((e.attribute == "project_type" and lot.project_type == e.value)
               or (e.attribute == "origin_pilot" and lot.origin_pilot)
               or (e.attribute == "pre_cdm" and lot.pre_cdm)
               or (e.attribute == "inside_boundary" and lot.inside_boundary)
               or (e.attribute == "vintage_before" and lot.vintage < int(e.value)))
        if hit:
            args: dict[str, Any] = {"project_type": {"value": str(e.value)},
                                    "vintage_before": {"vintage": int(lot.vintage), "value": str(e.value)}}.get(e.attribute, {})
            what = Msg(f"markets.exclusion.{e.attribute}", **args)
            return f"exclusion.{e.attribute}", Msg("markets.refusal.exclusion", what=what, source=e.source.cite())
    return "", ""


def check_surrender(lots: Sequence[OffsetLot], ruleset: RuleSet, *, year: int, obligation_t: float,
                    last_year_emissions_t: float | None = None, pool_remaining_t: float | None = None,
                    home_province: str | None = None,
                    params: Mapping[str, ParamValue] | None = None) -> SurrenderCheck:
    """Offset eligibility at surrender: accepted amounts per lot, and every refusal with its rule.

    Order of the checks (a lot keeps its order of offer; earlier lots are served first):

    1. unit type (CCER/PHCER; national: CCER only) and the rule set's exclusions (type, pre-CDM,
       other pilots, own boundary, vintage) -- the whole lot is refused;
    2. the quantitative limit: Guangdong ``offsets.limit_share`` × last year's emissions; national
       ``offsets.limit_share_of_obligation`` × obligation; never more than the obligation;
    3. the local-origin share (Guangdong ``offsets.local_share_min``, applied to the unit types in
       the rule set's ``offsets_local_share_types`` -- CCER in Guangdong: "70 % of submitted CCER must
       come from Guangdong"; PHCER are Guangdong reductions anyway): non-local offsets of those types
       are accepted only up to ``(1 − s)/s`` × the accepted local ones (so local >= s × their total);
    4. the province-wide pool remaining (``pool_remaining_t``, from the ledger; required where the
       rule set has a pool rule).

    ``last_year_emissions_t`` is the verified emissions of the year being surrendered for (the
    "previous year" at surrender time: for the 2016 compliance, 10 % of 2016 emissions, ets-china.org
    Jan 2017).

    The greedy order is optimal: local offsets never reduce what non-local offsets can use, so
    accepting local first maximises the total within every limit.
    """
    home_province = home_province or ruleset.jurisdiction
    ids = [x.lot_id for x in lots]
    if len(set(ids)) != len(ids):
        raise ComplianceError("offset lots must have distinct lot_id values")
    if obligation_t < 0:
        raise ComplianceError("obligation is negative")
    refusals: list[Refusal] = []
    eligible: list[OffsetLot] = []
    national = ruleset.scheme == "national_ets"
    for lot in lots:
        if lot.amount_t < 0:
            raise ComplianceError(f"offset lot {lot.lot_id}: negative amount")
        allowed = ("CCER",) if national else UNIT_TYPES_OFFSET
        if lot.unit_type not in allowed:
            refusals.append(Refusal(lot.lot_id, "unit_type", lot.amount_t,
                                    Msg("markets.refusal.unit_type", unit_type=str(lot.unit_type), ruleset=str(ruleset.id),
                                        allowed=", ".join(allowed))))
            continue
        rule, why = _excluded(lot, ruleset)
        if rule:
            refusals.append(Refusal(lot.lot_id, rule, lot.amount_t, why))
            continue
        eligible.append(lot)

    # the quantitative limit
    if ruleset.has("offsets.limit_share", year=year):
        if last_year_emissions_t is None:
            raise MissingParameterError("last_year_emissions_t", ruleset.id,
                                        "the 10 % limit is on the previous year's actual emissions")
        share = ruleset.param("offsets.limit_share", year=year, overrides=params)
        limit = share * last_year_emissions_t
        limit_rule, limit_text = "limit_share", Msg("markets.limit.share_of_emissions", share=float(share),
                                                    emissions=float(last_year_emissions_t))
    elif ruleset.has("offsets.limit_share_of_obligation", year=year):
        share = ruleset.param("offsets.limit_share_of_obligation", year=year, overrides=params)
        limit = share * obligation_t
        limit_rule, limit_text = "limit_share_of_obligation", Msg("markets.limit.share_of_obligation", share=float(share),
                                                                  obligation=float(obligation_t))
    else:
        limit, limit_rule, limit_text = obligation_t, "obligation", Msg("markets.limit.obligation")
    if limit > obligation_t:
        limit, limit_rule, limit_text = obligation_t, "obligation", Msg("markets.limit.obligation_t",
                                                                        obligation=float(obligation_t))

    # the pool
    pool: float | None = None
    if ruleset.has("offsets.pool", year=year):
        if pool_remaining_t is None:
            try:
                pool = ruleset.param("offsets.pool", year=year, overrides=params, unit="tCO2")
            except MissingParameterError as exc:
                raise MissingParameterError(exc.parameter, ruleset.id,
                                            "or pass pool_remaining_t from the ledger") from None
        else:
            pool = pool_remaining_t
    elif pool_remaining_t is not None:
        pool = pool_remaining_t
    if pool is not None and pool < 0:
        raise ComplianceError("pool_remaining_t is negative")

    local_min = ruleset.param("offsets.local_share_min", year=year, overrides=params) \
        if ruleset.has("offsets.local_share_min", year=year) else 0.0
    ratio = (1 - local_min) / local_min if local_min > 0 else float("inf")
    scope = tuple(ruleset.extra.get("offsets_local_share_types") or UNIT_TYPES_OFFSET)

    def in_scope(x: OffsetLot) -> bool:
        return local_min > 0 and x.unit_type in scope

    accepted: dict[str, float] = {}
    room = limit
    pool_room = pool if pool is not None else float("inf")
    local_acc = other_acc = 0.0
    # first every lot the local-share rule does not hold back (local, or outside its scope) ...
    for lot in [x for x in eligible if not in_scope(x) or x.origin_province == home_province]:
        take = min(lot.amount_t, room)
        refused_limit = lot.amount_t - take
        take_pool = min(take, pool_room)
        if refused_limit > 1e-9:
            refusals.append(Refusal(lot.lot_id, limit_rule, refused_limit,
                                    Msg("markets.refusal.limit", what=limit_text, limit=float(limit))))
        if take - take_pool > 1e-9:
            refusals.append(Refusal(lot.lot_id, "pool", take - take_pool,
                                    Msg("markets.refusal.pool", pool=float(pool or 0.0))))
        accepted[lot.lot_id] = take_pool
        room -= take_pool
        pool_room -= take_pool
        if in_scope(lot):
            local_acc += take_pool
        else:
            other_acc += take_pool
    # ... then the non-local ones, up to (1 - s)/s x the accepted local ones
    nonlocal_acc = 0.0
    for lot in [x for x in eligible if in_scope(x) and x.origin_province != home_province]:
        by_local = max(0.0, local_acc * ratio - nonlocal_acc)
        take = lot.amount_t
        cuts: list[tuple[str, float, Msg]] = []
        for rule, cap, text in (
                (limit_rule, room, Msg("markets.refusal.limit", what=limit_text, limit=float(limit))),
                ("local_share", by_local,
                 Msg("markets.refusal.local_share", types="/".join(scope), share=float(1 - local_min),
                     local=float(local_acc), allows=float(local_acc * ratio))),
                ("pool", pool_room, Msg("markets.refusal.pool", pool=float(pool if pool is not None else 0)))):
            if take > cap:
                cuts.append((rule, take - max(cap, 0.0), text))
                take = max(cap, 0.0)
        for rule, amt, text in cuts:
            if amt > 1e-9:
                refusals.append(Refusal(lot.lot_id, rule, amt, text))
        accepted[lot.lot_id] = take
        room -= take
        pool_room -= take
        nonlocal_acc += take
    for lot in eligible:
        accepted.setdefault(lot.lot_id, 0.0)
    return SurrenderCheck(accepted, tuple(refusals), limit, local_acc, nonlocal_acc, other_acc)
