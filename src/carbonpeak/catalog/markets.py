"""Emissions-trading rule sets as data (issue 11 §1): ``data/markets/*``.

A :class:`RuleSet` bundles, for one scheme and compliance year(s), every rule parameter as a sourced
row: coverage thresholds by sector (``sectors.csv``), the allocation method by sector and activity
(``methods.csv``), numeric parameters -- benchmarks by product and year, annual factors, free shares,
offset limits, penalty multipliers and fines, flexibility caps, banking and borrowing
(``parameters.csv``) --, the MRV calendar (``calendar.csv``) and the offset exclusions
(``offset_exclusions.csv``).  Every row carries its source (document, article/table, edition, url)
and a status (``verified`` / ``unverified`` / ``estimate``; :data:`carbonpeak.catalog.loader.STATUSES`).

A parameter row with an empty value is a **required parameter**: the value was not published or not
found (e.g. the Guangdong sector benchmarks of the 2023/2024 annexes).  :meth:`RuleSet.param` then
raises :class:`MissingParameterError` naming the parameter unless the run supplies it in
``overrides`` -- a value is never invented.

Shipped rule sets: ``guangdong-2024``, ``national-power-2019-2020`` (plus ``national-power-2021-2022``,
``national-power-2023-2024`` for the flexibility rules of those years and ``national-draft-2017``, a
draft not in force, for the worked example W3).

Consistency check (PyPSA-style: many small checks, a ``strict`` switch):
``check_rulesets(strict=False)`` returns the list of problems; with ``strict=True`` it raises
:class:`~carbonpeak.errors.CatalogError` on the first call that finds any.

Usage::

    rs = load_ruleset("guangdong-2024")
    rs.param("allocation.history.annual_factor", year=2024)           # 0.98
    rs.param("allocation.benchmark.value", "paper", "ordinary_paper")  # MissingParameterError
    rs.param("allocation.benchmark.value", "paper", "ordinary_paper",
             overrides={"allocation.benchmark.value[paper:ordinary_paper]": "0.6 tCO2/t"})
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pint

from carbonpeak.catalog.loader import STATUSES, load_csv, load_yaml
from carbonpeak.catalog.units import Q_, parse_unit
from carbonpeak.errors import CarbonpeakError, CatalogError, UnitError

DIR = "markets"
METHODS = ("benchmark", "intensity", "history", "power_benchmark")
COVERAGES = ("default", "mandatory", "voluntary", "excluded")
EVENTS = ("report", "verification", "offset_application", "surrender_95pct", "surrender")
EXCLUSION_ATTRIBUTES = ("project_type", "origin_pilot", "pre_cdm", "vintage_before", "inside_boundary")

#: A value passed to a run: a number (in the catalog row's unit), a pint Quantity or a string such as
#: ``"0.6 tCO2/t"``.
ParamValue = float | int | str | pint.Quantity


class MissingParameterError(CarbonpeakError):
    """A rule parameter has no published value and the run did not supply one.

    ``parameter`` is the qualified name to pass in ``overrides`` (see :func:`qualified_name`).
    """

    def __init__(self, parameter: str, ruleset: str, note: str = "") -> None:
        self.parameter = parameter
        self.ruleset = ruleset
        msg = (f"rule set '{ruleset}': required parameter '{parameter}' has no published value; "
               f"supply it to the run (e.g. params={{'{parameter}': ...}})")
        if note:
            msg += f" -- {note}"
        super().__init__(msg)


@dataclass(frozen=True)
class Source:
    """Where a rule comes from."""

    document: str
    article: str = ""
    edition: str = ""
    url: str = ""
    status: str = "unverified"

    def cite(self) -> str:
        parts = [p for p in (self.document, self.article, self.edition) if p]
        s = ", ".join(parts)
        if self.url:
            s += f" <{self.url}>"
        return f"{s} [{self.status}]"


@dataclass(frozen=True)
class Parameter:
    """One numeric rule parameter; ``value is None`` = required parameter (not published/found)."""

    ruleset: str
    key: str
    sector: str
    product: str
    year: int | None
    value: float | None
    unit: str
    source: Source
    note: str = ""

    @property
    def required(self) -> bool:
        return self.value is None

    @property
    def name(self) -> str:
        return qualified_name(self.key, self.sector, self.product)


@dataclass(frozen=True)
class SectorCoverage:
    ruleset: str
    sector: str
    name_zh: str
    coverage: str
    threshold_tco2: float | None
    threshold_tce: float | None
    threshold_racks: float | None
    source: Source
    note: str = ""


@dataclass(frozen=True)
class MethodRule:
    ruleset: str
    sector: str
    activity: str
    method: str
    source: Source
    note: str = ""


@dataclass(frozen=True)
class Deadline:
    ruleset: str
    event: str
    year: int | None
    month: int
    day: int
    year_offset: int
    source: Source
    note: str = ""

    def date(self, compliance_year: int) -> dt.date:
        return dt.date(compliance_year + self.year_offset, self.month, self.day)


@dataclass(frozen=True)
class OffsetExclusion:
    ruleset: str
    attribute: str
    value: str
    unit_types: tuple[str, ...]
    source: Source
    note: str = ""


@dataclass(frozen=True)
class RuleSet:
    id: str
    name_zh: str
    name_en: str
    jurisdiction: str
    scheme: str
    unit_type: str
    compliance_years: tuple[int, ...]
    excluded_regions: tuple[str, ...]
    source: Source
    note: str = ""
    parameters: tuple[Parameter, ...] = ()
    sectors: tuple[SectorCoverage, ...] = ()
    methods: tuple[MethodRule, ...] = ()
    calendar: tuple[Deadline, ...] = ()
    exclusions: tuple[OffsetExclusion, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    # ---- parameters -------------------------------------------------------------------------
    def find(self, key: str, sector: str = "*", product: str = "*", year: int | None = None) -> Parameter:
        """The best-matching parameter row: exact sector/product before ``*``; latest year <= ``year``.

        Raises :class:`CatalogError` when the rule set has no such rule at all.
        """
        best: tuple[tuple[int, int, int], Parameter] | None = None
        for p in self.parameters:
            if p.key != key:
                continue
            if p.sector not in (sector, "*") or p.product not in (product, "*"):
                continue
            if year is not None and p.year is not None and p.year > year:
                continue
            rank = (int(p.sector == sector), int(p.product == product), p.year if p.year is not None else -1)
            if best is None or rank > best[0]:
                best = (rank, p)
        if best is None:
            raise CatalogError(
                f"rule set '{self.id}' has no rule '{qualified_name(key, sector, product)}'"
                + (f" for {year}" if year is not None else "")
                + f" (see data/{DIR}/parameters.csv)"
            )
        return best[1]

    def has(self, key: str, sector: str = "*", product: str = "*", year: int | None = None) -> bool:
        try:
            self.find(key, sector, product, year)
        except CatalogError:
            return False
        return True

    def quantity(self, key: str, sector: str = "*", product: str = "*", year: int | None = None,
                 overrides: Mapping[str, ParamValue] | None = None) -> pint.Quantity:
        """A parameter as a pint Quantity (overrides first, then the catalog row).

        ``overrides`` keys are qualified names (``key``, ``key[sector]`` or ``key[sector:product]``);
        the most specific matching key wins.  A number is read in the catalog row's unit; a string
        such as ``"0.6 tCO2/t"`` or a Quantity carries its own unit.
        """
        row: Parameter | None
        try:
            row = self.find(key, sector, product, year)
        except CatalogError:
            row = None
        for name in _candidate_names(key, sector, product):
            if overrides and name in overrides:
                return _as_quantity(overrides[name], row.unit if row else "", name, self.id)
        if row is None:
            raise MissingParameterError(qualified_name(key, sector, product), self.id,
                                        "the rule set has no such rule")
        if row.value is None:
            raise MissingParameterError(row.name, self.id, row.note)
        return Q_(row.value, parse_unit(row.unit or "1").units) * parse_unit(row.unit or "1").magnitude

    def param(self, key: str, sector: str = "*", product: str = "*", year: int | None = None,
              overrides: Mapping[str, ParamValue] | None = None, unit: str | None = None) -> float:
        """A parameter's magnitude, in ``unit`` (default: the catalog row's unit)."""
        q = self.quantity(key, sector, product, year, overrides)
        target = unit
        if target is None:
            try:
                target = self.find(key, sector, product, year).unit or None
            except CatalogError:
                target = None
        if target is None:
            return float(q.magnitude)
        try:
            return float(q.to(parse_unit(target).units).magnitude / parse_unit(target).magnitude)
        except pint.errors.DimensionalityError as exc:
            raise UnitError(f"rule set '{self.id}': parameter '{qualified_name(key, sector, product)}' "
                            f"is in {q.units}, cannot be read as {target}") from exc

    def source_of(self, key: str, sector: str = "*", product: str = "*", year: int | None = None) -> str:
        try:
            return self.find(key, sector, product, year).source.cite()
        except CatalogError:
            return "not in the rule set (run parameter)"

    def required_parameters(self) -> list[Parameter]:
        """Rows without a published value: what a run must supply."""
        return [p for p in self.parameters if p.required]

    # ---- sectors, methods, calendar ------------------------------------------------------------
    def sector(self, sector: str) -> SectorCoverage | None:
        for s in self.sectors:
            if s.sector == sector:
                return s
        return None

    def default_thresholds(self) -> SectorCoverage | None:
        return self.sector("*")

    def method(self, sector: str, activity: str = "*") -> MethodRule:
        exact = [m for m in self.methods if m.sector == sector and m.activity == activity]
        if exact:
            return exact[0]
        wild = [m for m in self.methods if m.sector == sector and m.activity == "*"]
        if wild:
            return wild[0]
        raise CatalogError(f"rule set '{self.id}' has no allocation method for sector '{sector}'"
                           f" activity '{activity}' (see data/{DIR}/methods.csv)")

    def deadline(self, event: str, compliance_year: int) -> Deadline:
        rows = [d for d in self.calendar if d.event == event and d.year in (compliance_year, None)]
        if not rows:
            raise CatalogError(f"rule set '{self.id}' has no '{event}' deadline for {compliance_year}"
                               f" (see data/{DIR}/calendar.csv)")
        rows.sort(key=lambda d: d.year is None)  # a row for the year beats the '*' row
        return rows[0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "name_zh": self.name_zh, "name_en": self.name_en,
            "jurisdiction": self.jurisdiction, "scheme": self.scheme, "unit_type": self.unit_type,
            "compliance_years": list(self.compliance_years), "source": self.source.cite(),
            "required_parameters": [p.name for p in self.required_parameters()],
        }


# ---- names ------------------------------------------------------------------------------------
def qualified_name(key: str, sector: str = "*", product: str = "*") -> str:
    """``key``, ``key[sector]`` or ``key[sector:product]`` -- the name used in run overrides."""
    if sector == "*" and product == "*":
        return key
    if product == "*":
        return f"{key}[{sector}]"
    return f"{key}[{sector}:{product}]"


def _candidate_names(key: str, sector: str, product: str) -> list[str]:
    out = [qualified_name(key, sector, product)]
    if product != "*":
        out.append(qualified_name(key, sector, "*"))
        out.append(qualified_name(key, "*", product))
    if sector != "*":
        out.append(key)
    return list(dict.fromkeys(out))


def _as_quantity(v: ParamValue, unit: str, name: str, ruleset: str) -> pint.Quantity:
    if isinstance(v, pint.Quantity):
        return v
    if isinstance(v, str):
        try:
            return parse_unit(v) if any(c.isalpha() for c in v) else Q_(float(v), parse_unit(unit or "1").units)
        except (UnitError, ValueError) as exc:
            raise UnitError(f"rule set '{ruleset}': parameter '{name}': cannot read '{v}': {exc}") from exc
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise UnitError(f"rule set '{ruleset}': parameter '{name}': expected a number or quantity, got {v!r}")
    if not unit:
        raise UnitError(f"rule set '{ruleset}': parameter '{name}' has no unit in the catalog; "
                        f"give it with its unit, e.g. '{v} tCO2/t'")
    u = parse_unit(unit)
    return Q_(float(v), u.units) * u.magnitude


# ---- loading ----------------------------------------------------------------------------------
def _opt_float(s: str) -> float | None:
    s = str(s).strip()
    return None if s == "" else float(s)


def _opt_int(s: str) -> int | None:
    s = str(s).strip()
    return None if s in ("", "*") else int(s)


def _src(r: Mapping[str, str], url_field: str = "source") -> Source:
    return Source(str(r.get("document", "")), str(r.get("article", "")), str(r.get("edition", "")),
                  str(r.get(url_field, "")), str(r.get("status", "unverified")) or "unverified")


def _rows(name: str, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    df = load_csv(f"{DIR}/{name}")
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise CatalogError(f"data/{DIR}/{name}: missing column(s) {', '.join(missing)}")
    # row numbers as a person sees them: comment lines are skipped by the reader, so count them
    return [(i, {k: str(v).strip() for k, v in r.items()}) for i, r in enumerate(df.to_dict("records"))]


def _bad(name: str, idx: int, fld: str, msg: str) -> CatalogError:
    return CatalogError(f"data/{DIR}/{name}, data row {idx + 1}, field '{fld}': {msg}")


@lru_cache(maxsize=1)
def _load_all() -> dict[str, RuleSet]:
    meta = load_yaml(f"{DIR}/rulesets.yaml") or {}
    sets = meta.get("rulesets") or {}
    params: dict[str, list[Parameter]] = {k: [] for k in sets}
    sectors: dict[str, list[SectorCoverage]] = {k: [] for k in sets}
    methods: dict[str, list[MethodRule]] = {k: [] for k in sets}
    calendar: dict[str, list[Deadline]] = {k: [] for k in sets}
    excl: dict[str, list[OffsetExclusion]] = {k: [] for k in sets}

    def owner(name: str, i: int, r: dict[str, str]) -> str:
        rid = r["ruleset"]
        if rid not in sets:
            raise _bad(name, i, "ruleset", f"unknown rule set '{rid}' (not in rulesets.yaml)")
        return rid

    name = "parameters.csv"
    for i, r in _rows(name, ("ruleset", "key", "sector", "product", "year", "value", "unit", "status")):
        rid = owner(name, i, r)
        try:
            value = _opt_float(r["value"])
            year = _opt_int(r["year"])
        except ValueError as exc:
            raise _bad(name, i, "value/year", str(exc)) from exc
        params[rid].append(Parameter(rid, r["key"], r["sector"] or "*", r["product"] or "*", year, value,
                                     r["unit"], _src(r), r.get("note", "")))
    name = "sectors.csv"
    for i, r in _rows(name, ("ruleset", "sector", "coverage", "threshold_tco2", "threshold_tce",
                             "threshold_racks", "status")):
        rid = owner(name, i, r)
        try:
            th = tuple(_opt_float(r[c]) for c in ("threshold_tco2", "threshold_tce", "threshold_racks"))
        except ValueError as exc:
            raise _bad(name, i, "threshold", str(exc)) from exc
        sectors[rid].append(SectorCoverage(rid, r["sector"], r.get("name_zh", ""), r["coverage"],
                                           th[0], th[1], th[2], _src(r), r.get("note", "")))
    name = "methods.csv"
    for i, r in _rows(name, ("ruleset", "sector", "activity", "method", "status")):
        rid = owner(name, i, r)
        methods[rid].append(MethodRule(rid, r["sector"], r["activity"] or "*", r["method"], _src(r),
                                       r.get("note", "")))
    name = "calendar.csv"
    for i, r in _rows(name, ("ruleset", "event", "year", "month", "day", "year_offset", "status")):
        rid = owner(name, i, r)
        try:
            d = Deadline(rid, r["event"], _opt_int(r["year"]), int(r["month"]), int(r["day"]),
                         int(r["year_offset"]), _src(r), r.get("note", ""))
            d.date(2000)
        except ValueError as exc:
            raise _bad(name, i, "month/day/year", str(exc)) from exc
        calendar[rid].append(d)
    name = "offset_exclusions.csv"
    for i, r in _rows(name, ("ruleset", "attribute", "value", "unit_types", "status")):
        rid = owner(name, i, r)
        types = tuple(t.strip() for t in r["unit_types"].split(";") if t.strip())
        excl[rid].append(OffsetExclusion(rid, r["attribute"], r["value"], types, _src(r), r.get("note", "")))

    out: dict[str, RuleSet] = {}
    for rid, m in sets.items():
        out[rid] = RuleSet(
            id=rid, name_zh=str(m.get("name_zh", "")), name_en=str(m.get("name_en", "")),
            jurisdiction=str(m.get("jurisdiction", "")), scheme=str(m.get("scheme", "")),
            unit_type=str(m.get("unit_type", "")),
            compliance_years=tuple(int(y) for y in m.get("compliance_years") or ()),
            excluded_regions=tuple(str(x) for x in m.get("excluded_regions") or ()),
            source=Source(str(m.get("document", "")), "", "", str(m.get("source", "")),
                          str(m.get("status", "unverified"))),
            note=str(m.get("note", "")).strip(),
            parameters=tuple(params[rid]), sectors=tuple(sectors[rid]), methods=tuple(methods[rid]),
            calendar=tuple(calendar[rid]), exclusions=tuple(excl[rid]),
            extra={k: v for k, v in m.items() if k not in (
                "name_zh", "name_en", "jurisdiction", "scheme", "unit_type", "compliance_years",
                "excluded_regions", "document", "source", "status", "note")},
        )
    return out


def list_rulesets() -> list[str]:
    """Ids of the shipped rule sets."""
    return sorted(_load_all())


def load_ruleset(ruleset_id: str) -> RuleSet:
    """One rule set by id; :class:`CatalogError` naming the known ids otherwise."""
    sets = _load_all()
    try:
        return sets[ruleset_id]
    except KeyError:
        raise CatalogError(f"unknown market rule set '{ruleset_id}'; known: {', '.join(sorted(sets))}") from None


def ruleset_for(scheme: str, year: int) -> RuleSet:
    """The rule set of ``scheme`` (``guangdong_ets`` / ``national_ets``) whose years include ``year``."""
    hits = [r for r in _load_all().values() if r.scheme == scheme and year in r.compliance_years]
    if not hits:
        raise CatalogError(f"no {scheme} rule set covers compliance year {year}; known: {', '.join(list_rulesets())}")
    return hits[0]


# ---- consistency checks -------------------------------------------------------------------------
def _check_one(rs: RuleSet) -> list[str]:
    p: list[str] = []
    where = f"rule set '{rs.id}'"
    if not rs.compliance_years:
        p.append(f"{where}: no compliance years")
    if rs.source.status not in STATUSES:
        p.append(f"{where}: status '{rs.source.status}' is not one of {', '.join(STATUSES)}")
    seen: set[tuple[str, str, str, int | None]] = set()
    for x in rs.parameters:
        k = (x.key, x.sector, x.product, x.year)
        if k in seen:
            p.append(f"{where}: duplicate parameter {x.name} for year {x.year}")
        seen.add(k)
        if x.source.status not in STATUSES:
            p.append(f"{where}: parameter {x.name}: status '{x.source.status}' unknown")
        if not x.source.document:
            p.append(f"{where}: parameter {x.name}: no source document")
        if x.source.status == "verified" and not x.source.url:
            p.append(f"{where}: parameter {x.name}: 'verified' without a url")
        if x.value is not None and not x.source.url:
            p.append(f"{where}: parameter {x.name}: a value without a source url")
        if x.unit:
            try:
                parse_unit(x.unit)
            except UnitError as exc:
                p.append(f"{where}: parameter {x.name}: {exc}")
        if x.value is not None:
            share_like = x.key.endswith(("share", "share_min", "share_max", "threshold", "utilisation_min"))
            if share_like and not 0.0 <= x.value <= 1.0:
                p.append(f"{where}: parameter {x.name} = {x.value} is a share and must lie in [0, 1]")
            if x.key.endswith("annual_factor") and not 0.0 < x.value <= 1.5:
                p.append(f"{where}: parameter {x.name} = {x.value}: an annual factor outside (0, 1.5]")
            if x.value < 0:
                p.append(f"{where}: parameter {x.name} = {x.value} is negative")
        elif not x.note:
            p.append(f"{where}: required parameter {x.name} has no note saying why it is missing")
    for s in rs.sectors:
        if s.coverage not in COVERAGES:
            p.append(f"{where}: sector {s.sector}: coverage '{s.coverage}' not in {COVERAGES}")
        if s.coverage in ("mandatory", "voluntary", "default") and all(
                t is None for t in (s.threshold_tco2, s.threshold_tce, s.threshold_racks)):
            p.append(f"{where}: sector {s.sector} is {s.coverage} but has no threshold")
        if s.source.status not in STATUSES:
            p.append(f"{where}: sector {s.sector}: status '{s.source.status}' unknown")
    covered = {s.sector for s in rs.sectors if s.coverage in ("mandatory", "voluntary")}
    for m in rs.methods:
        if m.method not in METHODS:
            p.append(f"{where}: method '{m.method}' for {m.sector}/{m.activity} not in {METHODS}")
        if rs.sectors and m.sector not in covered:
            p.append(f"{where}: method for sector '{m.sector}', which is not covered")
    for sec in covered:
        if rs.methods and not any(m.sector == sec for m in rs.methods):
            p.append(f"{where}: covered sector '{sec}' has no allocation method")
    for d in rs.calendar:
        if d.event not in EVENTS:
            p.append(f"{where}: calendar event '{d.event}' not in {EVENTS}")
    for y in rs.compliance_years:
        dates = {}
        for ev in ("report", "verification", "surrender"):
            try:
                dates[ev] = rs.deadline(ev, y).date(y)
            except CatalogError:
                continue
        order = [dates[e] for e in ("report", "verification", "surrender") if e in dates]
        if order != sorted(order):
            p.append(f"{where}: {y}: deadlines out of order (report <= verification <= surrender): {dates}")
    for e in rs.exclusions:
        if e.attribute not in EXCLUSION_ATTRIBUTES:
            p.append(f"{where}: offset exclusion attribute '{e.attribute}' not in {EXCLUSION_ATTRIBUTES}")
    if rs.has("offsets.limit_share") and rs.has("offsets.local_share_min"):
        lim = rs.find("offsets.limit_share")
        loc = rs.find("offsets.local_share_min")
        if lim.value is not None and loc.value is not None and not (0 < lim.value <= 1 and 0 <= loc.value <= 1):
            p.append(f"{where}: offset limits out of range")
    return p


def check_rulesets(strict: bool = False, rulesets: list[RuleSet] | None = None) -> list[str]:
    """Consistency check of the rule sets; ``strict=True`` raises :class:`CatalogError` on any problem."""
    sets = rulesets if rulesets is not None else list(_load_all().values())
    problems = [msg for rs in sets for msg in _check_one(rs)]
    if strict and problems:
        raise CatalogError("market rule sets are inconsistent:\n  " + "\n  ".join(problems))
    return problems
