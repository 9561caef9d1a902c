"""Chinese (and other) spellings of column headers and of catalog names, mapped to ids — in one place.

People type the headers of a statistics form (年份, 地区, 部门, 品种, 数量, 单位 …) and the names of
the catalog (原煤, 焦炭, 广州市, 地区生产总值(当年价) …).  Every reader maps them here:

* headers: :func:`canonical_header` / :func:`rename_headers`, from
  ``catalog/data/io/header_aliases.yaml`` (called by :func:`carbonpeak.io.tables.read_table`);
* values: :func:`map_values` with a vocabulary (``item``, ``region``, ``category``,
  ``indicator``), built from the catalog's own ``name_zh``/``name_en`` (called by
  :func:`carbonpeak.io.validate.validate_table` for a :class:`~carbonpeak.io.validate.Column`
  with ``vocab``).

A name that two catalog entries share (e.g. the category name 其他) is ambiguous and not mapped:
the validator then reports it as unknown, and the code must be used.  Anything not recognised is
left as it is, for the validator to report with file, row and field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache, lru_cache

import numpy as np
import pandas as pd

from carbonpeak.errors import Problem, ValidationError
from carbonpeak.i18n import Msg, declare

declare({"io.header_twice": {"first": str, "second": str, "column": str}})

VOCABULARIES = ("item", "region", "category", "indicator")

#: "中文 (english)", "中文（english）", "english [中文]": a name and its translation.
_PAIR = re.compile(r"^\s*(?P<a>[^(（\[]+?)\s*[(（\[]\s*(?P<b>[^)）\]]+?)\s*[)）\]]\s*$")


def _norm(text: str) -> str:
    return " ".join(str(text).replace("\u3000", " ").split()).lower()


@lru_cache(maxsize=1)
def header_aliases() -> dict[str, str]:
    """Alias (normalised) → column name, from ``catalog/data/io/header_aliases.yaml``."""
    from carbonpeak.catalog.loader import load_yaml

    doc = load_yaml("io/header_aliases.yaml") or {}
    out: dict[str, str] = {}
    for col, aliases in doc.items():
        out[_norm(col)] = str(col)
        for a in aliases or ():
            out[_norm(str(a))] = str(col)
    return out


@lru_cache(maxsize=1)
def header_labels() -> dict[str, str]:
    """Header label (normalised, zh and en) → column id, from the ``header.<id>`` messages that the
    downloads write (:func:`carbonpeak.io.export.column_label`); a label two ids share is left out."""
    from carbonpeak.i18n import load_messages

    table: dict[str, str | None] = {}
    for key, m in load_messages().items():
        if key.startswith("header."):
            col = key[len("header."):]
            for text in (col, *m.values()):  # the id too: "co2e_t (tCO2e)" is the ids variant's header
                _add(table, text, col)
    return {k: v for k, v in table.items() if v is not None}


def canonical_header(header: object) -> str:
    """The column name a header stands for; an unknown header comes back stripped and lower-cased.

    ``"年份"`` → ``"year"``; ``"数量 (amount)"`` → ``"amount"``; ``"Amount"`` → ``"amount"``; a
    download's header ``"排放量 (tCO2e)"`` → ``"co2e_t"`` (the aliases first, then the labels).
    """
    text = _norm(str(header))
    for table in (header_aliases(), header_labels()):
        hit = _in_table(table, text)
        if hit is not None:
            return hit
    return text


def _in_table(table: dict[str, str], text: str) -> str | None:
    """``table``'s entry for ``text``, or for either half of a pair such as ``"数量 (amount)"``."""
    if text in table:
        return table[text]
    m = _PAIR.match(text)
    if m:
        for part in (m.group("a"), m.group("b")):
            if _norm(part) in table:
                return table[_norm(part)]
    return None


