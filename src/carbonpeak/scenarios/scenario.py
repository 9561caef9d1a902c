"""Scenario definitions with LEAP-style inheritance (sparse overlays on a parent).

A scenario file is YAML::

    name: plan
    inherits: baseline            # optional parent scenario (by name or path)
    description: ...
    horizon: {start: 2020, end: 2035}
    parameters:
      power.wind_solar.capacity:  # flat dotted names, see carbonpeak.scenarios.model.PARAMETERS
        unit: GW
        values: {2020: 13.61, 2030: 74}      # anchors, linearly interpolated, flat afterwards
        target: energy.wind_solar_capacity_2030   # optional id in the target catalog
        source: "..."                         # document, section / table
        status: verified
    uncertainty:
      wind_solar_delivery: {dist: triangular, low: 0.7, mode: 1.0, high: 1.1, unit: "1", note: ...}

Inheritance follows LEAP's expression search (Mitigation → Baseline → Current Accounts): a
parameter (or uncertainty entry) not given in a scenario is looked up in its parent, then the
parent's parent.  An entry that *is* given replaces the parent's entry as a whole (as a LEAP
expression does).  Reading files goes through :mod:`carbonpeak.catalog.loader`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from carbonpeak.catalog.loader import DATA_DIR, STATUSES, load_yaml
from carbonpeak.catalog.units import convert, parse_unit
from carbonpeak.errors import CatalogError, Problem, UnitError, ValidationError
from carbonpeak.i18n import Msg, declare

SCENARIO_DIR = DATA_DIR / "scenarios"
DISTRIBUTIONS = ("normal", "uniform", "triangular", "fixed")

declare({
    "scenario.warn.target_moved": {"name": str, "year": int, "target": str, "old": float, "new": float, "unit": str,
                                   "edited": Msg, "file": str},
    "scenario.warn.another_parameter": {},
})


@dataclass(frozen=True)
class Param:
    """One scenario parameter: a scalar, a text choice or year anchors, with unit and provenance."""

    name: str
    unit: str
    value: float | str | None = None
    values: Mapping[int, float] | None = None
    source: str = ""
    status: str = ""
    note: str = ""
    target: str = ""
    defined_in: str = ""

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "unit": self.unit}
        if self.values is not None:
            d["values"] = {int(k): float(v) for k, v in self.values.items()}
        else:
            d["value"] = self.value
        for k in ("source", "status", "note", "target", "defined_in"):
            if getattr(self, k):
                d[k] = getattr(self, k)
        return d


@dataclass(frozen=True)
class Uncertain:
    """Distribution of one uncertain factor (a lever delivery or a driver shift)."""

    name: str
    dist: str
    unit: str = "1"
    mean: float = 0.0
    sd: float = 0.0
    low: float = 0.0
    mode: float = 0.0
    high: float = 0.0
    value: float = 0.0
    note: str = ""
    defined_in: str = ""

    def nominal(self) -> float:
        """Value used by a deterministic run."""
        return {
            "normal": self.mean,
            "uniform": (self.low + self.high) / 2,
            "triangular": self.mode,
            "fixed": self.value,
        }[self.dist]

    def bounds(self) -> tuple[float, float]:
        """Range used by the Sobol analysis (normal: mean ± 2 sd)."""
        if self.dist == "normal":
            return (self.mean - 2 * self.sd, self.mean + 2 * self.sd)
        if self.dist == "fixed":
            return (self.value, self.value)
        return (self.low, self.high)


@dataclass
class Scenario:
    """A resolved scenario: its own entries merged over its ancestors'."""

    name: str
    description: str
    chain: list[str]
    start: int
    end: int
    params: dict[str, Param] = field(default_factory=dict)
    uncertainty: dict[str, Uncertain] = field(default_factory=dict)
    checks: list[dict[str, Any]] = field(default_factory=list)
    path: str = ""
    #: Parameters of the root of the chain (the calibration, LEAP's Current Accounts): the observed
    #: years of every scenario are taken from them, never from an overlay.
    calibration: dict[str, Param] = field(default_factory=dict)
    #: Things the user must know (a target-derived value moved because another was edited, ...).
    warnings: list[str] = field(default_factory=list)

    @property
    def parent(self) -> str | None:
        return self.chain[1] if len(self.chain) > 1 else None


