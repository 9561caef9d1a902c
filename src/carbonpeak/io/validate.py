"""Declarative, vectorised validation of tables: every bad cell is reported, nothing is kept.

A :class:`TableSpec` lists :class:`Column` rules.  :func:`validate_table` checks a DataFrame
from :func:`carbonpeak.io.tables.read_table` and returns a typed copy, or raises
:class:`ValidationError` with one :class:`Problem` per bad cell (file, row, field, message).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import pandas as pd

from carbonpeak.errors import Problem, ValidationError
from carbonpeak.i18n import Msg, declare
from carbonpeak.io.tables import FILE_COL, ROW_COL

Kind = Literal["str", "int", "float", "year", "timestamp", "bool"]

# the problems this module reports (catalog messages/io.yaml), rendered in the reader's language
declare({
    "io.required_column": {"column": str}, "io.unknown_column": {"expected": str}, "io.no_rows": {},
    "io.text_invalid": {"max": int}, "io.not_finite": {"value": str}, "io.not_number": {"value": str},
    "io.not_whole": {"value": str}, "io.year_range": {"value": str}, "io.not_timestamp": {"value": str},
    "io.not_yes_no": {"value": str}, "io.empty": {}, "io.unknown_value": {"value": str},
    "io.unknown_value_hint": {"value": str, "hint": Msg}, "io.allowed": {"values": str},
    "io.negative": {"value": str}, "io.min": {"min": str, "value": str}, "io.max": {"max": str, "value": str},
    "io.implausible": {"lo": str, "hi": str, "value": str}, "io.check": {"check": Msg, "value": str},
    "io.duplicate_row": {"first_row": int, "key": str},
})

#: Control characters refused in text cells (tab, line feed and carriage return are allowed:
#: a quoted CSV cell may hold a multi-line note).
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: pandas' default text dtype: what a column of NumPy strings becomes in a frame
_TEXT = pd.api.types.pandas_dtype("str")
#: Longest text cell accepted (identifiers, units, notes).
MAX_TEXT = 2000


@lru_cache(maxsize=1)
def _ranges() -> dict[tuple[str, str], tuple[float | None, float | None]]:
    from carbonpeak.catalog.loader import load_yaml

    doc = load_yaml("validation/plausible_ranges.yaml")
    return {
        (str(r["table"]), str(r["column"])): (
            None if r.get("min") is None else float(r["min"]),
            None if r.get("max") is None else float(r["max"]),
        )
        for r in doc["ranges"]
    }


def plausible_range(table: str, column: str) -> tuple[float | None, float | None]:
    """The (min, max) of ``table.column`` in ``catalog/data/validation/plausible_ranges.yaml``."""
    return _ranges().get((table, column), (None, None))


def clock_allowance_minutes() -> float:
    """How far in the future a reading's timestamp may lie (clock differences)."""
    from carbonpeak.catalog.loader import load_yaml

    return float(load_yaml("validation/plausible_ranges.yaml")["clock_allowance_minutes"])


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:g}"


def _text_problems(typed: pd.Series) -> tuple[pd.Series, Any]:
    """Mask of text cells with control characters or over :data:`MAX_TEXT` (checked per distinct value)."""
    uniq = typed.unique()  # distinct values first: Arrow text is not turned into 100,000 Python strings
    bad = {v for v in uniq if isinstance(v, str) and (len(v) > MAX_TEXT or CONTROL_CHARS.search(v))}
    if not bad:
        return pd.Series(False, index=typed.index), ""
    return typed.isin(list(bad)), bad


@dataclass(frozen=True)
class Column:
    """One column rule.

    ``allowed`` is either a collection of valid values or a function returning a boolean
    Series (vectorised) plus ``allowed_hint`` that explains what is valid.  ``check`` is a
    free-form vectorised check on the typed column returning a boolean mask of *bad* rows
    and the message for them.
    """

    name: str
    kind: Kind = "str"
    required: bool = True
    allowed: Collection[str] | Callable[[pd.Series], pd.Series] | None = None
    allowed_hint: str = ""
    nonnegative: bool = False
    min_value: float | None = None
    max_value: float | None = None
    default: object = None
    check: Callable[[pd.Series], tuple[pd.Series, str]] | None = None
    #: a vocabulary of :mod:`carbonpeak.io.aliases` (``item``, ``region``, ``category``,
    #: ``indicator``): names typed for an id (原煤, 广州市 …) are replaced by the id first.
    vocab: str | None = None


