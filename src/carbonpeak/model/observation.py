"""Observations: one value of one indicator for one region and year, with its source.

Columns:

==============  ======  ====================================================================
column          kind    rule
==============  ======  ====================================================================
indicator       str     an id of ``catalog/data/indicators.yaml`` that is not ``computed``
region          str     ``GD`` or a city code of ``catalog/data/regions.yaml``
year            year    1900-2100
value           float   finite; shares in % must lie in 0-100
unit            str     a unit of the indicator's dimension (converted to the indicator unit)
source          str     required: document, table, edition or URL
status          str     optional: verified|derived|consistent|unverified|estimate|synthetic
note            str     optional
==============  ======  ====================================================================

Rows are unique on (indicator, region, year) across all files of one load.  Loading is
all-or-nothing: every problem of every file is reported in one ValidationError.  Indicators that
carbonpeak computes (emissions, intensities, non-fossil share, constant-price GDP) are refused:
they come from the inventory and the energy data, not from typing.

The returned frame has ``value``/``unit`` in the indicator's canonical unit and keeps what the
file said in ``value_reported``/``unit_reported``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from carbonpeak.catalog.loader import STATUSES
from carbonpeak.catalog.regions import load_regions
from carbonpeak.catalog.targets import load_indicators
from carbonpeak.catalog.units import conversion_factor
from carbonpeak.errors import CarbonpeakError, Problem, ValidationError
from carbonpeak.i18n import Msg, declare
from carbonpeak.io import Column, TableSpec, read_table, validate_table
from carbonpeak.io.tables import FILE_COL, ROW_COL

declare({
    "io.hint.indicator": {}, "io.hint.region": {}, "io.allowed": {"values": str},
    "io.obs.computed": {"indicator": str, "formula": str}, "io.obs.unit_must": {"target": str, "indicator": str},
    "io.obs.unit_fit": {"unit": str, "indicator": str, "target": str, "detail": str}, "io.obs.share": {"value": str},
    "io.obs.no_file": {}, "io.obs.duplicate": {"first_row": int, "first_file": str},
})

UNIQUE_KEY = ("indicator", "region", "year")
COLUMNS = ("indicator", "region", "year", "value", "unit", "source", "status", "note")
SPECIAL_UNITS = ("year", "%/yr")


def observation_spec() -> TableSpec:
    """The :class:`TableSpec` of observation tables."""
    inds = load_indicators()
    importable = sorted(k for k, v in inds.items() if not v.computed)
    regions = list(load_regions())
    return TableSpec(
        name="observations",
        columns=(
            Column("indicator", vocab="indicator", allowed=importable,
                   allowed_hint=Msg("io.hint.indicator")),
            Column("region", vocab="region", allowed=regions, allowed_hint=Msg("io.hint.region")),
            Column("year", "year"),
            Column("value", "float"),
            Column("unit"),
            Column("source"),
            Column("status", required=False, default="", allowed=list(STATUSES),
                   allowed_hint=Msg("io.allowed", values=", ".join(STATUSES))),
            Column("note", required=False, default=""),
        ),
        unique=UNIQUE_KEY,
    )


def _computed_problems(df: pd.DataFrame) -> list[Problem]:
    inds = load_indicators()
    out = []
    from carbonpeak.io.aliases import map_values

    names = map_values(df["indicator"].astype(str).str.strip(), "indicator")
    for ind, row, file in zip(names, df[ROW_COL], df[FILE_COL], strict=True):
        if ind in inds and inds[ind].computed:
            out.append(Problem(str(file), int(row), "indicator",
                               Msg("io.obs.computed", indicator=str(ind), formula=str(inds[ind].formula))))
    return out


def _convert(df: pd.DataFrame) -> tuple[pd.DataFrame, list[Problem]]:
    inds = load_indicators()
    problems: list[Problem] = []
    factors: dict[tuple[str, str], float | str] = {}
    for ind, unit in set(zip(df["indicator"], df["unit"], strict=True)):
        target = inds[ind].unit
        if target in SPECIAL_UNITS or unit in SPECIAL_UNITS:
            factors[(ind, unit)] = 1.0 if unit == target else Msg("io.obs.unit_must", target=str(target), indicator=str(ind))
            continue
        try:
            factors[(ind, unit)] = conversion_factor(unit, target)
        except CarbonpeakError as exc:
            factors[(ind, unit)] = Msg("io.obs.unit_fit", unit=str(unit), indicator=str(ind), target=str(target), detail=str(exc))
    mult = []
    for ind, unit, row, file in zip(df["indicator"], df["unit"], df[ROW_COL], df[FILE_COL], strict=True):
        f = factors[(ind, unit)]
        if isinstance(f, str):
            problems.append(Problem(str(file), int(row), "unit", f))
            mult.append(float("nan"))
        else:
            mult.append(f)
    out = df.copy()
    out["value_reported"] = out["value"]
    out["unit_reported"] = out["unit"]
    out["value"] = out["value"].astype(float) * pd.Series(mult, index=out.index)
    out["unit"] = [inds[i].unit for i in out["indicator"]]
    # a share (kind share) lies in 0–100 %; a rate in % (growth, yearly change) may be negative
    is_share = (out["unit"] == "%") & pd.Series([inds[i].kind != "rate" for i in out["indicator"]], index=out.index)
    bad = is_share & ((out["value"] < 0) | (out["value"] > 100))
    for row, file, v in zip(out.loc[bad, ROW_COL], out.loc[bad, FILE_COL], out.loc[bad, "value_reported"], strict=True):
        problems.append(Problem(str(file), int(row), "value", Msg("io.obs.share", value=str(v))))
    return out, problems


def validate_observations(df: pd.DataFrame) -> pd.DataFrame:
    """Validate one raw table (from :func:`read_table` or built in code) and convert units."""
    if ROW_COL not in df.columns:
        df = df.copy()
        df[ROW_COL] = range(2, 2 + len(df))
    if FILE_COL not in df.columns:
        df = df.copy()
        df[FILE_COL] = "<data>"
    pre = _computed_problems(df) if "indicator" in df.columns else []
    typed = validate_table(df, observation_spec()) if not pre else None
    if pre:
        raise ValidationError(pre)
    assert typed is not None
    out, problems = _convert(typed)
    if problems:
        raise ValidationError(problems)
    return out


def load_observations(paths: Iterable[str | Path]) -> pd.DataFrame:
    """Read, validate and combine observation files, all-or-nothing across files."""
    frames: list[pd.DataFrame] = []
    problems: list[Problem] = []
    for p in paths:
        try:
            frames.append(validate_observations(read_table(p)))
        except ValidationError as exc:
            problems.extend(exc.problems)
    if not frames and not problems:
        raise ValidationError([Problem("<observations>", None, None, Msg("io.obs.no_file"))])
    if frames:
        allr = pd.concat(frames, ignore_index=True)
        dup = allr.duplicated(subset=list(UNIQUE_KEY), keep=False)
        if dup.any():
            for _, grp in allr.loc[dup].groupby(list(UNIQUE_KEY), sort=False):
                first_row, first_file = int(grp[ROW_COL].iloc[0]), str(grp[FILE_COL].iloc[0])
                for file, row in zip(grp[FILE_COL].iloc[1:], grp[ROW_COL].iloc[1:], strict=True):
                    problems.append(Problem(str(file), int(row), ",".join(UNIQUE_KEY),
                                            Msg("io.obs.duplicate", first_row=first_row, first_file=first_file)))
    if problems:
        raise ValidationError(problems)
    return allr.reset_index(drop=True)


def empty_observations() -> pd.DataFrame:
    """An empty, correctly typed observation frame."""
    return pd.DataFrame({
        "indicator": pd.Series(dtype=str), "region": pd.Series(dtype=str), "year": pd.Series(dtype="int64"),
        "value": pd.Series(dtype=float), "unit": pd.Series(dtype=str), "source": pd.Series(dtype=str),
        "status": pd.Series(dtype=str), "note": pd.Series(dtype=str),
    })
