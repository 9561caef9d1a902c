"""Factor sets: every numeric parameter the engines use, one sourced value per row.

A factor file (the packaged defaults under ``data/factors/*.csv`` and any file a user brings
with ``--factors FILE``) is a long table with these columns:

=================  ==========================================================================
column             meaning
=================  ==========================================================================
item               catalog id the value belongs to (``raw_coal``, ``clinker``, ``CH4``, ...)
parameter          what the value is (``ncv``, ``carbon_content``, ``oxidation``, ``ef``, ...)
value              the number
unit               a unit the registry knows (``GJ/t``, ``tC/TJ``, ``1``, ``kg CH4/TJ``, ...)
category           optional IPCC 2006 code prefix the value is restricted to (``1.A.1``)
gas                optional gas the value is for (``CO2``, ``CH4``, ``N2O``, ...)
region             optional region code (``GD``, ``GD-GZ``); blank means everywhere
year_from/year_to  optional validity years (inclusive); blank means open
uncertainty_pct    optional half-width of the 95 % interval, in percent of the value
source             document, table, edition (required)
status             one of :data:`carbonpeak.catalog.loader.STATUSES` (required)
note               optional free text
=================  ==========================================================================

Lookup picks, among rows with the same ``item``, ``parameter`` and ``gas``, those whose
category is a prefix of the asked category (or blank), whose region equals the asked region
(or is blank) and whose year range contains the asked year.  User override files always win
over the defaults; within one layer the most specific row wins (longest category prefix, then
region, then the narrowest year range).  Each result says which file it came from, so
``explain`` can show an override.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from carbonpeak.catalog.loader import DATA_DIR, STATUSES
from carbonpeak.catalog.units import UnitError, parse_unit
from carbonpeak.errors import CatalogError, Problem, ValidationError

FACTOR_COLUMNS = (
    "item",
    "parameter",
    "value",
    "unit",
    "category",
    "gas",
    "region",
    "year_from",
    "year_to",
    "uncertainty_pct",
    "source",
    "status",
    "note",
)
REQUIRED_COLUMNS = ("item", "parameter", "value", "unit", "source", "status")

DEFAULT_LAYER = "default"


@dataclass(frozen=True)
class FactorValue:
    """One resolved factor with its provenance."""

    item: str
    parameter: str
    value: float
    unit: str
    source: str
    status: str
    category: str = ""
    gas: str = ""
    region: str = ""
    year_from: int | None = None
    year_to: int | None = None
    uncertainty_pct: float | None = None
    note: str = ""
    origin: str = DEFAULT_LAYER  # "default" or the path of the override file
    origin_row: int | None = None

    @property
    def overridden(self) -> bool:
        return self.origin != DEFAULT_LAYER

    def to(self, unit: str) -> float:
        """The value converted to ``unit`` (raises UnitError on a dimension mismatch)."""
        from carbonpeak.catalog.units import conversion_factor

        return self.value * conversion_factor(self.unit, unit)

    def to_dict(self) -> dict[str, object]:
        return {
            "item": self.item,
            "parameter": self.parameter,
            "value": self.value,
            "unit": self.unit,
            "category": self.category or None,
            "gas": self.gas or None,
            "region": self.region or None,
            "year_from": self.year_from,
            "year_to": self.year_to,
            "uncertainty_pct": self.uncertainty_pct,
            "source": self.source,
            "status": self.status,
            "note": self.note or None,
            "origin": self.origin,
            "overridden": self.overridden,
        }


def _opt_int(text: str) -> int | None:
    text = text.strip()
    return int(float(text)) if text else None


def _opt_float(text: str) -> float | None:
    text = text.strip()
    return float(text) if text else None


def read_factor_table(path: Path | str, origin: str | None = None) -> list[FactorValue]:
    """Read and validate one factor file (CSV, or YAML with a top-level ``factors:`` list).

    Raises :class:`ValidationError` naming file, row and field for every bad cell.
    """
    from carbonpeak.i18n import Msg, declare  # here: the catalog's modules import only errors at the top

    declare({"io.file_not_found": {}, "io.cannot_read": {"detail": str}, "io.required_column_short": {},
             "io.unknown_column": {"expected": str}, "io.empty": {}, "io.not_number": {"value": str},
             "io.unknown_value_hint": {"value": str, "hint": Msg}, "io.allowed": {"values": str},
             "io.min": {"min": str, "value": str}})  # fmt: skip
    p = Path(path)
    name = str(p) if origin is None else origin
    if not p.exists():
        raise ValidationError([Problem(str(p), None, None, Msg("io.file_not_found"))])
    if p.suffix.lower() in (".yaml", ".yml"):
        import yaml

        doc = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        rows = doc.get("factors", doc) if isinstance(doc, dict) else doc
        if not isinstance(rows, list):
            raise ValidationError([Problem(str(p), None, None, "expected a list under 'factors:'")])
        df = pd.DataFrame([{k: "" if v is None else str(v) for k, v in r.items()} for r in rows]).fillna("")
        first_row = 1
    else:
        try:
            df = pd.read_csv(p, comment="#", dtype=str, keep_default_na=False, skipinitialspace=True)
        except Exception as exc:
            raise ValidationError([Problem(str(p), None, None, Msg("io.cannot_read", detail=str(exc)))]) from exc
        first_row = 2 + _count_leading_comment_lines(p)
    problems: list[Problem] = []
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise ValidationError([Problem(str(p), None, c, Msg("io.required_column_short")) for c in missing])
    unknown = [c for c in df.columns if c not in FACTOR_COLUMNS]
    for c in unknown:
        problems.append(Problem(str(p), None, c, Msg("io.unknown_column", expected=", ".join(FACTOR_COLUMNS))))
    for c in FACTOR_COLUMNS:
        if c not in df.columns:
            df[c] = ""
    out: list[FactorValue] = []
    for i, r in enumerate(df.itertuples(index=False)):
        rown = first_row + i
        rec = r._asdict()
        for c in ("item", "parameter", "source", "status"):
            if not str(rec[c]).strip():
                problems.append(Problem(str(p), rown, c, Msg("io.empty")))
        try:
            value = float(rec["value"])
            if not math.isfinite(value):
                raise ValueError
        except ValueError:
            problems.append(Problem(str(p), rown, "value", Msg("io.not_number", value=str(rec["value"]))))
            continue
        try:
            parse_unit(rec["unit"])
        except UnitError as exc:
            problems.append(Problem(str(p), rown, "unit", str(exc)))
            continue
        if rec["status"] and rec["status"] not in STATUSES:
            problems.append(
                Problem(str(p), rown, "status", Msg("io.unknown_value_hint", value=str(rec["status"]),
                                                   hint=Msg("io.allowed", values=", ".join(STATUSES))))
            )
        try:
            yf, yt = _opt_int(rec["year_from"]), _opt_int(rec["year_to"])
            unc = _opt_float(rec["uncertainty_pct"])
        except ValueError as exc:
            problems.append(Problem(str(p), rown, "year_from/year_to/uncertainty_pct", str(exc)))
            continue
        if unc is not None and unc < 0:
            problems.append(Problem(str(p), rown, "uncertainty_pct", Msg("io.min", min="0", value=str(unc))))
        out.append(
            FactorValue(
                item=rec["item"].strip(),
                parameter=rec["parameter"].strip(),
                value=value,
                unit=rec["unit"].strip(),
                source=rec["source"].strip(),
                status=rec["status"].strip(),
                category=rec["category"].strip(),
                gas=rec["gas"].strip(),
                region=rec["region"].strip(),
                year_from=yf,
                year_to=yt,
                uncertainty_pct=unc,
                note=rec["note"].strip(),
                origin=name,
                origin_row=rown,
            )
        )
    if problems:
        raise ValidationError(problems)
    return out


def _count_leading_comment_lines(p: Path) -> int:
    n = 0
    with open(p, encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#"):
                n += 1
            else:
                break
    return n


@lru_cache(maxsize=1)
def _default_rows() -> tuple[FactorValue, ...]:
    rows: list[FactorValue] = []
    fdir = DATA_DIR / "factors"
    if fdir.exists():
        for f in sorted(fdir.glob("*.csv")):
            rows.extend(read_factor_table(f, origin=DEFAULT_LAYER))
    return tuple(rows)


class FactorSet:
    """The defaults plus any number of override layers, with most-specific-match lookup."""

    def __init__(self, layers: Sequence[Sequence[FactorValue]]) -> None:
        # layers[0] is the defaults; later layers win.
        self._layers = [list(layer) for layer in layers]
        self._index: list[dict[tuple[str, str, str], list[FactorValue]]] = []
        for layer in self._layers:
            idx: dict[tuple[str, str, str], list[FactorValue]] = {}
            for fv in layer:
                idx.setdefault((fv.item, fv.parameter, fv.gas), []).append(fv)
            self._index.append(idx)
        self._cache: dict[tuple[object, ...], FactorValue | None] = {}

    @classmethod
    def default(cls, overrides: Iterable[Path | str] = ()) -> FactorSet:
        """The packaged defaults, with user files layered on top in the given order."""
        layers: list[Sequence[FactorValue]] = [_default_rows()]
        problems: list[Problem] = []
        for f in overrides:
            try:
                layers.append(read_factor_table(f))
            except ValidationError as exc:
                problems.extend(exc.problems)
        if problems:
            raise ValidationError(problems)
        return cls(layers)

    @property
    def override_files(self) -> list[str]:
        return [layer[0].origin for layer in self._layers[1:] if layer]

    def rows(self, include_overridden: bool = True) -> list[FactorValue]:
        """All rows of all layers (defaults first)."""
        out: list[FactorValue] = []
        for layer in self._layers:
            out.extend(layer)
        return out

    def items(self) -> list[str]:
        return sorted({fv.item for fv in self.rows()})

    def lookup(
        self,
        item: str,
        parameter: str,
        *,
        category: str = "",
        gas: str = "",
        region: str = "",
        year: int | None = None,
    ) -> FactorValue | None:
        """The best-matching factor, or ``None`` if there is none."""
        key = (item, parameter, category, gas, region, year)
        if key in self._cache:
            return self._cache[key]
        best: FactorValue | None = None
        for idx in reversed(self._index):  # override layers first
            cands = idx.get((item, parameter, gas))
            if not cands:
                continue
            scored: list[tuple[tuple[int, int, int], FactorValue]] = []
            for fv in cands:
                if fv.category and not _category_matches(fv.category, category):
                    continue
                if fv.region and fv.region != region:
                    continue
                if year is not None:
                    if fv.year_from is not None and year < fv.year_from:
                        continue
                    if fv.year_to is not None and year > fv.year_to:
                        continue
                elif fv.year_from is not None or fv.year_to is not None:
                    # a year-bound value applies only when a year is asked for
                    continue
                span = (fv.year_to or 9999) - (fv.year_from or 0)
                scored.append(((len(fv.category), 1 if fv.region else 0, -span), fv))
            if scored:
                scored.sort(key=lambda t: t[0], reverse=True)
                best = scored[0][1]
                break
        self._cache[key] = best
        return best

    def get(
        self,
        item: str,
        parameter: str,
        *,
        category: str = "",
        gas: str = "",
        region: str = "",
        year: int | None = None,
    ) -> FactorValue:
        """Like :meth:`lookup` but raises :class:`CatalogError` when nothing matches."""
        fv = self.lookup(item, parameter, category=category, gas=gas, region=region, year=year)
        if fv is None:
            where = ", ".join(
                f"{k}={v}"
                for k, v in (("category", category), ("gas", gas), ("region", region), ("year", year))
                if v
            )
            raise CatalogError(
                f"no factor '{parameter}' for item '{item}'"
                + (f" ({where})" if where else "")
                + "; add one with --factors FILE (see docs/factors.md)"
            )
        return fv


def _category_matches(prefix: str, category: str) -> bool:
    """IPCC-code prefix match on whole code parts: ``1.A`` matches ``1.A.2.f``, not ``1.AB``."""
    if not category:
        return False
    return category == prefix or category.startswith(prefix + ".")


def factors_to_frame(rows: Iterable[FactorValue]) -> pd.DataFrame:
    """A DataFrame view of factor rows (for listing and export)."""
    return pd.DataFrame([r.to_dict() for r in rows])
