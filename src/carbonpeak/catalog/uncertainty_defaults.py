"""Default uncertainties by IPCC category prefix and gas (``data/uncertainty_defaults.csv``).

The uncertainty analysis (:mod:`carbonpeak.accounting.uncertainty`) needs, for every result
row, the 95 % half-width (in percent) of its activity data and of its emission factor.  A row
that does not carry them (no ``uncertainty_pct`` in the activity file, none on the factor) gets
the default of the longest matching category prefix, the gas-specific row before the any-gas
row; the row with a blank category is the fallback.  Every default has a source and a status.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from carbonpeak.catalog.loader import STATUSES, load_csv
from carbonpeak.errors import CatalogError

DEFAULTS_FILE = "uncertainty_defaults.csv"


@dataclass(frozen=True)
class UncertaintyDefault:
    category: str
    gas: str
    ad_uncertainty_pct: float
    ef_uncertainty_pct: float
    source: str
    status: str


class UncertaintyDefaults:
    """Most-specific-match lookup of default activity and factor uncertainties."""

    def __init__(self, rows: list[UncertaintyDefault]) -> None:
        if not any(r.category == "" and r.gas == "" for r in rows):
            raise CatalogError("uncertainty defaults need a fallback row (blank category and gas)")
        self.rows = rows
        self._cache: dict[tuple[str, str], UncertaintyDefault] = {}

    @classmethod
    def from_file(cls, path: str | Path = DEFAULTS_FILE) -> UncertaintyDefaults:
        df = load_csv(path)
        rows: list[UncertaintyDefault] = []
        for i, r in enumerate(df.to_dict("records")):
            try:
                ad = float(r["ad_uncertainty_pct"])
                ef = float(r["ef_uncertainty_pct"])
            except (KeyError, ValueError) as exc:
                raise CatalogError(f"{path}: data row {i + 1}: bad uncertainty value ({exc})") from exc
            if not (math.isfinite(ad) and math.isfinite(ef)) or ad < 0 or ef < 0:
                raise CatalogError(f"{path}: data row {i + 1}: uncertainties must be finite and >= 0")
            if not str(r.get("source", "")).strip() or r.get("status") not in STATUSES:
                raise CatalogError(f"{path}: data row {i + 1}: needs a source and a valid status")
            rows.append(
                UncertaintyDefault(
                    category=str(r.get("category", "")).strip(),
                    gas=str(r.get("gas", "")).strip(),
                    ad_uncertainty_pct=ad,
                    ef_uncertainty_pct=ef,
                    source=str(r["source"]).strip(),
                    status=str(r["status"]).strip(),
                )
            )
        return cls(rows)

    def lookup(self, category: str, gas: str) -> UncertaintyDefault:
        key = (category, gas)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        best: UncertaintyDefault | None = None
        best_score = (-1, -1)
        for r in self.rows:
            if r.category and not (category == r.category or category.startswith(r.category + ".")):
                continue
            if r.gas and r.gas != gas:
                continue
            score = (len(r.category), 1 if r.gas else 0)
            if score > best_score:
                best, best_score = r, score
        assert best is not None  # the fallback row always matches
        self._cache[key] = best
        return best


@lru_cache(maxsize=1)
def default_uncertainties() -> UncertaintyDefaults:
    """The packaged defaults (read once)."""
    return UncertaintyDefaults.from_file(DEFAULTS_FILE)