def rename_headers(columns: Iterable[object], file: str) -> list[str]:
    """:func:`canonical_header` of each header; two headers meaning one column is an error."""
    cols = list(columns)
    out = [canonical_header(c) for c in cols]
    seen: dict[str, str] = {}
    problems: list[Problem] = []
    for raw, new in zip(cols, out, strict=True):
        if new in seen:
            problems.append(
                Problem(file, 1, str(raw), Msg("io.header_twice", first=seen[new], second=str(raw), column=new))
            )
        else:
            seen[new] = str(raw)
    if problems:
        raise ValidationError(problems)
    return out


def _add(table: dict[str, str | None], key: str, value: str) -> None:
    k = _norm(key)
    if not k:
        return
    if k in table and table[k] != value:
        table[k] = None  # shared by two entries: ambiguous
    else:
        table[k] = value


@cache
def vocabulary(kind: str) -> dict[str, str]:
    """Normalised name → id for one vocabulary (ids, Chinese and English names; ambiguous names left out)."""
    table: dict[str, str | None] = {}
    names: list[tuple[str, str]] = []  # (name, id), added after the ids so an id always wins
    ids: list[str] = []
    if kind == "item":
        from carbonpeak.catalog.items import get_items

        for iid, it in get_items().items():
            ids.append(iid)
            names += [(it.name_zh, iid), (it.name_en, iid)]
    elif kind == "region":
        from carbonpeak.catalog.regions import load_regions

        for code, r in load_regions().items():
            ids.append(code)
            names += [(r.name_zh, code), (r.name_en, code), (r.adcode, code)]
            short = re.sub(r"(省|市)$", "", r.name_zh)
            if short != r.name_zh:
                names.append((short, code))
            en_short = re.sub(r"\s+(province|city)$", "", r.name_en, flags=re.IGNORECASE)
            if en_short != r.name_en:
                names.append((en_short, code))
    elif kind == "category":
        from carbonpeak.catalog.categories import get_categories

        for code, c in get_categories().items():
            ids.append(code)
            names += [(c.name_zh, code), (c.name_en, code)]
    elif kind == "indicator":
        from carbonpeak.catalog.targets import load_indicators

        for iid, ind in load_indicators().items():
            ids.append(iid)
            names += [(ind.name_zh, iid), (ind.name_en, iid)]
    else:
        raise ValueError(f"unknown vocabulary '{kind}'; one of {', '.join(VOCABULARIES)}")
    for name, iid in names:
        _add(table, name, iid)
    for iid in ids:  # ids are case-sensitive and win over any name
        table[_norm(iid)] = iid
    return {k: v for k, v in table.items() if v is not None}


def lookup(value: str, kind: str) -> str | None:
    """The id ``value`` names in vocabulary ``kind``, or None.

    Accepts the id, a name (Chinese or English), or an id and a name together as carbonpeak's
    templates write them: ``"1.A.1 能源工业"``, ``"原煤 (raw_coal)"``.
    """
    table = vocabulary(kind)
    text = _norm(value)
    if not text:
        return None
    hit = _in_table(table, text)
    if hit is not None:
        return hit
    first, _, rest = text.partition(" ")
    if rest and first in table:
        return table[first]
    return None


def map_values(s: pd.Series, kind: str) -> pd.Series:
    """``s`` with every recognised name replaced by its id (one lookup per distinct value).

    Values that are already ids, empty, or not recognised are left as they are.
    """
    uniq = s.unique()  # distinct values first (Arrow text: no Python string per cell)
    repl: dict[object, str] = {}
    ids = set(vocabulary(kind).values())
    for v in uniq:
        if not isinstance(v, str) or v in ids or not v:
            continue
        got = lookup(v, kind)
        if got is not None:
            repl[v] = got
    if not repl:
        return s
    codes, uniq = pd.factorize(s)  # one replacement per distinct value, not per cell
    if (codes < 0).any():
        return s.replace(repl)
    new = np.asarray([repl.get(u, u) for u in uniq], dtype=object)
    return pd.Series(new[codes], index=s.index, dtype=object)
