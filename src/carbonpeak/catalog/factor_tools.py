"""Inspection and checking of factor sets: which default rows a user file overrides, and the
checks ``carbonpeak factors check FILE`` runs on a user factor file.

Checks on a user file (each problem names file, row and field):

1. the file reads as a factor table (columns, numbers, units, status; see
   :func:`carbonpeak.catalog.factors.read_factor_table`);
2. ``item`` is a catalog id (``carbonpeak.catalog.items``) or an item the defaults have
   factors for;
3. the unit has the dimension the parameter needs: the dimension of :data:`PARAMETER_DIMENSIONS`
   for the fuel parameters, else the dimension of the default rows of the same item, parameter
   and gas (a user ``ncv`` of ``tC/TJ`` is refused, ``MJ/kg`` for ``GJ/t`` is fine);
4. ``oxidation`` lies in (0, 1]; ``year_from <= year_to``; no two rows of the file share the
   same key (item, parameter, category, gas, region, year_from, year_to).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from carbonpeak.catalog.factors import FactorSet, FactorValue, read_factor_table
from carbonpeak.catalog.units import parse_unit
from carbonpeak.errors import Problem, ValidationError

#: Allowed unit dimensions per parameter, as example units of each allowed dimension.
#: ``ncv`` may be per mass (GJ/t), per volume (GJ/10^4 Nm3) or per energy (GJ/MWh for electricity).
PARAMETER_DIMENSIONS: dict[str, tuple[str, ...]] = {
    "ncv": ("GJ/t", "GJ/m3", "GJ/MWh"),
    "carbon_content": ("tC/TJ",),
    "oxidation": ("1",),
    "standard_coal_coef": ("kgce/kg", "kgce/m3", "kgce/kWh"),
    "standard_coal_coef_substitution": ("kgce/kWh",),
    "ef_co2": ("tCO2/MWh",),
    "ef_co2_ets": ("tCO2/MWh",),
    "ef_co2_om": ("tCO2/MWh",),
}

#: For ``ef`` of fuels (items of kind fossil_*/biomass/waste): mass of gas per energy.
FUEL_EF_DIMENSION = "kg/TJ"
FUEL_KINDS = ("fossil_solid", "fossil_liquid", "fossil_gas", "biomass", "waste")


def unit_dimension_ok(parameter: str, unit: str, item_kind: str = "") -> bool | None:
    """Whether ``unit`` has an allowed dimension for ``parameter`` (``None``: no rule known)."""
    dim = parse_unit(unit).dimensionality
    if parameter in PARAMETER_DIMENSIONS:
        return any(parse_unit(u).dimensionality == dim for u in PARAMETER_DIMENSIONS[parameter])
    if parameter == "ef" and item_kind in FUEL_KINDS:
        return parse_unit(FUEL_EF_DIMENSION).dimensionality == dim
    return None


def _covers(over: FactorValue, row: FactorValue) -> bool:
    """Whether every lookup that could pick ``row`` is also matched by ``over``."""
    if over.category and not (row.category == over.category or row.category.startswith(over.category + ".")):
        return False
    if over.region and over.region != row.region:
        return False
    lo_o = over.year_from if over.year_from is not None else -(10**9)
    hi_o = over.year_to if over.year_to is not None else 10**9
    lo_r = row.year_from if row.year_from is not None else -(10**9)
    hi_r = row.year_to if row.year_to is not None else 10**9
    return lo_o <= lo_r and hi_r <= hi_o


def _could_meet(over: FactorValue, row: FactorValue) -> bool:
    """Whether some lookup is matched by both rows (so ``over`` shadows ``row`` there)."""
    cats = [c for c in (over.category, row.category) if c]
    if len(cats) == 2 and not (
        cats[0] == cats[1] or cats[0].startswith(cats[1] + ".") or cats[1].startswith(cats[0] + ".")
    ):
        return False
    if over.region and row.region and over.region != row.region:
        return False
    lo = max(over.year_from or -(10**9), row.year_from or -(10**9))
    hi = min(
        over.year_to if over.year_to is not None else 10**9, row.year_to if row.year_to is not None else 10**9
    )
    return lo <= hi


@dataclass(frozen=True)
class RowState:
    """A factor row with whether a later layer overrides it."""

    row: FactorValue
    overridden: str  # "no", "partly" or "yes"
    overridden_by: str  # origin(s) of the overriding layer(s), "" if none

    def to_dict(self) -> dict[str, object]:
        d = self.row.to_dict()
        d["from_override_file"] = d.pop("overridden")
        d["overridden"] = self.overridden
        d["overridden_by"] = self.overridden_by or None
        return d


def row_states(fs: FactorSet) -> list[RowState]:
    """Every row of every layer, each marked with whether a later layer overrides it.

    A later layer overrides a row for a lookup whenever it has *any* matching row for that
    lookup (the layer order beats specificity, see :class:`FactorSet`).  ``yes`` means every
    lookup that could use the row is taken by a later layer, ``partly`` that some are.
    """
    layers: list[list[FactorValue]] = []
    order: list[str] = []
    for r in fs.rows():
        if not order or r.origin != order[-1]:
            order.append(r.origin)
            layers.append([])
        layers[-1].append(r)
    out: list[RowState] = []
    for i, layer in enumerate(layers):
        later = [r for lay in layers[i + 1 :] for r in lay]
        by_key: dict[tuple[str, str, str], list[FactorValue]] = {}
        for r in later:
            by_key.setdefault((r.item, r.parameter, r.gas), []).append(r)
        for r in layer:
            cands = by_key.get((r.item, r.parameter, r.gas), [])
            full = [o for o in cands if _covers(o, r)]
            part = [o for o in cands if _could_meet(o, r)]
            if full:
                state, by = "yes", full
            elif part:
                state, by = "partly", part
            else:
                state, by = "no", []
            out.append(RowState(r, state, ", ".join(sorted({o.origin for o in by}))))
    return out


def _lenient_rows(path: Path) -> list[FactorValue]:
    """The rows of a factor file that parse, each as a FactorValue (bad rows are skipped)."""
    good: list[FactorValue] = []
    import tempfile

    import pandas as pd

    if path.suffix.lower() in (".yaml", ".yml"):
        return []  # YAML files are only format-checked when they fail to read
    try:
        df = pd.read_csv(path, comment="#", dtype=str, keep_default_na=False, skipinitialspace=True)
    except Exception:
        return []
    lead = 0
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.startswith("#"):
                break
            lead += 1
    for i, rec in enumerate(df.to_dict(orient="records")):
        one = pd.DataFrame([rec])
        with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, encoding="utf-8") as tmp:
            one.to_csv(tmp, index=False)
        try:
            rows = read_factor_table(tmp.name, origin=str(path))
        except ValidationError:
            continue
        finally:
            Path(tmp.name).unlink(missing_ok=True)
        good.extend(replace(r, origin_row=lead + 2 + i) for r in rows)
    return good


def check_factor_file(path: Path | str, defaults: FactorSet | None = None) -> list[FactorValue]:
    """Validate a user factor file beyond its format; returns its rows or raises ValidationError.

    Every problem of the file is reported at once: format problems (from
    :func:`read_factor_table`) and the semantic checks of this module on the rows that parse.
    """
    from carbonpeak.catalog.items import get_items

    p = Path(path)
    problems: list[Problem] = []
    try:
        rows = read_factor_table(p)
    except ValidationError as exc:
        problems.extend(exc.problems)
        rows = _lenient_rows(p) if p.exists() else []
    base = defaults if defaults is not None else FactorSet.default()
    items = get_items()
    default_items = set(base.items())
    default_dims: dict[tuple[str, str, str], set[object]] = {}
    for r in base.rows():
        if r.origin == "default":
            default_dims.setdefault((r.item, r.parameter, r.gas), set()).add(
                parse_unit(r.unit).dimensionality
            )
    seen: dict[tuple[object, ...], int | None] = {}
    fname = str(path)
    for r in rows:
        if r.item not in items and r.item not in default_items:
            problems.append(
                Problem(fname, r.origin_row, "item", f"unknown item '{r.item}' (not a catalog id)")
            )
        kind = items[r.item].kind if r.item in items else ""
        combustion = r.category == "" or r.category == "1.A" or r.category.startswith("1.A.")
        ok = unit_dimension_ok(r.parameter, r.unit, kind if combustion else "")
        if ok is None and (r.item, r.parameter, r.gas) in default_dims:
            ok = parse_unit(r.unit).dimensionality in default_dims[(r.item, r.parameter, r.gas)]
        if ok is False:
            want = PARAMETER_DIMENSIONS.get(r.parameter) or (
                (FUEL_EF_DIMENSION,) if r.parameter == "ef" and kind in FUEL_KINDS else ()
            )
            hint = f" (like {' or '.join(want)})" if want else " (as the default rows)"
            problems.append(
                Problem(
                    fname,
                    r.origin_row,
                    "unit",
                    f"'{r.unit}' has the wrong dimension for '{r.parameter}'{hint}",
                )
            )
        if r.parameter == "oxidation" and not 0 < r.value <= 1:
            problems.append(
                Problem(fname, r.origin_row, "value", f"oxidation must be in (0, 1], got {r.value}")
            )
        if r.year_from is not None and r.year_to is not None and r.year_from > r.year_to:
            problems.append(Problem(fname, r.origin_row, "year_to", "year_to is before year_from"))
        key = (r.item, r.parameter, r.category, r.gas, r.region, r.year_from, r.year_to)
        if key in seen:
            problems.append(Problem(fname, r.origin_row, "item", f"duplicate of row {seen[key]}"))
        else:
            seen[key] = r.origin_row
    if problems:
        problems.sort(key=lambda q: (q.row is not None, q.row or 0))
        raise ValidationError(problems)
    return rows


def load_factor_set(files: Iterable[Path | str] = ()) -> FactorSet:
    """The defaults plus user files, each file checked with :func:`check_factor_file` first."""
    files = list(files)
    problems: list[Problem] = []
    for f in files:
        try:
            check_factor_file(f)
        except ValidationError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ValidationError(problems)
    return FactorSet.default(overrides=files)


def status_counts(fs: FactorSet | None = None, *, by_file: bool = False) -> dict[str, object]:
    """Rows of the packaged default factor files counted by ``status`` (issue 13 §3).

    Returns ``{"total": n, "by_status": {status: n, ...}}`` (every status of
    :data:`carbonpeak.catalog.loader.STATUSES`, zeros included), plus ``"by_file"`` (file →
    status → n) when ``by_file`` is true.  Only the defaults are counted (user layers are not
    catalog rows).  The GWP table (``gwp.csv``) is counted under the file name ``gwp.csv``.
    """
    from carbonpeak.catalog.loader import DATA_DIR, STATUSES, load_csv

    per_file: dict[str, dict[str, int]] = {}
    fdir = DATA_DIR / "factors"
    for f in sorted(fdir.glob("*.csv")):
        rows = read_factor_table(f, origin="default")
        counts = {s: 0 for s in STATUSES}
        for r in rows:
            counts[r.status] = counts.get(r.status, 0) + 1
        per_file[f"factors/{f.name}"] = counts
    gwp = load_csv("gwp.csv")
    gcounts = {s: 0 for s in STATUSES}
    for s in gwp["status"]:
        gcounts[s] = gcounts.get(s, 0) + 1
    per_file["gwp.csv"] = gcounts
    total = {s: sum(c.get(s, 0) for c in per_file.values()) for s in STATUSES}
    out: dict[str, object] = {"total": sum(total.values()), "by_status": total}
    if by_file:
        out["by_file"] = per_file
    return out
