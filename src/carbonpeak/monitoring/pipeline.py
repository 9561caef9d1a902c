"""The readings pipeline, written once against Ibis: the same expression runs on DuckDB and Spark.

Stage 1 (on the engine, row level — the only stage that touches every reading):

* the day is cut at midnight China Standard Time (UTC+8, no daylight saving):
  ``day = date(ts + 8 h)`` with the engine session in UTC;
* **interval** meters: each reading is the energy of the interval that *starts* at ``ts``;
  negative readings and readings above the meter's ``max_interval_value`` are counted and left
  out of the energy;
* **cumulative** meters: interval energy = the advance of the counter since the previous
  reading (a window ``lag`` per meter ordered by time), assigned to the day the interval starts.
  A fall of the counter is a *rollover* when the previous value was in the top 10 % of the
  meter's ``rollover`` range and the new one in the bottom 10 % (energy = rollover − previous +
  value), otherwise a *reset* (the counter restarted from zero: energy = value);
* both are aggregated per meter and day: energy, number of intervals, minimum and maximum
  interval value, negatives, impossible values, resets, rollovers, first and last timestamp.

Stage 2 (meter-day grain, a few million rows at provincial scale, pandas): standard coal
(GB/T 2589 coefficients, electricity by the chosen method), CO2 (catalog factors, electricity with
the grid factor of the year), unit totals by energy type (top-level meters only: a meter with a
``parent_meter_id`` is a sub-meter of its parent and is not added again), and rollups by unit,
month, city and industry.  Both engines produce the same stage-1 table, so everything after it
is identical by construction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.datatypes as idt
import ibis.expr.types as ir
import pandas as pd

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


def day_number(d: dt.date) -> int:
    return (d - EPOCH_DATE).days


def day_date(n: int) -> dt.date:
    return EPOCH_DATE + dt.timedelta(days=int(n))


def _meter_table(meters: pd.DataFrame) -> pd.DataFrame:
    m = meters[["meter_id", "kind", "interval_minutes", "rollover", "max_interval_value"]].copy()
    m["meter_id"] = m["meter_id"].astype(str)
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


def meter_day_exprs(
    readings: ir.Table,
    meters: ir.Table,
    *,
    day_from: int | None = None,
    day_to: int | None = None,
    backend: str = "duckdb",
    check_max: bool = True,
) -> list[ir.Table]:
    """Stage 1 as Ibis expressions: readings ⋈ meters → one row per meter and day.

    Two expressions, one for interval meters (a plain aggregate) and one for cumulative meters
    (a window per meter, then the aggregate); each scans the readings once and joins only the
    meters of its kind, so the window never sorts interval readings.  ``readings`` needs
    ``meter_id``, ``ts`` (timestamp) and ``value``; ``meters`` needs ``meter_id``, ``kind``,
    ``rollover`` and ``max_interval_value``.  Days outside ``[day_from, day_to]`` are dropped after
    the window (so the first interval of ``day_from`` of a cumulative meter still sees the
    reading before it, if that reading is in ``readings``).
    """
    big = ibis.literal(1e300)
    cols = list(METER_DAY_COLUMNS)

    def base(kind: str) -> ir.Table:
        r = readings.select("meter_id", "ts", "value")
        r = r.mutate(us=epoch_us(r.ts, backend), value=r.value.cast("float64"))
        m = meters.filter(meters.kind == kind).select("meter_id", "rollover", "max_interval_value")
        return r.join(m, "meter_id")

    def cst_day(us: ir.IntegerValue) -> ir.IntegerValue:
        # China Standard Time is UTC+8 all year: day number = (µs since epoch + 8 h) // 1 day
        return (us + CST_OFFSET_S * 1_000_000) // (DAY_S * 1_000_000)

    def window(t: ir.Table) -> ir.Table:
        if day_from is not None:
            t = t.filter(t.day >= day_from)
        if day_to is not None:
            t = t.filter(t.day <= day_to)
        return t

    # interval meters -------------------------------------------------------------------
    iv = base("interval")
    iv = iv.mutate(day=cst_day(iv.us))
    neg = iv.value < 0
    zero = ibis.literal(0).cast("int64")
    # when no meter declares a max_interval_value the per-row test is skipped (it costs ~1/3 of the scan)
    imp = iv.value > iv.max_interval_value.fill_null(big) if check_max else None
    good = ~neg & ~imp if imp is not None else ~neg
    a = iv.group_by(["meter_id", "day"]).aggregate(
        n=iv.count(),
        energy=good.ifelse(iv.value, 0.0).sum(),
        vmin=iv.value.min(),
        vmax=iv.value.max(),
        n_negative=neg.cast("int64").sum(),
        first_us=iv.us.min(),
        last_us=iv.us.max(),
        **({"n_impossible": imp.cast("int64").sum()} if imp is not None else {}),
    )
    if imp is None:
        a = a.mutate(n_impossible=zero)
    a = window(a.mutate(n_resets=zero, n_rollovers=zero).select(*cols))

    # cumulative meters: one window per meter ordered by time --------------------------
    cv = base("cumulative")
    w = ibis.window(group_by=cv.meter_id, order_by=cv.us)
    cv = cv.mutate(prev=cv.value.lag().over(w), prev_us=cv.us.lag().over(w))
    cv = cv.filter(cv.prev.notnull())
    d = cv.value - cv.prev
    ro = cv.rollover
    is_roll = (d < 0) & ro.notnull() & (cv.prev >= ro * 0.9) & (cv.value <= ro * 0.1)
    is_reset = (d < 0) & ~is_roll
    e = ibis.cases((is_roll, ro - cv.prev + cv.value), (is_reset, cv.value), else_=d)
    cv = cv.mutate(
        day=cst_day(cv.prev_us),
        e=e,
        is_roll=is_roll,
        is_reset=is_reset,
        is_neg=cv.value < 0,
    )
    cv = cv.mutate(is_imp=cv.e > cv.max_interval_value.fill_null(big))
    okc = ~cv.is_neg & ~cv.is_imp
    b = cv.group_by(["meter_id", "day"]).aggregate(
        n=cv.count(),
        energy=okc.ifelse(cv.e, 0.0).sum(),
        vmin=cv.e.min(),
        vmax=cv.e.max(),
        n_negative=cv.is_neg.cast("int64").sum(),
        n_impossible=cv.is_imp.cast("int64").sum(),
        n_resets=cv.is_reset.cast("int64").sum(),
        n_rollovers=cv.is_roll.cast("int64").sum(),
        first_us=cv.prev_us.min(),
        last_us=cv.prev_us.max(),
    )
    return [a, window(b.select(*cols))]


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
    """Run stage 1 on ``con`` and return the meter-day table (sorted, typed)."""
    mt = ibis.memtable(_meter_table(meters))
    if date_from is not None and date_to is not None:
        readings = restrict_readings(readings, date_from, date_to)
    exprs = meter_day_exprs(
        readings,
        mt,
        day_from=day_number(date_from) if date_from else None,
        day_to=day_number(date_to) if date_to else None,
        backend=con.name,
        check_max=bool(pd.to_numeric(meters["max_interval_value"], errors="coerce").notna().any()),
    )
    kinds = set(meters["kind"])
    # through Arrow: cheaper than the backends' own pandas conversion for a million meter-days
    parts = [con.to_pyarrow(e).to_pandas() for e, k in zip(exprs, ("interval", "cumulative"), strict=True) if k in kinds]
    df = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(METER_DAY_COLUMNS))
    df["day"] = pd.to_numeric(df["day"]).astype("int64")
    for c in ("first_us", "last_us"):
        df[c.replace("_us", "_epoch")] = pd.to_numeric(df[c]).fillna(0).astype("int64") // 1_000_000
    df = df.drop(columns=["first_us", "last_us"])
    for c in ("n", "n_negative", "n_impossible", "n_resets", "n_rollovers", "first_epoch", "last_epoch"):
        df[c] = pd.to_numeric(df[c]).fillna(0).astype("int64")
    for c in ("energy", "vmin", "vmax"):
        df[c] = pd.to_numeric(df[c]).astype("float64")
    df["meter_id"] = df["meter_id"].astype(str)
    return df.sort_values(["meter_id", "day"], kind="stable").reset_index(drop=True)


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
    """Stage 2: coefficients, unit totals and the result object."""
    mcols = ["meter_id", "unit_id", "energy_type", "point", "unit", "interval_minutes", "parent_meter_id", "product"]
    reg = pd.Index(meters["meter_id"])
    if reg.is_unique:
        # the inner join on a unique key as a hash lookup and two takes (keeps md's order, like merge)
        pos = reg.get_indexer(md["meter_id"])
        keep = pos >= 0
        md = pd.concat(
            [md[keep].reset_index(drop=True), meters[mcols[1:]].iloc[pos[keep]].reset_index(drop=True)], axis=1
        )
    else:
        md = md.merge(meters[mcols], on="meter_id", how="inner")
    days64 = md["day"].to_numpy().astype("datetime64[D]")
    md["date"] = days64.astype(object)
    md["year"] = days64.astype("datetime64[Y]").astype("int64") + 1970
    md["expected"] = (1440 // md["interval_minutes"]).astype("int64")
    md["completeness"] = md["n"] / md["expected"]
    years = sorted({d.year for d in (date_from, date_to)} | set(md["year"].unique().tolist()))
    coef = coefficient_frame(coef_fn, meters[["energy_type", "unit"]], years)
    md = md.merge(coef[["energy_type", "unit", "year", "tce_per_unit", "co2_t_per_unit", "kwh_per_unit"]],
                  on=["energy_type", "unit", "year"], how="left")  # fmt: skip
    md["tce"] = md["energy"] * md["tce_per_unit"]
    md["co2_t"] = md["energy"] * md["co2_t_per_unit"]
    md["kwh"] = md["energy"] * md["kwh_per_unit"]
    md = md.drop(columns=["tce_per_unit", "co2_t_per_unit", "kwh_per_unit"])
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
) -> PipelineResult:
    """Stage 1 on the engine, then stage 2.  ``readings`` is an Ibis table on ``con``."""
    if date_to < date_from:
        raise CarbonpeakError(f"--to ({date_to}) is before --from ({date_from})")
    md = compute_meter_day(con, readings, meters, date_from, date_to)
    return finish(md, meters, units, coef_fn, date_from=date_from, date_to=date_to, engine=engine or con.name)
