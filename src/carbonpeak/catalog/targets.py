"""The plan's quantitative targets as data (``data/targets.yaml``) and the plan-sentence map.

Each :class:`Target` carries its id, plan section and action, names, the indicator it is assessed
on, unit, kind, comparator, trajectory, baseline, target year and value, the plan's wording
(binding / strive), the responsible area and the verbatim source sentence.  ``target_sentences.yaml``
lists every sentence of the plan with a quantitative target and the ids it maps to (or why it is
not a target); ``tests/targets/test_catalog.py`` proves the coverage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from carbonpeak.catalog.loader import load_yaml
from carbonpeak.catalog.units import parse_unit
from carbonpeak.errors import CatalogError, UnitError

KINDS = ("level", "share", "change", "rate", "count", "cumulative", "yes_no", "peak")
COMPARATORS = ("at_least", "at_most", "about", "between")
TRAJECTORIES = ("linear", "constant_rate", "none")
WORDINGS = ("binding", "strive")
SPECIAL_UNITS = ("year", "%/yr")


@dataclass(frozen=True)
class Baseline:
    year: int
    value: float | None = None
    unit: str = ""
    source: str = ""
    status: str = ""


@dataclass(frozen=True)
class Target:
    id: str
    section: str
    action: int | None
    name_zh: str
    name_en: str
    indicator: str
    unit: str
    kind: str
    comparator: str
    trajectory: str
    target_year: int
    target_value: float
    wording: str
    area: str
    sentence: str
    status: str
    baseline: Baseline | None = None
    start_year: int | None = None
    tolerance: float | None = None
    target_low: float | None = None
    target_high: float | None = None
    assigned_by: str = ""
    in_plan: bool = True
    value_source: str = ""
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def name(self, lang: str = "en") -> str:
        return self.name_zh if lang == "zh" else self.name_en

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if k not in ("baseline", "extra")}
        d["baseline"] = None if self.baseline is None else dict(self.baseline.__dict__)
        d.update(self.extra)
        return d


@dataclass(frozen=True)
class TargetCatalog:
    targets: dict[str, Target]
    defaults: dict[str, Any]
    decomposition: dict[str, Any]
    plan: dict[str, Any]

    def get(self, target_id: str) -> Target:
        try:
            return self.targets[target_id]
        except KeyError:
            raise CatalogError(f"unknown target '{target_id}'; see `carbonpeak targets list`") from None

    def tolerance(self, t: Target) -> float:
        """Absolute tolerance of an ``about`` target, in the target's unit (0 for the others)."""
        if t.comparator != "about":
            return 0.0
        if t.tolerance is not None:
            return float(t.tolerance)
        tol = self.defaults.get("about_tolerance", {})
        if t.kind == "share" or t.unit == "%":
            return float(tol.get("share", 1.0))
        return abs(t.target_value) * float(tol.get("level_rel", 0.05))


_REQUIRED = (
    "id", "section", "name_zh", "name_en", "indicator", "unit", "kind", "comparator", "trajectory",
    "target_year", "target_value", "wording", "area", "sentence", "status",
)


