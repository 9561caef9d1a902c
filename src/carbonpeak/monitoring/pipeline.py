"""The readings pipeline, written once against Ibis: the same expression runs on DuckDB and Spark.

Stage 1 (on the engine, row level — ONE pass over the readings, the only stage that touches
every reading):

* the day is cut at midnight China Standard Time (UTC+8, no daylight saving):
  ``day = date(ts + 8 h)`` with the engine session in UTC;
* readings ⋈ meters are grouped by meter and day in one aggregation (:func:`meter_day_expr`);
* **interval** meters: each reading is the energy of the interval that *starts* at ``ts``;
  negative readings and readings above the meter's ``max_interval_value`` are counted and left
  out of the energy — the aggregation gives their meter-day rows directly;
* **cumulative** meters: the same aggregation collects each meter-day's readings (a few per cent
  of all readings) as an array; :func:`pair_counters` orders them per meter and takes
  consecutive pairs: interval energy = the advance of the counter since the previous reading,
  assigned to the day the interval starts.  A fall of the counter is a *rollover* when the
  previous value was in the top 10 % of the meter's ``rollover`` range and the new one in the
  bottom 10 % (energy = rollover − previous + value), otherwise a *reset* (the counter
  restarted from zero: energy = value);
* both give per meter and day: energy, number of intervals, minimum and maximum interval
  value, negatives, impossible values, resets, rollovers, first and last timestamp.

Stage 2 (meter-day grain, a few million rows at provincial scale, pandas): standard coal
(GB/T 2589 coefficients, electricity by the chosen method), CO2 (catalog factors, electricity with
the grid factor of the year), unit totals by energy type (top-level meters only: a meter with a
``parent_meter_id`` is a sub-meter of its parent and is not added again), and rollups by unit,
month, city and industry.  Both engines produce the same stage-1 table, so everything after it
is identical by construction.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.datatypes as idt
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from carbonpeak.errors import CarbonpeakError
from carbonpeak.monitoring.catalog import CoefficientFn, coefficient_frame

CST_OFFSET_S = 8 * 3600  # China Standard Time, UTC+8
DAY_S = 86400
EPOCH_DATE = dt.date(1970, 1, 1)

METER_DAY_COLUMNS = (
    "meter_id",
    "day",
    "n",
    "energy",
    "vmin",
    "vmax",
    "n_negative",
    "n_impossible",
    "n_resets",
    "n_rollovers",
    "first_us",
    "last_us",
)
#: the columns :func:`pair_counters` returns (the meter as its registry position ``m``)
PAIRED_COLUMNS = ("m", *METER_DAY_COLUMNS[1:])
#: the stage-1 meter-day columns as returned by :func:`compute_meter_day`
STAGE1_COLUMNS = (
    "meter_id", "day", "n", "energy", "vmin", "vmax", "n_negative", "n_impossible", "n_resets", "n_rollovers",
    "first_epoch", "last_epoch",
)  # fmt: skip


def day_number(d: dt.date) -> int:
    return (d - EPOCH_DATE).days


def day_date(n: int) -> dt.date:
    return EPOCH_DATE + dt.timedelta(days=int(n))


def _meter_table(meters: pd.DataFrame) -> pd.DataFrame:
    """One row per meter id (the last registry row of an id wins) with its position ``m``: the engine
    groups the readings by this integer, not by the meter-id string (a smaller hash table and result)."""
    m = meters[["meter_id", "kind", "interval_minutes", "rollover", "max_interval_value"]].copy()
    m["meter_id"] = m["meter_id"].astype(str)
    m = m.drop_duplicates("meter_id", keep="last").reset_index(drop=True)
    m.insert(0, "m", np.arange(len(m), dtype=np.int64))
    m["kind"] = m["kind"].astype(str)
    m["interval_minutes"] = m["interval_minutes"].astype("int64")
    for c in ("rollover", "max_interval_value"):
        m[c] = pd.to_numeric(m[c], errors="coerce").astype("float64")
    return m


@ibis.udf.scalar.builtin(name="epoch_us")
def _duckdb_epoch_us(ts: idt.Timestamp(timezone="UTC")) -> idt.int64:  # type: ignore[valid-type, empty-body]
    """DuckDB: microseconds since 1970-01-01 UTC of a TIMESTAMPTZ (no time-zone cast per row)."""


@ibis.udf.scalar.builtin(name="unix_micros")
def _spark_epoch_us(ts: idt.Timestamp(timezone="UTC")) -> idt.int64:  # type: ignore[valid-type, empty-body]
    """Spark SQL: microseconds since 1970-01-01 UTC of a TIMESTAMP."""


def epoch_us(ts: ir.TimestampValue, backend: str) -> ir.IntegerValue:
    """Microseconds since the epoch, by the engine's own function.

    Ibis' portable ``epoch_seconds`` casts a time-zone-aware timestamp to a naive one first,
    which DuckDB does through ICU row by row (several times slower than the aggregation
    itself); both engines have a direct function, so the pipeline names it per engine here —
    the only engine-specific line of the pipeline.
    """
    return (_spark_epoch_us if backend == "pyspark" else _duckdb_epoch_us)(ts)


def meter_day_expr(
    readings: ir.Table,
    meters: ir.Table,
    *,
    day_from: int | None = None,
    day_to: int | None = None,
    backend: str = "duckdb",
    check_max: bool = True,
) -> ir.Table:
    """Stage 1a as ONE Ibis expression: the only pass over the readings, one row per meter and day.

    ``readings`` needs ``meter_id``, ``ts`` (timestamp) and ``value``; ``meters`` needs ``m`` (the
    meter's registry position, :func:`_meter_table`), ``meter_id``, ``kind`` and
    ``max_interval_value``.  Readings ⋈ meters grouped by meter position ``m`` and CST day: an interval meter's row is final (energy, count, minimum and maximum,
    negative and impossible values, first and last time); a cumulative meter's row also carries
    the day's readings as an array ``rd`` of ``{us, v}`` (a few per cent of the readings), which
    :func:`pair_counters` turns into intervals.  Rows of ``day_to + 1`` are kept for the
    counters (the last interval of ``day_to`` ends on the next day's first reading).
    """
    big = ibis.literal(1e300)

    def cst_day(us: ir.IntegerValue) -> ir.IntegerValue:
        # China Standard Time is UTC+8 all year: day number = (µs since epoch + 8 h) // 1 day
        return (us + CST_OFFSET_S * 1_000_000) // (DAY_S * 1_000_000)

    r = readings.select("meter_id", "ts", "value")
    r = r.mutate(us=epoch_us(r.ts, backend), value=r.value.cast("float64"))
    m = meters.select("m", "meter_id", cum=meters.kind == "cumulative", mx=meters.max_interval_value)
    j = r.join(m, "meter_id")
    neg = j.value < 0
    # when no meter declares a max_interval_value the per-row test is skipped (it costs ~1/3 of the scan);
    # a cumulative meter's limit applies to the advance of its counter (pair_counters)
    imp = (j.value > j.mx.fill_null(big)) if check_max else None
    good = ~neg & ~imp if imp is not None else ~neg
    g = j.group_by([j.m, cst_day(j.us).name("day")]).aggregate(
        cum=j.cum.max(),
        n=j.count(),
        energy=good.ifelse(j.value, 0.0).sum(),
        vmin=j.value.min(),
        vmax=j.value.max(),
        n_negative=neg.cast("int64").sum(),
        first_us=j.us.min(),
        last_us=j.us.max(),
        rd=ibis.struct({"us": j.us, "v": j.value}).collect(where=j.cum),
        **({"n_impossible": imp.cast("int64").sum()} if imp is not None else {}),
    )
    if imp is None:
        g = g.mutate(n_impossible=ibis.literal(0).cast("int64"))
    if day_from is not None:
        g = g.filter(g.day >= day_from)
    if day_to is not None:
        g = g.filter(g.day <= day_to + 1)
    return g


def pair_counters(tbl: pa.Table, cum: np.ndarray, meters: pd.DataFrame, chunk_readings: int = 1_000_000) -> pd.DataFrame:
    """Stage 1b: the intervals of cumulative meters from the readings arrays of :func:`meter_day_expr`.

    Per meter, the readings in time order make consecutive pairs (a, b); each interval is the
    advance b − a, assigned to the day its first reading is on (so a day's last interval ends
    on the next day's first reading).  A fall of the counter is a *rollover* when a was in the
    top 10 % of the meter's ``rollover`` range and b in the bottom 10 % (energy = rollover − a +
    b), otherwise a *reset* (the counter restarted from zero: energy = b).  An interval whose
    end reading is negative or whose energy exceeds ``max_interval_value`` is counted and left
    out of the energy.  Vectorised (NumPy) over blocks of whole meters of about
    ``chunk_readings`` readings each (the temporaries of a block, not of all counters, are what
    it holds at once); ``tbl`` is the engine's result and ``cum`` marks its cumulative rows;
    ``meters`` the registry (or :func:`_meter_table` of it).  Returns the meter-day rows of the
    cumulative meters (without the arrays), the meter as its position ``m``.
    """
    reg = meters if "m" in meters.columns else _meter_table(meters)
    rows = np.flatnonzero(cum)
    if len(rows) == 0:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c in ("m", "day") else "float64") for c in PAIRED_COLUMNS})
    ridx = pa.array(rows)
    mpos = pc.take(tbl["m"], ridx).to_numpy(zero_copy_only=False).astype(np.int64)
    day = pc.take(tbl["day"], ridx).to_numpy(zero_copy_only=False).astype(np.int64)
    order = np.lexsort((day, mpos))
    mpos, day = mpos[order], day[order]
    # the readings of the sorted rows are read straight from the list column's offsets (no copy of the lists)
    rd = tbl["rd"].combine_chunks()
    offs = rd.offsets.to_numpy(zero_copy_only=False).astype(np.int64)
    us_all, v_all = (f.to_numpy(zero_copy_only=False) for f in rd.values.flatten())
    sel = rows[order]
    starts = offs[sel]
    lengths = np.where(rd.is_null().to_numpy(zero_copy_only=False)[sel], 0, offs[sel + 1] - starts)
    ro_row = reg["rollover"].to_numpy(dtype=np.float64)[mpos]
    mx_row = reg["max_interval_value"].to_numpy(dtype=np.float64)[mpos]
    # blocks of whole meters (a meter's pairs never cross a block), about chunk_readings readings each
    first_of_meter = np.flatnonzero(np.r_[True, mpos[1:] != mpos[:-1]])
    csum = np.concatenate([[0], np.cumsum(lengths)])
    cuts = np.unique(np.searchsorted(csum[first_of_meter], np.arange(0, csum[-1], max(chunk_readings, 1)), "right") - 1)
    bounds = sorted({0, *first_of_meter[cuts].tolist(), len(mpos)})
    parts = [
        _pair_block(mpos[i0:i1], day[i0:i1], starts[i0:i1], lengths[i0:i1], ro_row[i0:i1], mx_row[i0:i1], us_all, v_all)
        for i0, i1 in itertools.pairwise(bounds)
        if i1 > i0
    ]
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def _pair_block(
    mcode: np.ndarray, day: np.ndarray, starts: np.ndarray, lengths: np.ndarray, ro_row: np.ndarray,
    mx_row: np.ndarray, us_all: np.ndarray, v_all: np.ndarray,
) -> pd.DataFrame:  # fmt: skip
    """:func:`pair_counters` for the sorted meter-day rows of a block of whole meters."""
    total = int(lengths.sum())
    gather = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths) + np.arange(total)
    us, v = us_all[gather], v_all[gather]
    del gather
    row = np.repeat(np.arange(len(mcode)), lengths)
    if len(us) > 1 and not np.all((np.diff(us) >= 0) | (np.diff(row) != 0)):
        # the engine collects in no particular order: sort by (row, time) (ties keep their order)
        srt = np.lexsort((us, row))
        us, v = us[srt], v[srt]
        del srt
    same = mcode[row[1:]] == mcode[row[:-1]]
    a, b, start, a_us = v[:-1][same], v[1:][same], row[:-1][same], us[:-1][same]
    del us, v, row, same
    ro, mx = ro_row[start], mx_row[start]
    with np.errstate(invalid="ignore"):
        fall = b < a
        roll = fall & ~np.isnan(ro) & (a >= ro * 0.9) & (b <= ro * 0.1)
        reset = fall & ~roll
        e = np.where(roll, ro - a + b, np.where(reset, b, b - a))
        neg = b < 0
        imp = e > np.where(np.isnan(mx), np.inf, mx)
    ok = ~neg & ~imp & ~np.isnan(e)  # a missing value (NULL in the lake) adds nothing, as in SQL
    nrow = len(mcode)
    n = np.bincount(start, minlength=nrow)
    has = n > 0
    firsts = np.flatnonzero(np.r_[True, start[1:] != start[:-1]]) if len(start) else np.zeros(0, np.int64)
    return pd.DataFrame(
        {
            "m": mcode[has],
            "day": day[has],
            "n": n[has],
            "energy": np.bincount(start, weights=np.where(ok, e, 0.0), minlength=nrow)[has],
            "vmin": np.fmin.reduceat(e, firsts) if len(e) else np.zeros(0),  # fmin/fmax skip NaN, like SQL min/max
            "vmax": np.fmax.reduceat(e, firsts) if len(e) else np.zeros(0),
            "n_negative": np.bincount(start, weights=neg, minlength=nrow)[has].astype(np.int64),
            "n_impossible": np.bincount(start, weights=imp, minlength=nrow)[has].astype(np.int64),
            "n_resets": np.bincount(start, weights=reset, minlength=nrow)[has].astype(np.int64),
            "n_rollovers": np.bincount(start, weights=roll, minlength=nrow)[has].astype(np.int64),
            "first_us": np.minimum.reduceat(a_us, firsts) if len(a_us) else np.zeros(0, np.int64),
            "last_us": np.maximum.reduceat(a_us, firsts) if len(a_us) else np.zeros(0, np.int64),
        }
    )


def restrict_readings(readings: ir.Table, date_from: dt.date, date_to: dt.date) -> ir.Table:
    """Keep the readings of ``[date_from − 1 day, date_to + 1 day]`` (uses a ``date`` partition column if any)."""
    lo = dt.datetime.combine(date_from - dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    hi = dt.datetime.combine(date_to + dt.timedelta(days=2), dt.time(), tzinfo=dt.UTC)
    lo_s, hi_s = int(lo.timestamp()) - CST_OFFSET_S, int(hi.timestamp()) - CST_OFFSET_S
    if "date" in readings.columns:
        # a lake partitioned by CST date: pruning the partitions is enough (days outside the window
        # are dropped after the aggregation), and it saves a comparison per row
        dcol = readings["date"].cast("date")
        return readings.filter(
            dcol >= ibis.literal(date_from - dt.timedelta(days=1)), dcol <= ibis.literal(date_to + dt.timedelta(days=1))
        )
    lo_ts = dt.datetime.fromtimestamp(lo_s, tz=dt.UTC)
    hi_ts = dt.datetime.fromtimestamp(hi_s, tz=dt.UTC)
    return readings.filter((readings.ts >= ibis.literal(lo_ts)) & (readings.ts < ibis.literal(hi_ts)))


def compute_meter_day(
    con: Any,
    readings: ir.Table,
    meters: pd.DataFrame,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> pd.DataFrame:
    """Run stage 1 on ``con`` (one pass over the readings) and return the meter-day table (sorted, typed).

    The engine's result comes back once, as Arrow, keyed by the meter's registry position: the
    counters are paired from it first and its readings arrays dropped; then each column of the
    interval rows is cut out of it and joined with the counters' rows as a NumPy array, and the
    meter ids are looked up from the registry at the end (one Arrow string column), so that the
    result, the pairing and the table are never all held at once, and no pandas copy of the
    engine's result is made.
    """
    reg = _meter_table(meters)
    mt = ibis.memtable(reg)
    if date_from is not None and date_to is not None:
        readings = restrict_readings(readings, date_from, date_to)
    d0 = day_number(date_from) if date_from else None
    d1 = day_number(date_to) if date_to else None
    expr = meter_day_expr(
        readings,
        mt,
        day_from=d0,
        day_to=d1,
        backend=con.name,
        check_max=bool(reg["max_interval_value"].notna().any()),
    )
    from carbonpeak.monitoring.engine import release_memory, to_arrow

    tbl = to_arrow(con, expr)
    cum = pc.fill_null(tbl["cum"], False).to_numpy(zero_copy_only=False)
    cu = pair_counters(tbl, cum, reg)
    tbl = tbl.drop_columns(["rd", "cum"])  # the readings arrays (most of the result's bytes) are freed here
    release_memory()
    iv = ~cum
    cols: dict[str, np.ndarray] = {}
    for c in PAIRED_COLUMNS:
        if c in ("n_resets", "n_rollovers"):
            a = np.zeros(int(iv.sum()), dtype=np.int64)
        else:
            col = tbl[c]
            if c not in ("energy", "vmin", "vmax"):
                col = pc.fill_null(col, 0)  # a count or time over NULL values only
            a = col.to_numpy(zero_copy_only=False)[iv]
        b = cu[c].to_numpy()
        dtype = np.float64 if c in ("energy", "vmin", "vmax") else np.int64
        cols[c] = np.concatenate([a.astype(dtype, copy=False), b.astype(dtype, copy=False)])
        if c in tbl.column_names:
            tbl = tbl.drop_columns([c])
    del tbl, cu
    keep = np.ones(len(cols["m"]), dtype=bool) if d1 is None else cols["day"] <= d1
    # sorted by meter id and day: the meter's rank in the sorted registry, then the day
    ids = reg["meter_id"].to_numpy(dtype=object)
    rank = np.empty(len(ids), dtype=np.int64)
    rank[np.argsort(ids, kind="stable")] = np.arange(len(ids))
    order = np.flatnonzero(keep)
    order = order[np.lexsort((cols["day"][order], rank[cols["m"][order]]))]
    # the registry's own string objects by position (an object column: no million new strings)
    out: dict[str, Any] = {"meter_id": _text(ids[cols.pop("m")[order]])}
    for c in STAGE1_COLUMNS[1:]:
        if c in ("first_epoch", "last_epoch"):
            out[c] = cols.pop(c.replace("_epoch", "_us"))[order] // 1_000_000
        else:
            out[c] = cols.pop(c)[order]
    release_memory()
    return _frame(out)


@dataclass
class PipelineResult:
    """What the pipeline produced for one window."""

    date_from: dt.date
    date_to: dt.date
    engine: str
    meter_day: pd.DataFrame  # per meter and day: energy (meter unit), tce, co2_t, kwh, quality counts
    unit_day: pd.DataFrame  # per unit, day and energy type: tce, co2_t, electricity_kwh
    coefficients: pd.DataFrame
    units: pd.DataFrame
    meters: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)
    #: the Ibis backend of the run: the set-operation checks (:mod:`carbonpeak.monitoring.setchecks`) run on it
    con: Any = field(default=None, repr=False, compare=False)
    #: tables derived once per result and shared by the rules (the meter-days on the engine, the gaps)
    cache: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    def rollup(self, by: str) -> pd.DataFrame:
        """Totals by ``unit``, ``month``, ``city``, ``industry`` or ``day`` (tce and CO2)."""
        ud = self.unit_day.merge(
            self.units[["unit_id", "city", "kind", "industry_code"]], on="unit_id", how="left"
        )
        ud["month"] = pd.to_datetime(ud["date"]).dt.strftime("%Y-%m")
        keys = {
            "unit": ["unit_id"],
            "month": ["month"],
            "city": ["city"],
            "industry": ["kind", "industry_code"],
            "day": ["date"],
            "unit_month": ["unit_id", "month"],
        }.get(by)
        if keys is None:
            raise CarbonpeakError(f"unknown rollup '{by}'; use unit, month, city, industry, day or unit_month")
        g = ud.groupby(keys, as_index=False)[["tce", "co2_t", "electricity_kwh"]].sum()
        return g.sort_values(keys).reset_index(drop=True)


def _frame(cols: dict[str, Any]) -> pd.DataFrame:
    """A frame of the columns in ``cols`` (emptied), added one at a time: the constructor from a dict would
    copy every column into consolidated blocks (twice the table's memory for a moment, seconds at 100M)."""
    first = next(iter(cols))
    df = pd.DataFrame({first: cols.pop(first)})
    for c in list(cols):
        df[c] = cols.pop(c)
    return df


def _registry_positions(ids: pd.Series, registry_ids: pd.Series) -> np.ndarray:
    """The registry position of each meter id (−1: not registered): a hash pass over the million ids
    (factorise), then a lookup of the few thousand distinct ones."""
    codes, uniq = pd.factorize(ids)
    pos = pd.Index(registry_ids.astype(str)).get_indexer(pd.Index(uniq).astype(str))
    return np.append(pos, -1)[codes]  # a missing id (code −1) is not registered


def _text(values: np.ndarray) -> pd.Series:
    """An object column (a bare object array would be turned into Arrow strings by pandas 3)."""
    return pd.Series(values, dtype=object, copy=False)


def finish(
    md: pd.DataFrame,
    meters: pd.DataFrame,
    units: pd.DataFrame,
    coef_fn: CoefficientFn,
    *,
    date_from: dt.date,
    date_to: dt.date,
    engine: str,
) -> PipelineResult:
    """Stage 2: coefficients, unit totals and the result object.

    The meter-day table gets the registry's columns of its meter by position: its text columns are
    object arrays sharing the registry's string objects (8 bytes a row; the rules' filters, takes and
    group-bys over a million meter-days cost several times less than over Arrow-backed strings).
    Coefficients are looked up per (meter, year) and the unit totals are summed over integer codes
    of (unit, day, energy type); both give the rows, order and values of the joins and group-by on
    the text columns they replace.
    """
    mcols = ["meter_id", "unit_id", "energy_type", "point", "unit", "interval_minutes", "parent_meter_id", "product"]
    if not pd.Index(meters["meter_id"]).is_unique:
        return _finish_merge(md, meters, units, coef_fn, date_from=date_from, date_to=date_to, engine=engine)
    # the inner join on a unique key: positions and takes (keeps md's order, like merge)
    pos = _registry_positions(md["meter_id"], meters["meter_id"])
    keep = pos >= 0
    if not keep.all():
        md, pos = md[keep], pos[keep]
    cols: dict[str, Any] = {}
    for c in md.columns:
        if c != "meter_id":  # (taken from the registry below)
            cols[c] = md[c].to_numpy()
    del md
    objs = {c: meters[c].to_numpy(dtype=object) for c in mcols if c != "interval_minutes"}
    cols = {"meter_id": _text(objs["meter_id"][pos]), **cols}
    for c in mcols[1:]:
        cols[c] = meters[c].to_numpy()[pos] if c == "interval_minutes" else _text(objs[c][pos])
    day = cols["day"].astype(np.int64, copy=False)
    days64 = day.astype("datetime64[D]")
    cols["date"] = days64.astype("datetime64[s]")  # (not a column of a million date objects)
    year = days64.astype("datetime64[Y]").astype("int64") + 1970
    cols["year"] = year
    cols["expected"] = (1440 // cols["interval_minutes"].astype(np.int64)).astype("int64")
    cols["completeness"] = cols["n"] / cols["expected"]
    years = sorted({d.year for d in (date_from, date_to)} | set(np.unique(year).tolist()))
    coef = coefficient_frame(coef_fn, meters[["energy_type", "unit"]], years)
    # the coefficients of each registered meter and year (a few thousand lookups, not a million)
    keys = ["energy_type", "unit", "year"]
    ck = coef.drop_duplicates(keys)
    yrs = np.asarray(years, dtype=np.int64)
    grid = pd.DataFrame({"energy_type": np.repeat(objs["energy_type"], len(yrs)), "unit": np.repeat(objs["unit"], len(yrs)),
                         "year": np.tile(yrs, len(meters))})  # fmt: skip
    cpos = pd.MultiIndex.from_frame(ck[keys]).get_indexer(pd.MultiIndex.from_frame(grid))
    rowc = cpos[pos * len(yrs) + np.searchsorted(yrs, year)] if len(pos) else np.zeros(0, dtype=np.int64)
    energy = cols["energy"].astype(np.float64, copy=False)
    for col, c in (("tce", "tce_per_unit"), ("co2_t", "co2_t_per_unit"), ("kwh", "kwh_per_unit")):
        f = np.append(ck[c].to_numpy(dtype=np.float64), np.nan)  # position -1 (no coefficient) gives NaN
        cols[col] = energy * f[rowc]
    md = _frame(cols)
    del cols
    # unit totals of the top-level meters by (unit, day, energy type), as integer codes; codes of the
    # sorted distinct texts, so the rows come out in the order of a sorted group-by on the texts
    mtop = (meters["parent_meter_id"].fillna("").to_numpy(dtype=object) == "")[pos]
    ucode, uvals = pd.factorize(meters["unit_id"], sort=True)
    ecode, evals = pd.factorize(meters["energy_type"], sort=True)
    mu, me = ucode[pos], ecode[pos]
    sel = mtop & (mu >= 0) & (me >= 0)
    ud = _unit_day(mu[sel], day[sel], me[sel], len(evals),
                   {"tce": _col_at(md, "tce", sel), "co2_t": _col_at(md, "co2_t", sel), "electricity_kwh": _col_at(md, "kwh", sel)},
                   np.asarray(uvals, dtype=object), np.asarray(evals, dtype=object))  # fmt: skip
    info = {
        "intervals": int(md["n"].sum()),
        "meter_days": len(md),
        "meters_with_data": len(np.unique(pos)),
        "tce": float(ud["tce"].sum()),
        "co2_t": float(ud["co2_t"].sum()),
    }
    return PipelineResult(date_from, date_to, engine, md, ud, coef, units, meters, info)


def _col_at(md: pd.DataFrame, col: str, sel: np.ndarray) -> np.ndarray:
    """The rows ``sel`` of a float column."""
    return md[col].to_numpy(dtype=np.float64)[sel]


def _unit_day(
    ucode: np.ndarray, day: np.ndarray, ecode: np.ndarray, n_et: int, values: dict[str, np.ndarray],
    unit_ids: np.ndarray, energy_types: np.ndarray,
) -> pd.DataFrame:  # fmt: skip
    """Sums of ``values`` per (unit, day, energy type) codes, sorted by them (a NaN adds nothing, as in a group-by sum)."""
    if len(day) == 0:
        d = pd.DataFrame({"unit_id": _text(np.zeros(0, dtype=object)), "date": _text(np.zeros(0, dtype=object)),
                          "day": np.zeros(0, dtype=np.int64), "energy_type": _text(np.zeros(0, dtype=object))})  # fmt: skip
        for k in values:
            d[k] = np.zeros(0)
        return d
    d0 = int(day.min())
    span = int(day.max()) - d0 + 1
    key = (ucode.astype(np.int64) * span + (day - d0)) * n_et + ecode
    uniq, inv = np.unique(key, return_inverse=True)
    u, rest = np.divmod(uniq, span * n_et)
    dd, e = np.divmod(rest, n_et)
    out = {"unit_id": _text(unit_ids[u]), "date": _text((dd + d0).astype("datetime64[D]").astype(object)),
           "day": (dd + d0).astype(np.int64), "energy_type": _text(energy_types[e])}  # fmt: skip
    for k, v in values.items():
        out[k] = np.bincount(inv, weights=np.nan_to_num(v, nan=0.0), minlength=len(uniq))
    return pd.DataFrame(out)


def _finish_merge(
    md: pd.DataFrame,
    meters: pd.DataFrame,
    units: pd.DataFrame,
    coef_fn: CoefficientFn,
    *,
    date_from: dt.date,
    date_to: dt.date,
    engine: str,
) -> PipelineResult:
    """:func:`finish` for a registry that repeats a meter id (a join on the text columns)."""
    mcols = ["meter_id", "unit_id", "energy_type", "point", "unit", "interval_minutes", "parent_meter_id", "product"]
    md = md.merge(meters[mcols], on="meter_id", how="inner")
    days64 = md["day"].to_numpy().astype("datetime64[D]")
    md["date"] = days64.astype("datetime64[s]")
    md["year"] = days64.astype("datetime64[Y]").astype("int64") + 1970
    md["expected"] = (1440 // md["interval_minutes"]).astype("int64")
    md["completeness"] = md["n"] / md["expected"]
    years = sorted({d.year for d in (date_from, date_to)} | set(md["year"].unique().tolist()))
    coef = coefficient_frame(coef_fn, meters[["energy_type", "unit"]], years)
    keys = ["energy_type", "unit", "year"]
    ck = coef.drop_duplicates(keys)
    pos = pd.MultiIndex.from_frame(ck[keys]).get_indexer(pd.MultiIndex.from_frame(md[keys]))
    for col, c in (("tce", "tce_per_unit"), ("co2_t", "co2_t_per_unit"), ("kwh", "kwh_per_unit")):
        f = np.append(ck[c].to_numpy(dtype=np.float64), np.nan)  # position -1 (no coefficient) gives NaN
        md[col] = md["energy"].to_numpy(dtype=np.float64) * f[pos]
    top = md[md["parent_meter_id"].fillna("") == ""]
    ud = top.groupby(["unit_id", "day", "energy_type"], as_index=False, sort=True).agg(
        tce=("tce", "sum"), co2_t=("co2_t", "sum"), electricity_kwh=("kwh", "sum")
    )
    ud.insert(1, "date", ud["day"].to_numpy().astype("datetime64[D]").astype(object))
    info = {
        "intervals": int(md["n"].sum()),
        "meter_days": len(md),
        "meters_with_data": int(md["meter_id"].nunique()),
        "tce": float(ud["tce"].sum()),
        "co2_t": float(ud["co2_t"].sum()),
    }
    return PipelineResult(date_from, date_to, engine, md, ud, coef, units, meters, info)


def stage1_columns(md: pd.DataFrame) -> pd.DataFrame:
    """The stage-1 columns of a meter-day table (what an incremental run keeps between runs)."""
    return md[list(STAGE1_COLUMNS)].copy()


def update_meter_day(
    con: Any,
    readings: ir.Table,
    meters: pd.DataFrame,
    previous: pd.DataFrame,
    *,
    changed_from: dt.date | None,
    changed_to: dt.date | None,
    date_from: dt.date,
    date_to: dt.date,
) -> tuple[pd.DataFrame, tuple[dt.date, dt.date] | None]:
    """Incremental stage 1: recompute only the meter-days that readings of ``[changed_from, changed_to]`` can change.

    A reading on day D changes the intervals of day D and, for a cumulative meter, the last
    interval of the day before (it ends on D's first reading), so the days
    ``[changed_from − 1, changed_to]`` (within the window) are recomputed from the readings of
    ``[changed_from − 2, changed_to + 1]`` (partition pruning on a ``date=`` lake, a time
    filter on the store); every other day keeps its row of ``previous`` (the stage-1 columns of
    an earlier run over the same readings source and registry).  Returns the meter-day table of
    ``[date_from, date_to]`` and the recomputed day range (``None`` when the change is outside
    the window).  ``changed_from = None``: nothing changed, ``previous`` is the answer.
    """
    d0, d1 = day_number(date_from), day_number(date_to)
    prev = previous[list(STAGE1_COLUMNS)]
    prev = prev[(prev["day"] >= d0) & (prev["day"] <= d1)]
    if changed_from is None or changed_to is None:
        return prev.sort_values(["meter_id", "day"], kind="stable").reset_index(drop=True), None
    if changed_to < changed_from:
        raise CarbonpeakError(f"changed days: {changed_to} is before {changed_from}")
    lo = max(changed_from - dt.timedelta(days=1), date_from)
    hi = min(changed_to, date_to)
    if hi < lo:
        return prev.sort_values(["meter_id", "day"], kind="stable").reset_index(drop=True), None
    fresh = compute_meter_day(con, readings, meters, lo, hi)
    keep = prev[(prev["day"] < day_number(lo)) | (prev["day"] > day_number(hi))]
    md = pd.concat([keep, fresh[list(STAGE1_COLUMNS)]], ignore_index=True)
    return md.sort_values(["meter_id", "day"], kind="stable").reset_index(drop=True), (lo, hi)


def run_pipeline(
    con: Any,
    readings: ir.Table,
    meters: pd.DataFrame,
    units: pd.DataFrame,
    coef_fn: CoefficientFn,
    *,
    date_from: dt.date,
    date_to: dt.date,
    engine: str | None = None,
    previous: pd.DataFrame | None = None,
    changed: tuple[dt.date, dt.date] | tuple[None, None] | None = None,
) -> PipelineResult:
    """Stage 1 on the engine, then stage 2.  ``readings`` is an Ibis table on ``con``.

    With ``previous`` (the meter-day table of an earlier run over the same source) and
    ``changed`` (the first and last day that new or corrected readings fall on), only the
    meter-days those readings can change are recomputed (:func:`update_meter_day`); stage 2
    and the rules then run on the whole window's meter-day table as usual.  ``changed =
    (None, None)``: no readings changed, ``previous`` is used as it is.
    """
    if date_to < date_from:
        raise CarbonpeakError(f"--to ({date_to}) is before --from ({date_from})")
    from carbonpeak.monitoring.engine import release_memory

    # what the caller freed (reading the registry and the uploads file: a few hundred MB at provincial
    # scale) back to the system first: DuckDB's and Arrow's allocators would not reuse glibc's free pages
    release_memory()
    if previous is not None and changed is not None:
        md, recomputed = update_meter_day(con, readings, meters, previous, changed_from=changed[0],
                                          changed_to=changed[1], date_from=date_from, date_to=date_to)  # fmt: skip
        info: dict[str, Any] = {"incremental": True, "recomputed_days": [str(d) for d in recomputed] if recomputed else []}
    else:
        md, info = compute_meter_day(con, readings, meters, date_from, date_to), {"incremental": False}
    release_memory()  # the engine's and stage 1's freed memory back to the system before stage 2
    # stage 2 gets the only reference to the stage-1 table (one copy of the meter-days at a time)
    holder = [md]
    del md
    res = finish(holder.pop(), meters, units, coef_fn, date_from=date_from, date_to=date_to, engine=engine or con.name)
    release_memory()
    res.info.update(info)
    res.con = con
    return res
