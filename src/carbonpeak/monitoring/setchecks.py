"""The set-operation data-quality checks as Ibis expressions, executed by the pipeline's engine.

Gaps (registered meters × ended days, anti-joined with the meter-days), duplicate readings
(interval meter-days with more readings than 15-minute slots) and sub-meters against their
parent (a join of the children's meter-days, summed per parent and day, with the parent's) are
relational operations over the meter-day table and the meter registry; flat lines (a meter's
median daily energy) and spikes (robust z from a meter's median and median absolute deviation)
are window functions over the meter-days partitioned by meter (an exact median on both engines:
DuckDB ``quantile_cont``, Spark ``percentile``, both interpolating like NumPy).  They are written once
against Ibis and run on the engine of the run (DuckDB or Spark, :attr:`PipelineResult.con`);
only the flagged rows (a few per mille of the meter-days) come back to Python, where
:mod:`carbonpeak.monitoring.quality` groups them into runs of days and words the alerts.

The meter-day table is handed to the engine once per result as an Arrow table of the
columns the checks need (:func:`engine_tables`); a result built without an engine (tests, a run
loaded from the store) uses a private in-memory DuckDB connection — never the store's.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa

from carbonpeak.catalog.units import conversion_factor
from carbonpeak.monitoring.pipeline import PipelineResult

MD_COLUMNS = ("day", "n", "energy", "vmin", "vmax", "completeness", "first_epoch", "last_epoch")
#: float columns whose NaN (a value that could not be computed) the engine sees as NULL, as pandas skips it
NAN_AS_NULL = ("energy", "vmin", "vmax")


def engine_of(res: PipelineResult) -> Any:
    """The Ibis backend the checks run on: the run's engine, else a private in-memory DuckDB."""
    if res.con is None:
        res.con = ibis.duckdb.connect()
    return res.con


