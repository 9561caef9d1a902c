"""Notation keys: missing is not zero (IPCC 2006 Vol 1 Ch 8 §8.2.2, Table 8.2; UNFCCC CRT).

An inventory figure that is absent is not a zero.  The IPCC notation keys say why it is absent:

====  ====================  ==========================================================
key   meaning               counts in a total as
====  ====================  ==========================================================
NE    not estimated         nothing: the total is *incomplete* and flagged
NO    not occurring         zero
NA    not applicable        zero
IE    included elsewhere    zero (the emissions are in another category)
C     confidential          nothing: the total is flagged
====  ====================  ==========================================================

Two sources of keys (same columns, :data:`COLUMNS`):

* **inferred** — :func:`infer_not_estimated`: a territorial (region, category, gas) that the
  inventory estimates in some of the region's years but not in another year is ``NE`` in that
  year (e.g. a forest sink estimated for 2016-2020 and absent for 2015);
* **declared** — rows a user gives (``compile_inventory(..., notation_keys=...)``): a declared
  key wins over an inferred one for the same (year, region, category, gas); a blank gas means
  every gas of the category.

Pure functions over DataFrames; the engine, key-category analysis, reports and exports use them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from carbonpeak.errors import Problem, ValidationError
from carbonpeak.i18n import Msg, declare

#: The keys and their meaning (IPCC 2006 Vol 1 Ch 8 Table 8.2).
NOTATION_KEYS = {
    "NE": "not estimated",
    "NO": "not occurring",
    "NA": "not applicable",
    "IE": "included elsewhere",
    "C": "confidential",
}
#: Keys whose figure counts as zero in a total; the others (NE, C) make the total incomplete.
ZERO_KEYS = frozenset({"NO", "NA", "IE"})
#: Keys that make a total incomplete (flagged).
INCOMPLETE_KEYS = frozenset({"NE", "C"})

COLUMNS = ("year", "region", "category", "gas", "key", "source", "note")


def empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="int64" if c == "year" else object) for c in COLUMNS})


def infer_not_estimated(territorial: pd.DataFrame) -> pd.DataFrame:
    """``NE`` rows for every (region, category, gas) estimated in some but not all of the region's years.

    ``territorial`` has ``year, region, category, gas`` (the territorial result rows).  The
    years of a region are the years in which it has any territorial row.
    """
    if territorial is None or len(territorial) == 0:
        return empty()
    codes: dict[str, np.ndarray] = {}
    labels: dict[str, np.ndarray] = {}
    for col in ("region", "category", "gas"):
        ser = territorial[col]
        if isinstance(ser.dtype, pd.CategoricalDtype):  # the engine's compact frame: use its codes
            codes[col] = ser.cat.codes.to_numpy().astype(np.int64)
            labels[col] = np.asarray(ser.cat.categories.to_numpy(), dtype=object)
        else:
            codes[col], labels[col] = pd.factorize(np.asarray(ser.to_numpy(), dtype=object))
    year = pd.to_numeric(territorial["year"]).to_numpy().astype(np.int64)
    keys = pd.DataFrame({"r": codes["region"], "c": codes["category"], "g": codes["gas"], "y": year})
    present = keys.drop_duplicates()
    region_years = present[["r", "y"]].drop_duplicates()
    triples = present[["r", "c", "g"]].drop_duplicates()
    n_years = region_years.groupby("r").size()
    n_present = present.groupby(["r", "c", "g"]).size()
    full = n_present.to_numpy() == n_years.reindex(n_present.index.get_level_values("r")).to_numpy()
    if full.all():
        return empty()
    partial = triples.merge(
        n_present[~full].reset_index()[["r", "c", "g"]], on=["r", "c", "g"], how="inner"
    )
    cand = partial.merge(region_years, on="r", how="inner")
    hit = cand.merge(present.assign(_p=True), on=["r", "c", "g", "y"], how="left")
    miss = hit[hit["_p"].isna()]
    ne = pd.DataFrame(
        {
            "year": miss["y"].to_numpy(dtype=np.int64),
            "region": labels["region"][miss["r"].to_numpy()],
            "category": labels["category"][miss["c"].to_numpy()],
            "gas": labels["gas"][miss["g"].to_numpy()],
        }
    )
    ne["key"] = "NE"
    ne["source"] = "inferred"
    ne["note"] = "no data for this year; estimated in other years of the inventory"
    for c in ("region", "category", "gas"):
        ne[c] = ne[c].astype(str).astype(object)
    return ne[list(COLUMNS)].sort_values(["region", "year", "category", "gas"]).reset_index(drop=True)


def declared(
    records: Iterable[Mapping[str, Any]] | pd.DataFrame | None, origin: str = "notation keys", first_row: int = 1
) -> pd.DataFrame:
    """Validate user-declared keys (``year, region, category, key`` and optional ``gas``, ``note``).

    Problems name ``origin`` (the file), the row (``first_row`` for the first record; 2 for a CSV
    with a header) and the field."""
    if records is None:
        return empty()
    df = records.copy() if isinstance(records, pd.DataFrame) else pd.DataFrame(list(records))
    if df.empty:
        return empty()
    problems: list[Problem] = []
    for c in ("year", "region", "category", "key"):
        if c not in df.columns:
            problems.append(Problem(origin, None, c, "required column is missing"))
    if problems:
        raise ValidationError(problems)
    for c in ("gas", "note"):
        if c not in df.columns:
            df[c] = ""
    df = df.fillna("")
    for i, r in enumerate(df.to_dict("records")):
        key = str(r["key"]).strip().upper()
        if key not in NOTATION_KEYS:
            problems.append(
                Problem(
                    origin, i + first_row, "key", f"'{r['key']}' is not a notation key ({', '.join(NOTATION_KEYS)})"
                )
            )
        try:
            int(r["year"])
        except (TypeError, ValueError):
            problems.append(Problem(origin, i + first_row, "year", f"not a year: '{r['year']}'"))
    if problems:
        raise ValidationError(problems)
    out = pd.DataFrame(
        {
            "year": df["year"].astype(int).astype("int64"),
            "region": df["region"].astype(str).str.strip(),
            "category": df["category"].astype(str).str.strip(),
            "gas": df["gas"].astype(str).str.strip(),
            "key": df["key"].astype(str).str.strip().str.upper(),
            "source": "declared",
            "note": df["note"].astype(str),
        }
    )
    return out[list(COLUMNS)]


def combine(inferred: pd.DataFrame, decl: pd.DataFrame) -> pd.DataFrame:
    """Inferred keys with the declared ones laid over them (declared wins; blank gas = every gas)."""
    if decl is None or decl.empty:
        return inferred.reset_index(drop=True)
    if inferred.empty:
        return decl.reset_index(drop=True)
    inf = inferred.copy()
    drop = np.zeros(len(inf), dtype=bool)
    for r in decl.itertuples(index=False):
        m = (inf["year"] == r.year) & (inf["region"] == r.region) & (inf["category"] == r.category)
        if r.gas:
            m &= inf["gas"] == r.gas
        drop |= m.to_numpy()
    return pd.concat([inf[~drop], decl], ignore_index=True).sort_values(
        ["region", "year", "category", "gas"]
    ).reset_index(drop=True)


def declared_zero_pairs(
    notation: pd.DataFrame | None,
    year: int,
    region: str | None = None,
    code: Callable[[str], str] = str,
) -> set[tuple[str, str]]:
    """(category, gas or '') pairs that ``notation`` declares NO/NA/IE (zero) in ``year``.

    ``code`` maps a category code to the level compared (key-category analysis aggregates codes)."""
    if notation is None or len(notation) == 0:
        return set()
    n = notation[(pd.to_numeric(notation["year"]) == year) & notation["key"].isin(ZERO_KEYS)]
    if region is not None and "region" in n.columns:
        n = n[n["region"].astype(str) == region]
    gases = n["gas"] if "gas" in n.columns else pd.Series("", index=n.index)
    return {(code(str(c)), str(g or "")) for c, g in zip(n["category"], gases, strict=True)}


def missing_is_not_zero(
    pairs: Iterable[tuple[str, str]], zero: set[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The (category, gas) pairs without a figure that are *not* declared zero: they are NE."""
    return [p for p in pairs if (p[0], p[1]) not in zero and (p[0], "") not in zero]


declare({"notation.item": {"category": str, "gas": str, "key": str, "meaning": Msg}}
        | {f"notation.{k}": {} for k in NOTATION_KEYS})


def describe(keys: pd.DataFrame) -> list[Msg]:
    """``"4.A.1 CO2 NE (not estimated)"`` messages, one per row (``str`` of each is the English text)."""
    return [
        Msg("notation.item", category=str(r.category), gas=f" {r.gas}" if r.gas else "", key=str(r.key),
            meaning=Msg(f"notation.{r.key}") if r.key in NOTATION_KEYS else "")
        for r in keys.itertuples(index=False)
    ]
