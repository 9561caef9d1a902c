"""Coverage screening (issue 11 §2): which enterprises a rule set covers, and a proposed widening.

Rule (``data/markets/sectors.csv``): an enterprise of a covered sector is screened in when ANY of
its sector's thresholds is reached -- verified emissions >= ``threshold_tco2`` tCO2/yr, OR energy
use >= ``threshold_tce`` tce/yr, OR (data centres) >= ``threshold_racks`` standard racks.
``mandatory`` sectors are covered on the threshold; ``voluntary`` sectors (textiles, airports,
public buildings in Guangdong) only when the enterprise applied and reaches a threshold; ``excluded``
sectors (moved to the national ETS) and excluded regions (Shenzhen) are never covered.

Inputs come from the store (verified reports, monitoring energy use, data-centre racks).  The frame
form takes columns ``enterprise_id, sector, year`` and any of ``emissions_tco2, energy_tce, racks``,
optional ``name, city, applied`` (bool), ``verified`` (bool).

    screen_frame(df, load_ruleset("guangdong-2024"))            -> one row per enterprise-year
    widening(df, rs, sectors=("ceramics", "textiles", "data_centre", "public_buildings", "transport"))
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from carbonpeak.catalog.markets import RuleSet, SectorCoverage
from carbonpeak.errors import Problem, ValidationError

#: The sectors plan action 36 asks to bring in (陶瓷、纺织、数据中心、公共建筑、交通运输).
PLAN_WIDENING: tuple[str, ...] = ("ceramics", "textiles", "data_centre", "public_buildings", "transport")

STATUSES = ("mandatory", "voluntary", "below_threshold", "not_applied", "sector_not_covered",
            "sector_excluded", "region_excluded", "unverified")


@dataclass(frozen=True)
class EnterpriseYear:
    enterprise_id: str
    sector: str
    year: int
    emissions_tco2: float | None = None
    energy_tce: float | None = None
    racks: float | None = None
    city: str = ""
    name: str = ""
    applied: bool = False
    verified: bool = True


@dataclass(frozen=True)
class CoverageDecision:
    enterprise_id: str
    sector: str
    year: int
    city: str
    covered: bool
    status: str
    basis: str
    emissions_tco2: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Widening:
    """Entities newly covered by a proposed widening and the emissions brought under the cap."""

    entities: pd.DataFrame          # enterprise_id, sector, city, year, emissions_tco2, basis
    by_sector: pd.DataFrame         # sector, entities, emissions_tco2
    emissions_tco2: float
    thresholds: dict[str, dict[str, float | None]]


def _num(v: Any) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _bool(v: Any, default: bool) -> bool:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v == "":
        return default
    if isinstance(v, str):
        return v.strip().lower() in ("1", "true", "yes", "y", "是")
    return bool(v)


def _reaches(e: EnterpriseYear, th: SectorCoverage) -> str:
    """The first threshold reached, as text ('' if none)."""
    tests = (("emissions_tco2", th.threshold_tco2, "tCO2"), ("energy_tce", th.threshold_tce, "tce"),
             ("racks", th.threshold_racks, "standard racks"))
    for attr, limit, unit in tests:
        v = _num(getattr(e, attr))
        if limit is not None and v is not None and v >= limit:
            return f"{attr.split('_')[0]} {v:,.0f} >= {limit:,.0f} {unit}"
    return ""


def decide(e: EnterpriseYear, ruleset: RuleSet, sector_rule: SectorCoverage | None = None,
           require_verified: bool = True) -> CoverageDecision:
    """The coverage decision for one enterprise-year under ``ruleset`` (or a given sector rule)."""
    rule = sector_rule or ruleset.sector(e.sector)
    em = _num(e.emissions_tco2)

    def d(covered: bool, status: str, basis: str) -> CoverageDecision:
        return CoverageDecision(e.enterprise_id, e.sector, e.year, e.city, covered, status, basis, em)

    if e.city and e.city in ruleset.excluded_regions:
        return d(False, "region_excluded", f"{e.city} is outside rule set {ruleset.id}")
    if rule is None:
        return d(False, "sector_not_covered", f"sector '{e.sector}' is not in rule set {ruleset.id}")
    if rule.coverage == "excluded":
        return d(False, "sector_excluded", rule.note or f"sector '{e.sector}' excluded")
    if require_verified and not e.verified:
        return d(False, "unverified", "emissions not verified yet")
    basis = _reaches(e, rule)
    if not basis:
        return d(False, "below_threshold", "no threshold reached")
    if rule.coverage == "voluntary" and not e.applied:
        return d(False, "not_applied", f"voluntary sector; {basis}; no application")
    status = "voluntary" if rule.coverage == "voluntary" else "mandatory"
    return d(True, status, basis)


def screen(enterprises: Iterable[EnterpriseYear], ruleset: RuleSet,
           require_verified: bool = True) -> list[CoverageDecision]:
    """Coverage decisions for many enterprise-years."""
    return [decide(e, ruleset, require_verified=require_verified) for e in enterprises]


REQUIRED = ("enterprise_id", "sector", "year")
MEASURES = ("emissions_tco2", "energy_tce", "racks")


def records_from_frame(df: pd.DataFrame, file: str = "") -> list[EnterpriseYear]:
    """Typed records from a frame; a :class:`ValidationError` names row and field of every problem."""
    problems: list[Problem] = []
    for c in REQUIRED:
        if c not in df.columns:
            problems.append(Problem(file, None, c, "missing column"))
    if not any(c in df.columns for c in MEASURES):
        problems.append(Problem(file, None, None, f"needs at least one of {', '.join(MEASURES)}"))
    if problems:
        raise ValidationError(problems)
    out: list[EnterpriseYear] = []
    for i, r in enumerate(df.to_dict("records")):
        row = int(r.get("__row__", i + 2))
        try:
            year = int(r["year"])
        except (TypeError, ValueError):
            problems.append(Problem(file, row, "year", f"not a year: {r['year']!r}"))
            continue
        vals: dict[str, float | None] = {}
        for c in MEASURES:
            raw = r.get(c)
            v = _num(raw)
            if raw not in (None, "") and v is None and not (isinstance(raw, float) and math.isnan(raw)):
                problems.append(Problem(file, row, c, f"not a number: {raw!r}"))
            elif v is not None and v < 0:
                problems.append(Problem(file, row, c, f"negative: {v}"))
            vals[c] = v
        out.append(EnterpriseYear(str(r["enterprise_id"]), str(r["sector"]), year, vals.get("emissions_tco2"),
                                  vals.get("energy_tce"), vals.get("racks"), str(r.get("city") or ""),
                                  str(r.get("name") or ""), _bool(r.get("applied"), False),
                                  _bool(r.get("verified"), True)))
    if problems:
        raise ValidationError(problems)
    return out


def screen_frame(df: pd.DataFrame, ruleset: RuleSet, require_verified: bool = True) -> pd.DataFrame:
    """:func:`screen` on a frame; one row per enterprise-year with ``covered, status, basis``."""
    rows = [d.to_dict() for d in screen(records_from_frame(df), ruleset, require_verified)]
    return pd.DataFrame(rows, columns=["enterprise_id", "sector", "year", "city", "covered", "status", "basis",
                                       "emissions_tco2"])


def covered_emissions(decisions: Sequence[CoverageDecision], by: str = "sector") -> pd.DataFrame:
    """Covered entities and emissions grouped by ``sector``, ``city`` or ``year``."""
    df = pd.DataFrame([d.to_dict() for d in decisions if d.covered])
    if df.empty:
        return pd.DataFrame(columns=[by, "entities", "emissions_tco2"])
    g = df.groupby(by).agg(entities=("enterprise_id", "nunique"), emissions_tco2=("emissions_tco2", "sum"))
    return g.reset_index()


def widening(enterprises: Iterable[EnterpriseYear] | pd.DataFrame, ruleset: RuleSet,
             sectors: Sequence[str] = PLAN_WIDENING,
             thresholds: Mapping[str, Mapping[str, float | None]] | None = None) -> Widening:
    """Entities a proposed widening brings under the cap, and their emissions.

    The listed ``sectors`` become mandatory with the thresholds in ``thresholds[sector]`` (keys
    ``tco2``, ``tce``, ``racks``), else the sector's own thresholds in the rule set, else the rule
    set's default row (``sector = *``).  Entities already covered under the rule set as it stands
    are not counted again; excluded regions stay excluded.
    """
    recs = records_from_frame(enterprises) if isinstance(enterprises, pd.DataFrame) else list(enterprises)
    default = ruleset.default_thresholds()
    used: dict[str, dict[str, float | None]] = {}
    rules: dict[str, SectorCoverage] = {}
    for s in sectors:
        own = ruleset.sector(s)
        base = own if own is not None and own.coverage != "excluded" else default
        if base is None and not (thresholds and s in thresholds):
            raise ValidationError([Problem("", None, "thresholds",
                                           f"no thresholds for sector '{s}' in rule set {ruleset.id}; give them")])
        t = dict(thresholds.get(s, {})) if thresholds and s in thresholds else {}
        th = (t.get("tco2", base.threshold_tco2 if base else None), t.get("tce", base.threshold_tce if base else None),
              t.get("racks", base.threshold_racks if base else None))
        used[s] = {"tco2": th[0], "tce": th[1], "racks": th[2]}
        src = base.source if base else ruleset.source
        rules[s] = SectorCoverage(ruleset.id, s, base.name_zh if base else s, "mandatory", th[0], th[1], th[2], src)
    rows = []
    for e in recs:
        if e.sector not in rules:
            continue
        now = decide(e, ruleset)
        if now.covered:
            continue
        after = decide(e, ruleset, rules[e.sector])
        if after.covered:
            rows.append({"enterprise_id": e.enterprise_id, "name": e.name, "sector": e.sector, "city": e.city,
                         "year": e.year, "emissions_tco2": after.emissions_tco2 or 0.0, "basis": after.basis,
                         "status_before": now.status})
    ent = pd.DataFrame(rows, columns=["enterprise_id", "name", "sector", "city", "year", "emissions_tco2", "basis",
                                      "status_before"])
    if ent.empty:
        by = pd.DataFrame({"sector": list(sectors), "entities": 0, "emissions_tco2": 0.0})
    else:
        by = (ent.groupby("sector").agg(entities=("enterprise_id", "nunique"), emissions_tco2=("emissions_tco2", "sum"))
              .reindex(list(sectors), fill_value=0).reset_index())
        by["emissions_tco2"] = by["emissions_tco2"].astype(float)
    return Widening(ent, by, float(ent["emissions_tco2"].sum()) if not ent.empty else 0.0, used)
