"""Activity data: the long table ``year, region, category, item, amount, unit`` that the
inventory engine compiles.

Columns (see ``docs/inventory.md``):

==============  ======  ====================================================================
column          kind    rule
==============  ======  ====================================================================
year            year    1900-2100
region          str     a code of ``catalog/data/regions.yaml`` (``GD``, ``GD-GZ``, ...)
category        str     an IPCC 2006 code of ``catalog/data/categories.csv`` (or a memo code)
item            str     a catalog item id (``catalog/data/items/*.yaml``)
amount          float   negative only for net flows (:data:`NEGATIVE_ALLOWED`)
unit            str     a unit the registry knows, whose dimension fits the category
uncertainty_pct float   optional, >= 0, half-width of the 95 % interval in % of amount
source, note    str     optional
==============  ======  ====================================================================

Rows are unique on (year, region, category, item), across all files of one load.  Loading is
all-or-nothing: every problem of every file is collected and reported together in one
:class:`~carbonpeak.errors.ValidationError`.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from carbonpeak.catalog.categories import get_categories, is_prefix
from carbonpeak.catalog.units import parse_unit
from carbonpeak.errors import CarbonpeakError, Problem, ValidationError
from carbonpeak.i18n import Msg, declare
from carbonpeak.io import Column, TableSpec, read_table, validate_table
from carbonpeak.io.tables import FILE_COL, ROW_COL

declare({
    "io.hint.region": {}, "io.hint.category": {}, "io.hint.item": {}, "io.unknown_unit": {},
    "io.activity.negative": {"category": str, "value": str, "allowed": str},
    "io.activity.unit_dims": {"unit": str, "have": str, "category": str, "expected": str},
    "io.duplicate_row": {"first_row": int, "key": str},
    "io.duplicate_row_of": {"first_row": int, "first_file": str, "key": str}, "io.activity.no_file": {},
})

#: Category prefixes whose amounts may be negative: a stock *change* in the reference approach
#: (IPCC 2006 Vol 2 Ch 6 Eq 6.1, a stock draw-down is negative) and *net* imported
#: electricity (negative = net export).  Everywhere else a negative amount is an error.
NEGATIVE_ALLOWED: tuple[str, ...] = ("M.REF.STOCK", "M.ELEC")

#: Pattern of region codes, used only when no regions catalog is installed.
REGION_PATTERN = re.compile(r"^GD(-[A-Z]{2,3})?$")

UNIQUE_KEY = ("year", "region", "category", "item")

OUTPUT_COLUMNS = (
    "year",
    "region",
    "category",
    "item",
    "amount",
    "unit",
    "uncertainty_pct",
    "source",
    "note",
    ROW_COL,
    FILE_COL,
)

#: Unit dimensions named in ``categories.csv`` ``unit_dims`` → a unit of that dimension.
_DIMS = {
    "mass": "t",
    "volume": "m**3",
    "energy": "GJ",
    "area": "m**2",
    "count": "head",
    "population": "person",
    "money": "yuan",
}

VALIDATED_ATTR = "carbonpeak_activity_validated"


@lru_cache(maxsize=1)
def _region_codes() -> frozenset[str] | None:
    try:
        from carbonpeak.catalog.regions import load_regions

        return frozenset(load_regions())
    except (CarbonpeakError, FileNotFoundError):
        return None


def _item_ids() -> frozenset[str]:
    from carbonpeak.catalog.items import get_items

    return frozenset(get_items())


def _unit_ok(units: pd.Series) -> tuple[pd.Series, str]:
    bad: dict[str, bool] = {}
    for u in units.unique():
        try:
            parse_unit(str(u))
            bad[u] = False
        except CarbonpeakError:
            bad[u] = True
    codes, uniq = pd.factorize(units)  # one lookup per distinct unit (not a hash per row)
    if (codes < 0).any():  # missing units: keep the plain map
        return units.map(bad).astype(bool), Msg("io.unknown_unit")
    flags = np.array([bad.get(u, True) for u in uniq], dtype=bool)
    out = flags[codes] if len(codes) else np.zeros(0, dtype=bool)
    return pd.Series(out, index=units.index, dtype=bool), Msg("io.unknown_unit")


def activity_spec(items: Collection[str] | None = None, regions: Collection[str] | None = None) -> TableSpec:
    """The :class:`TableSpec` of activity tables (items/regions injectable for tests)."""
    cats = get_categories()
    item_ids = frozenset(items) if items is not None else _item_ids()
    region_codes = frozenset(regions) if regions is not None else _region_codes()

    def region_allowed(s: pd.Series) -> pd.Series:
        if region_codes is not None:
            return s.isin(list(region_codes))
        return s.str.match(REGION_PATTERN)

    return TableSpec(
        name="activity",
        columns=(
            Column("year", "year"),
            Column(
                "region",
                vocab="region",
                allowed=region_allowed,
                allowed_hint=Msg("io.hint.region"),
            ),
            Column(
                "category",
                vocab="category",
                allowed=lambda s: s.isin(list(cats)),
                allowed_hint=Msg("io.hint.category"),
            ),
            Column(
                "item",
                vocab="item",
                allowed=lambda s: s.isin(list(item_ids)),
                allowed_hint=Msg("io.hint.item"),
            ),
            Column("amount", "float"),
            Column("unit", check=_unit_ok),
            Column("uncertainty_pct", "float", required=False, nonnegative=True),
            Column("source", required=False, default=""),
            Column("note", required=False, default=""),
        ),
    )


def _row_checks(df: pd.DataFrame) -> list[Problem]:
    """Checks that need several columns: sign of amount, unit dimension per category."""
    problems: list[Problem] = []
    cats = get_categories()
    neg = df["amount"].to_numpy(dtype=float) < 0
    if neg.any():
        sub = df.loc[neg]
        for cat, row, file, amt in zip(
            sub["category"], sub[ROW_COL], sub[FILE_COL], sub["amount"], strict=True
        ):
            if not any(is_prefix(p, cat) for p in NEGATIVE_ALLOWED):
                problems.append(
                    Problem(
                        str(file),
                        int(row),
                        "amount",
                        Msg("io.activity.negative", category=str(cat), value=str(amt), allowed=", ".join(NEGATIVE_ALLOWED)),
                    )
                )
    pairs = df[["category", "unit"]].drop_duplicates()
    bad_pairs: dict[tuple[str, str], Msg] = {}
    for cat, unit in zip(pairs["category"], pairs["unit"], strict=True):
        dims = cats[cat].unit_dims if cat in cats else ()
        if not dims:
            continue
        have = parse_unit(unit).dimensionality
        if not any(d in _DIMS and have == parse_unit(_DIMS[d]).dimensionality for d in dims):
            bad_pairs[(cat, unit)] = Msg("io.activity.unit_dims", unit=str(unit), have=str(have), category=str(cat),
                                         expected=" | ".join(dims))  # fmt: skip
    if bad_pairs:
        keys = list(zip(df["category"], df["unit"], strict=True))
        for k, row, file in zip(keys, df[ROW_COL], df[FILE_COL], strict=True):
            if k in bad_pairs:
                problems.append(Problem(str(file), int(row), "unit", bad_pairs[k]))
    return problems


def _duplicate_problems(df: pd.DataFrame) -> list[Problem]:
    key = list(UNIQUE_KEY)
    dup = df.duplicated(subset=key, keep=False)
    if not dup.any():
        return []
    sub = df.loc[dup]
    problems: list[Problem] = []
    for _, grp in sub.groupby(key, sort=False):
        first_file, first_row = grp[FILE_COL].iloc[0], int(grp[ROW_COL].iloc[0])
        for file, row in zip(grp[FILE_COL].iloc[1:], grp[ROW_COL].iloc[1:], strict=True):
            msg = (Msg("io.duplicate_row", first_row=first_row, key=", ".join(key)) if file == first_file
                   else Msg("io.duplicate_row_of", first_row=first_row, first_file=str(first_file), key=", ".join(key)))
            problems.append(Problem(str(file), int(row), ",".join(key), msg))
    return problems


def _as_object(s: pd.Series) -> pd.Series:
    """``s.astype(object)``, built from the distinct values (few) instead of cell by cell."""
    codes, uniq = pd.factorize(s)
    if len(codes) == 0 or (codes < 0).any():
        return s.astype(object)
    return pd.Series(np.asarray(uniq, dtype=object)[codes], index=s.index, dtype=object)


def _finish(frames: list[pd.DataFrame], problems: list[Problem]) -> pd.DataFrame:
    if frames:
        df = pd.concat(frames, ignore_index=True)
        problems.extend(_row_checks(df))
        problems.extend(_duplicate_problems(df))
    if problems:
        raise ValidationError(problems)
    df = df[list(OUTPUT_COLUMNS)].reset_index(drop=True)
    df["year"] = df["year"].astype("int64")
    df["amount"] = df["amount"].astype(float)
    df["uncertainty_pct"] = df["uncertainty_pct"].astype(float)
    for c in ("region", "category", "item", "unit", "source", "note", FILE_COL):
        df[c] = _as_object(df[c])
    df[ROW_COL] = df[ROW_COL].astype("int64")
    df.attrs[VALIDATED_ATTR] = True
    return df


def validate_activity(
    df: pd.DataFrame,
    *,
    items: Collection[str] | None = None,
    regions: Collection[str] | None = None,
) -> pd.DataFrame:
    """Validate an in-memory activity frame (several ``__file__`` values allowed)."""
    if df.attrs.get(VALIDATED_ATTR):
        return df
    spec = activity_spec(items, regions)
    src = df.copy()
    if FILE_COL not in src.columns:
        src[FILE_COL] = "<data>"
    if ROW_COL not in src.columns:
        src[ROW_COL] = np.arange(2, 2 + len(src))
    from carbonpeak.io.aliases import canonical_header

    src.columns = [canonical_header(c) if not str(c).startswith("__") else c for c in src.columns]
    frames: list[pd.DataFrame] = []
    problems: list[Problem] = []
    for _, part in src.groupby(FILE_COL, sort=False):
        try:
            frames.append(validate_table(part.reset_index(drop=True), spec))
        except ValidationError as exc:
            problems.extend(exc.problems)
    return _finish(frames, problems)


def load_activity(
    paths: Iterable[str | Path] | str | Path,
    *,
    items: Collection[str] | None = None,
    regions: Collection[str] | None = None,
) -> pd.DataFrame:
    """Read and validate activity files (CSV, Excel, Parquet), all or nothing.

    Returns one typed frame with :data:`OUTPUT_COLUMNS`; raises :class:`ValidationError`
    listing every problem of every file (file, row, field) when any file is bad.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    spec = activity_spec(items, regions)
    frames: list[pd.DataFrame] = []
    problems: list[Problem] = []
    any_path = False
    for p in paths:
        any_path = True
        try:
            raw = read_table(p)
            frames.append(validate_table(raw, spec))
        except ValidationError as exc:
            problems.extend(exc.problems)
    if not any_path:
        raise ValidationError([Problem("<none>", None, None, Msg("io.activity.no_file"))])
    return _finish(frames, problems)