def available_scenarios() -> list[str]:
    """Names of the packaged scenarios."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))


def _locate(ref: str, base_dir: Path | None) -> Path:
    p = Path(ref)
    if p.suffix in (".yaml", ".yml"):
        if p.exists():
            return p
        if base_dir is not None and (base_dir / p).exists():
            return base_dir / p
        raise CatalogError(f"scenario file not found: {ref}")
    for d in ([base_dir] if base_dir else []) + [SCENARIO_DIR]:
        for ext in (".yaml", ".yml"):
            cand = d / f"{ref}{ext}"
            if cand.exists():
                return cand
    raise CatalogError(
        f"unknown scenario '{ref}'; packaged scenarios: {', '.join(available_scenarios())}"
    )


def _parse_param(name: str, raw: Any, file: str, problems: list[Problem]) -> Param | None:
    if not isinstance(raw, Mapping):
        problems.append(Problem(file, None, name, "parameter must be a mapping with unit and value(s)"))
        return None
    unit = str(raw.get("unit", "")).strip()
    if not unit:
        problems.append(Problem(file, None, name, "missing 'unit'"))
    elif unit != "text":
        try:
            parse_unit(unit)
        except UnitError as exc:
            problems.append(Problem(file, None, name, str(exc)))
    if not (raw.get("source") or raw.get("note")):
        problems.append(Problem(file, None, name, "needs a 'source' or a 'note'"))
    status = str(raw.get("status", "")).strip()
    if status and status not in STATUSES:
        problems.append(Problem(file, None, name, f"status '{status}' not one of {', '.join(STATUSES)}"))
    values = raw.get("values")
    value = raw.get("value")
    if values is None and value is None:
        problems.append(Problem(file, None, name, "needs 'value' or 'values'"))
        return None
    anchors: dict[int, float] | None = None
    if values is not None:
        if not isinstance(values, Mapping) or not values:
            problems.append(Problem(file, None, name, "'values' must map year → number"))
            return None
        try:
            anchors = {int(k): float(v) for k, v in sorted(values.items(), key=lambda kv: int(kv[0]))}
        except (TypeError, ValueError):
            problems.append(Problem(file, None, name, "'values' must map year → number"))
            return None
    elif unit != "text":
        try:
            value = float(value)
        except (TypeError, ValueError):
            problems.append(Problem(file, None, name, f"value '{value}' is not a number"))
            return None
    return Param(
        name=name,
        unit=unit,
        value=None if anchors is not None else value,
        values=anchors,
        source=str(raw.get("source", "")),
        status=status,
        note=str(raw.get("note", "")),
        target=(yaml.safe_dump(dict(raw["target"]), default_flow_style=True).strip()
                if isinstance(raw.get("target"), Mapping) else str(raw.get("target", ""))),
        defined_in=file,
    )


def _parse_uncertain(name: str, raw: Any, file: str, problems: list[Problem]) -> Uncertain | None:
    if not isinstance(raw, Mapping):
        problems.append(Problem(file, None, f"uncertainty.{name}", "must be a mapping"))
        return None
    dist = str(raw.get("dist", ""))
    if dist not in DISTRIBUTIONS:
        problems.append(Problem(file, None, f"uncertainty.{name}", f"dist must be one of {DISTRIBUTIONS}"))
        return None
    try:
        u = Uncertain(
            name=name,
            dist=dist,
            unit=str(raw.get("unit", "1")),
            mean=float(raw.get("mean", 0.0)),
            sd=float(raw.get("sd", 0.0)),
            low=float(raw.get("low", 0.0)),
            mode=float(raw.get("mode", raw.get("low", 0.0))),
            high=float(raw.get("high", 0.0)),
            value=float(raw.get("value", 0.0)),
            note=str(raw.get("note", raw.get("source", ""))),
            defined_in=file,
        )
    except (TypeError, ValueError) as exc:
        problems.append(Problem(file, None, f"uncertainty.{name}", f"not a number: {exc}"))
        return None
    if dist == "triangular" and not (u.low <= u.mode <= u.high and u.low < u.high):
        problems.append(Problem(file, None, f"uncertainty.{name}", "needs low <= mode <= high, low < high"))
    if dist == "uniform" and not u.low < u.high:
        problems.append(Problem(file, None, f"uncertainty.{name}", "needs low < high"))
    if dist == "normal" and u.sd < 0:
        problems.append(Problem(file, None, f"uncertainty.{name}", "sd must be >= 0"))
    return u


def _target_index(targets: Any) -> dict[str, Mapping[str, Any]]:
    """Target catalog entries by id (accepts a list or an ``{targets: [...]}``/``{id: {...}}`` file)."""
    if isinstance(targets, Mapping) and "targets" in targets:
        targets = targets["targets"]
    out: dict[str, Mapping[str, Any]] = {}
    if isinstance(targets, list):
        for t in targets:
            if isinstance(t, Mapping) and "id" in t:
                out[str(t["id"])] = t
    elif isinstance(targets, Mapping):
        for k, t in targets.items():
            if isinstance(t, Mapping):
                out[str(t.get("id", k))] = t
    return out


def load_target_catalog() -> dict[str, Mapping[str, Any]]:
    """The plan target catalog (``targets.yaml``) by id, or ``{}`` when it is not there yet."""
    try:
        return _target_index(load_yaml("targets.yaml"))
    except CatalogError:
        return {}


def target_value(t: Mapping[str, Any]) -> tuple[int, float, str] | None:
    """(target year, value, unit) of a catalog entry (``target_value``/``value`` fields)."""
    try:
        year = int(t.get("target_year") or t.get("year"))
        raw = t.get("target_value", t.get("value"))
        return year, float(raw), str(t.get("unit") or "1")
    except (TypeError, ValueError):
        return None


def apply_targets(p: Param, targets: Mapping[str, Mapping[str, Any]], params: Mapping[str, Param]) -> Param:
    """Set the anchor of ``p`` at the target year from the target catalog.

    ``target`` is an id, or ``{id, scale, minus}``: the catalog value is converted to the
    parameter's unit, multiplied by ``scale`` (``-1`` turns a "−8 %" change into a cut of 0.08)
    and reduced by the target-year values of the ``minus`` parameters (so the 74 GW wind+solar
    target fixes solar = 74 GW − onshore − offshore).  Unknown ids leave ``p`` as written.
    """
    spec: Any = p.target
    if not spec or p.values is None:
        return p
    if isinstance(spec, str) and spec.startswith("{"):
        spec = yaml.safe_load(spec)
    tid = spec if isinstance(spec, str) else str(spec.get("id", ""))
    if tid not in targets:
        return p
    tv = target_value(targets[tid])
    if tv is None:
        return p
    year, value, unit = tv
    try:
        v = convert(value, unit, p.unit) if unit != p.unit else value
    except UnitError:
        return p
    if isinstance(spec, Mapping):
        v *= float(spec.get("scale", 1.0))
        for other in spec.get("minus", []) or []:
            q = params.get(str(other))
            if q is not None and q.values is not None:
                xs = sorted(q.values)
                v -= float(np.interp(year, xs, [q.values[x] for x in xs]))
    anchors = dict(p.values)
    anchors[year] = v
    t = targets[tid]
    minus = list(spec.get("minus", []) or []) if isinstance(spec, Mapping) else []
    status = str(t.get("status", p.status) or p.status)
    if minus:  # a remainder of a target is derived, whatever the target's own status
        status = "derived"
    return Param(
        name=p.name,
        unit=p.unit,
        values=dict(sorted(anchors.items())),
        source=p.source if p.source.startswith("target catalog") else
        f"target catalog '{tid}' ({t.get('section', '')} action {t.get('action', '')})"
        + (f" minus {', '.join(minus)}" if minus else "") + f"; {p.source}",
        status=status,
        note=p.note,
        target=p.target,
        defined_in=p.defined_in,
    )


def load_scenario(
    ref: str | Path,
    *,
    base_dir: Path | None = None,
    targets: Mapping[str, Mapping[str, Any]] | None = None,
    _seen: tuple[str, ...] = (),
) -> Scenario:
    """Load a scenario by packaged name (``plan``) or YAML path and resolve its inheritance.

    ``targets`` (default: the target catalog) supplies plan figures for parameters that name a
    ``target`` id.  Raises :class:`ValidationError` listing every bad entry, and
    :class:`CatalogError` for unknown parents or inheritance cycles.
    """
    path = _locate(str(ref), base_dir)
    key = str(path.resolve())
    if key in _seen:
        raise CatalogError(f"scenario inheritance cycle: {' → '.join([*_seen, key])}")
    raw = load_yaml(path)
    file = str(path)
    if not isinstance(raw, Mapping):
        raise ValidationError([Problem(file, None, None, "scenario file must be a YAML mapping")])
    name = str(raw.get("name") or path.stem)
    problems: list[Problem] = []
    parent: Scenario | None = None
    if raw.get("inherits"):
        parent = load_scenario(str(raw["inherits"]), base_dir=path.parent, targets=targets,
                               _seen=(*_seen, key))
    params: dict[str, Param] = dict(parent.params) if parent else {}
    unc: dict[str, Uncertain] = dict(parent.uncertainty) if parent else {}
    for pname, praw in (raw.get("parameters") or {}).items():
        p = _parse_param(str(pname), praw, file, problems)
        if p is not None:
            params[str(pname)] = p
    for uname, uraw in (raw.get("uncertainty") or {}).items():
        u = _parse_uncertain(str(uname), uraw, file, problems)
        if u is not None:
            unc[str(uname)] = u
    horizon = raw.get("horizon") or {}
    start = int(horizon.get("start", parent.start if parent else 2020))
    end = int(horizon.get("end", parent.end if parent else 2035))
    if end <= start:
        problems.append(Problem(file, None, "horizon", "end must be after start"))
    if problems:
        raise ValidationError(problems)
    tcat = load_target_catalog() if targets is None else targets
    params = {k: apply_targets(v, tcat, params) for k, v in params.items()}
    warnings = list(parent.warnings) if parent else []
    if parent is not None:
        own = set(raw.get("parameters") or {})
        for k, p in params.items():
            q = parent.params.get(k)
            if k in own or q is None or p.values is None or q.values is None or not p.target:
                continue
            for y in sorted(set(p.values) & set(q.values)):
                if abs(p.values[y] - q.values[y]) > 1e-9 * max(1.0, abs(q.values[y])):
                    edited = [m for m in own if m in str(p.target)]
                    warnings.append(Msg("scenario.warn.target_moved", name=k, year=int(y), target=str(p.target),
                                        old=float(q.values[y]), new=float(p.values[y]), unit=str(p.unit),
                                        edited=", ".join(edited) if edited else Msg("scenario.warn.another_parameter"),
                                        file=path.name))
    checks = [dict(c) for c in (raw.get("targets") or [])] or (list(parent.checks) if parent else [])
    return Scenario(
        name=name,
        description=str(raw.get("description", "")),
        chain=[name, *(parent.chain if parent else [])],
        start=start,
        end=end,
        params=params,
        uncertainty=unc,
        checks=checks,
        path=file,
        calibration=dict(parent.calibration) if parent else dict(params),
        warnings=warnings,
    )