def _registry_frame(res: PipelineResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per registered meter (and the registry rows it was made from), keyed by its position ``m`` (the engine joins integers, not
    meter ids): kind, interval, the parent's position (−1: none), the factor from the meter's unit
    to its parent's and, for a parent, how many sub-meters are registered under it."""
    m = res.meters.drop_duplicates("meter_id", keep="last").reset_index(drop=True)
    mid = m["meter_id"].astype(str)
    parent = m["parent_meter_id"].fillna("").astype(str)
    unit_of = dict(zip(mid, m["unit"].astype(str), strict=True))
    pairs = {(a, unit_of[p]) for a, p in zip(m["unit"].astype(str), parent, strict=True) if p and p in unit_of}
    factors = {pr: conversion_factor(*pr) for pr in pairs}
    conv = [factors[(a, unit_of[p])] if p and p in unit_of else np.nan
            for a, p in zip(m["unit"].astype(str), parent, strict=True)]  # fmt: skip
    kids = parent[parent != ""].value_counts()
    return pd.DataFrame(
        {
            "m": np.arange(len(m), dtype=np.int64),
            "is_interval": (m["kind"].astype(str) == "interval").to_numpy(),
            "is_cumulative": (m["kind"].astype(str) == "cumulative").to_numpy(),
            "interval_s": m["interval_minutes"].astype("int64").to_numpy() * 60,
            "parent_m": pd.Index(mid).get_indexer(parent).astype(np.int64),
            "conv": np.asarray(conv, dtype=np.float64),
            "n_kids": kids.reindex(mid).fillna(0).astype("int64").to_numpy(),
        }
    ), m


def engine_tables(res: PipelineResult) -> tuple[ir.Table, ir.Table]:
    """The meter-day table (narrow, the meter as its registry position ``m``) and the registry as
    Ibis tables on the run's engine (made once per result)."""
    got = res.cache.get("engine_tables")
    if got is None:
        reg, regm = _registry_frame(res)
        md = res.meter_day
        # the registry position of each meter-day's meter: factorise the million ids (a hash pass over
        # the column), then look the few thousand distinct ones up; −1: a meter not registered
        codes, uniq = pd.factorize(md["meter_id"])
        pos = pd.Index(regm["meter_id"].astype(str)).get_indexer(pd.Index(uniq).astype(str))[codes]
        keep = pos >= 0
        cols = {"m": pos[keep].astype(np.int64),
                **{c: md[c].to_numpy(dtype=np.float64 if c in NAN_AS_NULL else None)[keep] for c in MD_COLUMNS}}  # fmt: skip
        if engine_of(res).name == "pyspark":
            # the Spark backend registers memtables through pandas (Arrow transfer is off in the session)
            t, r = ibis.memtable(pd.DataFrame(cols)), ibis.memtable(reg)
        else:
            t, r = ibis.memtable(pa.table(cols)), ibis.memtable(pa.Table.from_pandas(reg, preserve_index=False))
        # NaN → NULL, so that the engines' medians skip it as pandas does (a NaN sorts above every number in SQL)
        t = t.mutate(**{c: t[c].isnan().ifelse(ibis.null("float64"), t[c]) for c in NAN_AS_NULL})
        got = (t, r)
        res.cache["engine_tables"] = got
        res.cache["registry_rows"] = regm
    return got


def _execute(res: PipelineResult, expr: ir.Table) -> pd.DataFrame:
    """Run ``expr`` on the engine; its ``m`` column back to ``meter_id`` and ``unit_id``."""
    df = engine_of(res).to_pandas(expr).reset_index(drop=True)
    regm = res.cache["registry_rows"]
    pos = df.pop("m").to_numpy(dtype=np.int64)
    df.insert(0, "meter_id", regm["meter_id"].astype(str).to_numpy(dtype=object)[pos])
    df.insert(1, "unit_id", regm["unit_id"].astype(str).to_numpy(dtype=object)[pos])
    df["day"] = df["day"].astype("int64")
    return df.sort_values(["meter_id", "day"], kind="stable").reset_index(drop=True)


def gap_rows(res: PipelineResult, d0: int, ndays: int, cmin: float) -> pd.DataFrame:
    """Every registered meter × every day ``[d0, d0 + ndays)`` whose completeness is below ``cmin``
    (0 for a day without a meter-day): ``meter_id``, ``unit_id``, ``day``, ``completeness``."""
    key = ("gaps", d0, ndays, cmin)
    if key in res.cache:
        return res.cache[key]
    if ndays <= 0 or res.meters.empty:
        out = pd.DataFrame({"meter_id": pd.Series(dtype=object), "unit_id": pd.Series(dtype=object),
                            "day": pd.Series(dtype="int64"), "completeness": pd.Series(dtype="float64")})  # fmt: skip
    else:
        md, reg = engine_tables(res)
        days = ibis.memtable(pd.DataFrame({"day": np.arange(d0, d0 + ndays, dtype=np.int64)}))
        grid = reg.select("m").cross_join(days)
        have = md.filter((md.day >= d0) & (md.day < d0 + ndays)).select(hm=md.m, hday=md.day, c=md.completeness)
        j = grid.left_join(have, (grid.m == have.hm) & (grid.day == have.hday))
        j = j.select("m", "day", completeness=j.c.fill_null(0.0))
        out = _execute(res, j.filter(j.completeness < cmin))
        out["completeness"] = out["completeness"].astype("float64")
    res.cache[key] = out
    return out


def submeter_rows(res: PipelineResult, cmin: float, tol: float) -> pd.DataFrame:
    """Parent meter-days whose registered sub-meters (all with data, all complete, converted to the
    parent's unit) add up to more than ``1 + tol`` of the parent, or — for a breakdown of two or
    more — to less than ``1 − tol``; the parent complete and its energy above zero.
    ``meter_id`` (the parent), ``unit_id``, ``day``, ``ratio``."""
    md, reg = engine_tables(res)
    kreg = reg.filter(reg.parent_m >= 0).select("m", "parent_m", "conv")
    k = md.join(kreg, "m")
    s = k.group_by([k.parent_m, k.day]).aggregate(
        children=(k.energy * k.conv).sum(),
        n_children=k.count(),
        n_low=(k.completeness < cmin).cast("int64").sum(),
    )
    preg = reg.filter(reg.n_kids > 0).select(pm=reg.m, n_kids=reg.n_kids)
    p = md.join(preg, md.m == preg.pm).select(
        pm=md.m, pday=md.day, penergy=md.energy, pcomp=md.completeness, n_kids=preg.n_kids
    )
    j = s.join(p, (s.parent_m == p.pm) & (s.day == p.pday))
    j = j.filter((j.n_low == 0) & (j.pcomp >= cmin) & (j.penergy > 0) & (j.n_children == j.n_kids))
    j = j.select(m=j.parent_m, day=j.day, ratio=j.children / j.penergy, n_kids=j.n_kids)
    bad = (j.ratio > 1 + tol) | ((j.n_kids >= 2) & (j.ratio < 1 - tol))
    return _execute(res, j.filter(bad).select("m", "day", "ratio"))


def row_checks(
    res: PipelineResult, flat_min: int | None = None, cmin: float | None = None, zthr: float | None = None
) -> pd.DataFrame:
    """The checks of single meter-days, in ONE query over the meter-days ⋈ registry (one compilation and
    one execution instead of three): ``meter_id``, ``unit_id``, ``day``, ``flat`` (bool), ``z`` and
    ``extra`` of every meter-day that at least one of them flags.

    * **duplicates** (always): an interval meter-day with more readings than slots between its first
      and last reading, ``extra`` = readings − slots > 0;
    * **flat line** (``flat_min`` given): an interval meter's day with ≥ ``flat_min`` readings all
      equal and above zero (``vmin = vmax > 0``), or a cumulative meter's day with ≥ ``flat_min``
      readings whose counter did not advance (energy 0) while the meter's median daily energy (a
      window over all its meter-days) is above zero;
    * **spike** (``cmin`` and ``zthr`` given): over the meter's complete days (completeness ≥
      ``cmin``), the robust z = 0.6745·(x − median)/MAD of the daily energy and of the day's largest
      interval (median and median absolute deviation as windows partitioned by meter over the
      complete days; a day that is not complete has no z), flagged when the larger is above ``zthr``
      (upward only).
    """
    key = ("row_checks", flat_min, cmin, zthr)
    if key in res.cache:
        return res.cache[key]
    md, reg = engine_tables(res)
    j = md.join(reg.select("m", "is_interval", "is_cumulative", "interval_s"), "m")
    slots = (j.last_epoch - j.first_epoch) // j.interval_s + 1
    j = j.mutate(extra=j.is_interval.ifelse((j.n - slots).cast("int64"), 0))
    no = ibis.literal(False)
    if flat_min is not None:
        j = j.mutate(med=j.energy.median().over(group_by=j.m))
        many = j.n >= flat_min
        flat_iv = j.is_interval & (j.vmin == j.vmax) & (j.vmax > 0) & many
        flat_cu = j.is_cumulative & (j.energy == 0) & many & (j.med > 0)
        j = j.mutate(flat=(flat_iv | flat_cu).fill_null(False))
    else:
        j = j.mutate(flat=no)
    if cmin is not None and zthr is not None:
        ok = j.completeness >= cmin
        null = ibis.null("float64")
        by = {"group_by": j.m}
        # a day that is not complete takes no part in the medians (NULL is skipped) and gets no z
        j = j.mutate(xe=ok.ifelse(j.energy, null), xx=ok.ifelse(j.vmax, null))
        j = j.mutate(med_e=j.xe.median().over(**by), med_x=j.xx.median().over(**by))
        j = j.mutate(dev_e=(j.xe - j.med_e).abs(), dev_x=(j.xx - j.med_x).abs())
        j = j.mutate(mad_e=j.dev_e.median().over(**by), mad_x=j.dev_x.median().over(**by))
        z = ibis.greatest(_robust_z(j.xe, j.med_e, j.mad_e), _robust_z(j.xx, j.med_x, j.mad_x))
        j = j.mutate(z=z, spike=ok & (z > zthr))
    else:
        j = j.mutate(z=ibis.literal(0.0), spike=no)
    out = j.filter(j.flat | j.spike | (j.extra > 0)).select("m", "day", "flat", "z", "extra")
    got = _execute(res, out)
    got["flat"] = got["flat"].astype(bool)
    got["extra"] = got["extra"].astype("int64")
    got["z"] = got["z"].astype("float64")
    res.cache[key] = got
    return got


def duplicate_rows(res: PipelineResult) -> pd.DataFrame:
    """Interval meter-days with more readings than slots between their first and last reading:
    ``meter_id``, ``unit_id``, ``day``, ``extra`` (readings − slots); see :func:`row_checks`."""
    r = row_checks(res)
    return r.loc[r["extra"] > 0, ["meter_id", "unit_id", "day", "extra"]].reset_index(drop=True)


def flat_rows(res: PipelineResult, flat_min: int) -> pd.DataFrame:
    """Flat lines (see :func:`row_checks`): ``meter_id``, ``unit_id``, ``day``."""
    r = row_checks(res, flat_min=flat_min)
    return r.loc[r["flat"], ["meter_id", "unit_id", "day"]].reset_index(drop=True)


def _robust_z(x: ir.FloatingValue, med: ir.FloatingValue, mad: ir.FloatingValue) -> ir.FloatingValue:
    """0.6745 · (x − median) / MAD; 0 where the MAD is 0 or unknown, or x is unknown."""
    return (mad > 0).ifelse(0.6745 * (x - med) / mad, 0.0).fill_null(0.0)


def spike_rows(res: PipelineResult, cmin: float, zthr: float) -> pd.DataFrame:
    """Spikes (see :func:`row_checks`): ``meter_id``, ``unit_id``, ``day``, ``z``."""
    r = row_checks(res, cmin=cmin, zthr=zthr)
    return r.loc[r["z"] > zthr, ["meter_id", "unit_id", "day", "z"]].reset_index(drop=True)