@dataclass(frozen=True)
class TableSpec:
    """The columns of one kind of input table, and which of them make a row unique."""

    name: str
    columns: tuple[Column, ...]
    unique: tuple[str, ...] = ()
    allow_extra: bool = False
    max_problems: int = 1000
    extra_checks: tuple[Callable[[pd.DataFrame], list[tuple[int, str | None, str]]], ...] = field(default=())

    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _problems_for(
    mask: pd.Series, df: pd.DataFrame, col: str, msg: Callable[[object], str] | str
) -> list[Problem]:
    """One problem per ``mask`` row; ``msg`` is a message (a :class:`Msg`) or makes one of the cell."""
    out: list[Problem] = []
    if not mask.any():
        return out
    sub = df.loc[mask]
    for row, file, val in zip(
        sub[ROW_COL], sub[FILE_COL], sub[col] if col in sub else [None] * len(sub), strict=False
    ):
        out.append(Problem(str(file), int(row), col, msg(val) if callable(msg) else msg))
    return out


def _arrow_numbers(txt: pd.Series) -> pd.Series | None:
    """The numbers of a text column (thousands separators dropped, empty → NaN) when every
    non-empty cell is one, cast in one Arrow kernel; ``None`` if any cell is not (the caller then
    parses cell by cell to name the bad ones)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        arr = pa.array(txt, type=pa.string())
        arr = pc.replace_substring(arr, ",", "")
        arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)
        out = pc.cast(arr, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    return pd.Series(out.to_numpy(zero_copy_only=False), index=txt.index, dtype=float)


def validate_table(df: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """Validate and type ``df`` against ``spec``; raise :class:`ValidationError` on any problem."""
    if ROW_COL not in df.columns:
        df = df.copy()
        df[ROW_COL] = range(2, 2 + len(df))
    if FILE_COL not in df.columns:
        df = df.copy()
        df[FILE_COL] = "<data>"
    fname = str(df[FILE_COL].iloc[0]) if len(df) else "<data>"
    problems: list[Problem] = []
    cols = set(df.columns) - {ROW_COL, FILE_COL}
    for c in spec.columns:
        if c.required and c.name not in cols:
            problems.append(Problem(fname, None, c.name, Msg("io.required_column", column=c.name)))
    if not spec.allow_extra:
        known = set(spec.column_names())
        for extra in sorted(cols - known):
            problems.append(
                Problem(fname, None, extra, Msg("io.unknown_column", expected=", ".join(spec.column_names())))
            )
    if problems:
        raise ValidationError(problems)
    if len(df) == 0:
        raise ValidationError([Problem(fname, None, None, Msg("io.no_rows"))])

    out = pd.DataFrame({ROW_COL: df[ROW_COL].to_numpy(), FILE_COL: df[FILE_COL].to_numpy()})
    for c in spec.columns:
        if c.name not in df.columns:
            out[c.name] = c.default
            continue
        raw = df[c.name]
        is_text = raw.dtype == object or str(raw.dtype).startswith("str")
        as_text = raw.astype(str).str.strip() if is_text else raw
        if c.kind == "str":
            typed = as_text if is_text else raw.astype(str).str.strip()  # stripped once
            typed = typed.where(~raw.isna(), "")
            if c.vocab is not None:
                from carbonpeak.io.aliases import map_values

                typed = map_values(typed, c.vocab)
            empty = typed == ""
            bad_text, _ = _text_problems(typed)
            if bad_text.any():
                problems += _problems_for(
                    bad_text,
                    df,
                    c.name,
                    Msg("io.text_invalid", max=MAX_TEXT),
                )
        elif c.kind in ("int", "year", "float"):
            if pd.api.types.is_numeric_dtype(raw):
                typed = raw.astype(float)
                empty = typed.isna()
                bad_type = pd.Series(False, index=raw.index)
            else:
                txt = as_text.where(~raw.isna(), "")
                empty = txt == ""
                typed = _arrow_numbers(txt)
                if typed is None:  # some cell is not a number: find which (and say so below)
                    typed = pd.to_numeric(txt.str.replace(",", "", regex=False), errors="coerce")
                bad_type = typed.isna() & ~empty
            finite = np.isfinite(typed.to_numpy(dtype=float, na_value=np.nan))
            nonfinite = pd.Series(~finite, index=typed.index) & ~empty & ~bad_type
            problems += _problems_for(
                nonfinite, df, c.name, lambda v: Msg("io.not_finite", value=str(v))
            )
            typed = typed.where(finite | typed.isna(), np.nan)
            problems += _problems_for(
                bad_type,
                df,
                c.name,
                lambda v, k=c.kind: Msg("io.not_number" if k == "float" else "io.not_whole", value=str(v)),
            )
            if c.kind in ("int", "year"):
                frac = typed.notna() & (typed != np.floor(typed.fillna(0)))
                problems += _problems_for(frac, df, c.name, lambda v: Msg("io.not_whole", value=str(v)))
            if c.kind == "year":
                outr = typed.notna() & ((typed < 1900) | (typed > 2100))
                problems += _problems_for(outr, df, c.name, lambda v: Msg("io.year_range", value=str(v)))
        elif c.kind == "timestamp":
            if pd.api.types.is_datetime64_any_dtype(raw):
                typed = raw
                empty = typed.isna()
            else:
                txt = as_text
                empty = txt == ""
                typed = pd.to_datetime(txt, errors="coerce", utc=True, format="ISO8601")
                problems += _problems_for(
                    typed.isna() & ~empty, df, c.name, lambda v: Msg("io.not_timestamp", value=str(v))
                )
        elif c.kind == "bool":
            txt = as_text.str.lower()
            empty = txt == ""
            truthy = txt.isin(["true", "yes", "1", "y", "是"])
            falsy = txt.isin(["false", "no", "0", "n", "否"])
            problems += _problems_for(~(truthy | falsy) & ~empty, df, c.name, lambda v: Msg("io.not_yes_no", value=str(v)))
            typed = truthy
        else:  # pragma: no cover - guarded by Kind
            raise ValueError(c.kind)
        if c.required:
            problems += _problems_for(empty, df, c.name, Msg("io.empty"))
        elif c.default is not None:
            typed = typed.where(~empty, c.default)
        nonempty = ~empty
        if c.allowed is not None:
            ok = c.allowed(typed) if callable(c.allowed) else typed.isin(list(c.allowed))
            bad = nonempty & ~ok
            hint = c.allowed_hint or (
                Msg("io.allowed", values=", ".join(sorted(map(str, c.allowed)))[:300]) if not callable(c.allowed) else ""
            )
            problems += _problems_for(
                bad, df, c.name,
                lambda v, h=hint: Msg("io.unknown_value_hint", value=str(v), hint=h) if h else Msg("io.unknown_value", value=str(v)),
            )
        if c.nonnegative:
            problems += _problems_for(
                nonempty & (typed < 0), df, c.name, lambda v: Msg("io.negative", value=str(v))
            )
        if c.min_value is not None:
            problems += _problems_for(
                nonempty & (typed < c.min_value),
                df,
                c.name,
                lambda v, m=c.min_value: Msg("io.min", min=str(m), value=str(v)),
            )
        if c.max_value is not None:
            problems += _problems_for(
                nonempty & (typed > c.max_value),
                df,
                c.name,
                lambda v, m=c.max_value: Msg("io.max", max=str(m), value=str(v)),
            )
        lo, hi = plausible_range(spec.name, c.name) if c.kind in ("int", "float") else (None, None)
        if lo is not None or hi is not None:
            already = pd.Series(False, index=typed.index)  # the column's own sign/min/max rules came first
            if c.nonnegative:
                already |= typed < 0
            if c.min_value is not None:
                already |= typed < c.min_value
            if c.max_value is not None:
                already |= typed > c.max_value
            outside = nonempty & typed.notna() & ~already & (
                (typed < lo if lo is not None else False) | (typed > hi if hi is not None else False)
            )
            problems += _problems_for(
                outside,
                df,
                c.name,
                lambda v, a=lo, b=hi: Msg("io.implausible", lo=_num(a), hi=_num(b), value=str(v)),
            )
        if c.check is not None:
            bad, msg = c.check(typed)
            problems += _problems_for(nonempty & bad, df, c.name, lambda v, m=msg: Msg("io.check", check=m, value=str(v)))
        if c.kind == "float":
            typed = typed.astype(float)
        elif c.kind in ("int", "year") and not problems and not typed.isna().any():
            typed = typed.astype("int64")
        # text stays in its Arrow array (to NumPy objects and back cost ~10 ms a column per 100,000 rows)
        keep = c.kind == "timestamp" or typed.dtype == _TEXT
        out[c.name] = typed.array if keep else typed.to_numpy()
        if len(problems) >= spec.max_problems:
            break
    if not problems and spec.unique:
        key = list(spec.unique)
        dup = out.duplicated(subset=key, keep="first")
        if dup.any():
            firsts = out.drop_duplicates(subset=key, keep="first").set_index(key)[ROW_COL]
            for _, r in out.loc[dup].iterrows():
                k = tuple(r[c] for c in key)
                first = firsts.loc[k] if len(key) > 1 else firsts.loc[k[0]]
                first_row = int(first.iloc[0]) if isinstance(first, pd.Series) else int(first)
                problems.append(
                    Problem(
                        fname,
                        int(r[ROW_COL]),
                        ",".join(key),
                        Msg("io.duplicate_row", first_row=first_row, key=", ".join(key)),
                    )
                )
    if not problems:
        for chk in spec.extra_checks:
            for row, fld, msg in chk(out):
                problems.append(Problem(fname, row, fld, msg))
    if problems:
        raise ValidationError(problems)
    return out
