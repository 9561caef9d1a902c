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
        cols = {"m": pos[keep].astype(np.int64), **{c: md[c].to_numpy()[keep] for c in MD_COLUMNS}}
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


def duplicate_rows(res: PipelineResult) -> pd.DataFrame:
    """Interval meter-days with more readings than slots between their first and last reading:
    ``meter_id``, ``unit_id``, ``day``, ``extra`` (readings − slots)."""
    md, reg = engine_tables(res)
    j = md.join(reg.filter(reg.is_interval).select("m", "interval_s"), "m")
    slots = (j.last_epoch - j.first_epoch) // j.interval_s + 1
    e = j.select("m", "day", extra=(j.n - slots).cast("int64"))
    return _execute(res, e.filter(e.extra > 0))


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


def flat_rows(res: PipelineResult, flat_min: int) -> pd.DataFrame:
    """Flat lines: an interval meter's day with at least ``flat_min`` readings, all equal and above zero
    (``vmin = vmax > 0``), or a cumulative meter's day with at least ``flat_min`` readings whose counter
    did not advance (energy 0) while the meter's median daily energy (window over the meter's
    meter-days) is above zero.  ``meter_id``, ``unit_id``, ``day``."""
    md, reg = engine_tables(res)
    j = md.join(reg.select("m", "is_interval", "is_cumulative"), "m")
    j = j.mutate(med=j.energy.median().over(group_by=j.m))
    many = j.n >= flat_min
    flat_iv = j.is_interval & (j.vmin == j.vmax) & (j.vmax > 0) & many
    flat_cu = j.is_cumulative & (j.energy == 0) & many & (j.med > 0)
    return _execute(res, j.filter(flat_iv | flat_cu).select("m", "day"))


def _robust_z(x: ir.FloatingValue, med: ir.FloatingValue, mad: ir.FloatingValue) -> ir.FloatingValue:
    """0.6745 · (x − median) / MAD; 0 where the MAD is 0 or unknown, or x is unknown."""
    return (mad > 0).ifelse(0.6745 * (x - med) / mad, 0.0).fill_null(0.0)


def spike_rows(res: PipelineResult, cmin: float, zthr: float) -> pd.DataFrame:
    """Spikes: over each meter's complete days (completeness ≥ ``cmin``), the robust z of the daily energy
    and of the day's largest interval, z = 0.6745·(x − median)/MAD (median and median absolute
    deviation as windows partitioned by meter); the days whose larger z is above ``zthr`` (upward
    only).  ``meter_id``, ``unit_id``, ``day``, ``z``."""
    md, _reg = engine_tables(res)
    g = md.filter(md.completeness >= cmin).select("m", "day", "energy", "vmax")
    by = {"group_by": g.m}
    g = g.mutate(med_e=g.energy.median().over(**by), med_x=g.vmax.median().over(**by))
    g = g.mutate(dev_e=(g.energy - g.med_e).abs(), dev_x=(g.vmax - g.med_x).abs())
    g = g.mutate(mad_e=g.dev_e.median().over(**by), mad_x=g.dev_x.median().over(**by))
    z = ibis.greatest(_robust_z(g.energy, g.med_e, g.mad_e), _robust_z(g.vmax, g.med_x, g.mad_x))
    s = g.select("m", "day", z=z)
    return _execute(res, s.filter(s.z > zthr))