def _target(raw: dict[str, Any], where: str) -> Target:
    missing = [k for k in _REQUIRED if k not in raw]
    if missing:
        raise CatalogError(f"{where}: target {raw.get('id', '?')} lacks {', '.join(missing)}")
    tid = raw["id"]
    for key, allowed in (("kind", KINDS), ("comparator", COMPARATORS), ("trajectory", TRAJECTORIES),
                         ("wording", WORDINGS)):
        if raw[key] not in allowed:
            raise CatalogError(f"{where}: target {tid}: {key} '{raw[key]}' not in {', '.join(allowed)}")
    if raw["unit"] not in SPECIAL_UNITS:
        try:
            parse_unit(str(raw["unit"]))
        except UnitError as exc:
            raise CatalogError(f"{where}: target {tid}: {exc}") from None
    if raw.get("in_plan", True) and not str(raw["sentence"]).strip():
        raise CatalogError(f"{where}: target {tid}: a plan target needs its source sentence")
    if raw["comparator"] == "between" and ("target_low" not in raw or "target_high" not in raw):
        raise CatalogError(f"{where}: target {tid}: 'between' needs target_low and target_high")
    if raw["kind"] in ("change", "rate") and not raw.get("baseline"):
        raise CatalogError(f"{where}: target {tid}: kind {raw['kind']} needs a baseline year")
    if raw["kind"] == "cumulative" and "start_year" not in raw:
        raise CatalogError(f"{where}: target {tid}: cumulative needs start_year")
    b = raw.get("baseline")
    baseline = None
    if b:
        baseline = Baseline(
            year=int(b["year"]), value=None if b.get("value") is None else float(b["value"]),
            unit=str(b.get("unit", raw["unit"])), source=str(b.get("source", "")), status=str(b.get("status", "")),
        )
    known = set(Target.__dataclass_fields__)
    return Target(
        id=tid, section=str(raw["section"]), action=raw.get("action"), name_zh=raw["name_zh"],
        name_en=raw["name_en"], indicator=raw["indicator"], unit=str(raw["unit"]), kind=raw["kind"],
        comparator=raw["comparator"], trajectory=raw["trajectory"], target_year=int(raw["target_year"]),
        target_value=float(raw["target_value"]), wording=raw["wording"], area=raw["area"],
        sentence=str(raw["sentence"]).strip(), status=raw["status"], baseline=baseline,
        start_year=raw.get("start_year"), tolerance=raw.get("tolerance"),
        target_low=raw.get("target_low"), target_high=raw.get("target_high"),
        assigned_by=str(raw.get("assigned_by", "")), in_plan=bool(raw.get("in_plan", True)), value_source=str(raw.get("value_source", "")).strip(),
        note=str(raw.get("note", "")).strip(),
        extra={k: v for k, v in raw.items() if k not in known},
    )


def load_targets(path: str | Path | None = None) -> TargetCatalog:
    """The target catalog (packaged ``targets.yaml`` unless ``path`` is given)."""
    return _load(str(path or "targets.yaml"))


@lru_cache(maxsize=8)
def _load(name: str) -> TargetCatalog:
    doc = load_yaml(name) or {}
    out: dict[str, Target] = {}
    for raw in doc.get("targets") or []:
        t = _target(raw, name)
        if t.id in out:
            raise CatalogError(f"{name}: target id {t.id} defined twice")
        out[t.id] = t
    return TargetCatalog(out, doc.get("defaults") or {}, doc.get("decomposition") or {}, doc.get("plan") or {})


def load_target_sentences() -> list[dict[str, Any]]:
    """The plan-sentence map: ``[{text, targets: [...]} | {text, non_target: reason}]``."""
    return list((load_yaml("target_sentences.yaml") or {}).get("sentences") or [])


@dataclass(frozen=True)
class Indicator:
    id: str
    name_zh: str
    name_en: str
    unit: str
    kind: str
    computed: bool = False
    formula: str = ""

    def name(self, lang: str = "en") -> str:
        return self.name_zh if lang == "zh" else self.name_en


@lru_cache(maxsize=1)
def load_indicators() -> dict[str, Indicator]:
    """Indicators of ``data/indicators.yaml`` keyed by id."""
    doc = load_yaml("indicators.yaml") or {}
    out: dict[str, Indicator] = {}
    for iid, f in (doc.get("indicators") or {}).items():
        if not {"name_zh", "name_en", "unit", "kind"} <= set(f):
            raise CatalogError(f"indicators.yaml: {iid} needs name_zh, name_en, unit and kind")
        out[iid] = Indicator(
            iid, f["name_zh"], f["name_en"], str(f["unit"]), f["kind"], bool(f.get("computed", False)),
            str(f.get("formula", "")),
        )
    return out
