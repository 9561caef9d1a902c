"""A seeded generator of SYNTHETIC monitoring data (clearly labelled: every unit is named
"合成 … (synthetic)" and flagged ``synthetic = true``; nothing here is official data).

It writes, under ``out``::

    registry/units.csv  meters.csv  output.csv  budgets.csv  reported.csv
    readings/date=YYYY-MM-DD/part-K.parquet     (meter_id, ts, value; ts in UTC, days cut at CST midnight)
    faults.json                                 (the injected faults: what the checks must find)
    README.txt

Units are spread over the 21 cities of Guangdong and the plan's key industries (data centres,
cement, steel, ceramics, paper, ethylene, refining, other manufacturing) with daily and seasonal
load shapes, production-linked process energy, and data centres with IT and cooling loads.
Injected faults: gaps, a frozen meter, a spike, a counter reset, an under-reporting unit, a data
centre over its PUE limit and a cement plant below the base level; with ``negative_fault=True``
also a negative reading of an interval meter.  That one is off by default because the store's
ingest refuses a negative interval reading (the whole file, with its file/row/field), so a
default data set can be ingested as it is; turn it on to exercise the pipeline's
``negative_value`` check on the lake directly.

Size: ``units`` × about 2.5 meters × 96 readings × ``days``; e.g. 1,150 units × 365 days ≈ 100
million readings.  Readings are produced one day (and at most ``chunk_rows`` rows) at a time, so
memory stays bounded whatever the size.  The design parameters are in
``catalog/data/monitoring/synthetic_profiles.yaml``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from carbonpeak.catalog.loader import load_yaml
from carbonpeak.monitoring.registry import REGION_CODES, USCC_CHARS, uscc_check_char

CST = dt.timezone(dt.timedelta(hours=8))
SLOTS = 96  # 15-minute readings per day
_ADCODES = {
    "GD-GZ": "440100", "GD-SZ": "440300", "GD-ZH": "440400", "GD-ST": "440500", "GD-FS": "440600",
    "GD-SG": "440200", "GD-HY": "441600", "GD-MZ": "441400", "GD-HZ": "441300", "GD-SW": "441500",
    "GD-DG": "441900", "GD-ZS": "442000", "GD-JM": "440700", "GD-YJ": "441700", "GD-ZJ": "440800",
    "GD-MM": "440900", "GD-ZQ": "441200", "GD-QY": "441800", "GD-CZ": "445100", "GD-JY": "445200",
    "GD-YF": "445300",
}  # fmt: skip  # GB/T 2260 division codes (also in catalog/data/regions.yaml)


def profiles() -> dict[str, Any]:
    return load_yaml("monitoring/synthetic_profiles.yaml")


def synthetic_uscc(rng: np.random.Generator, city: str) -> str:
    """A code with a valid GB 32100-2015 check character (registration authority 9, enterprise 1)."""
    org = "".join(rng.choice(list(USCC_CHARS[:10] + "ABCDEFGHJKLMNPQRTUWXY"), size=9))
    first17 = "91" + _ADCODES[city] + org
    return first17 + uscc_check_char(first17)


@dataclass
class Registry:
    units: pd.DataFrame
    meters: pd.DataFrame
    params: pd.DataFrame  # per unit design parameters (internal)
    faults: dict[str, Any] = field(default_factory=dict)


def build_registry(n_units: int, seed: int = 42) -> Registry:
    """Units, meters and design parameters (deterministic for a seed)."""
    prof = profiles()
    kinds = prof["kinds"]
    rng = np.random.default_rng(seed)
    names = list(kinds)
    shares = np.array([kinds[k]["share"] for k in names], dtype=float)
    # a deterministic allocation that always includes every kind when n_units >= len(kinds)
    counts = np.maximum(1, np.floor(shares / shares.sum() * n_units)).astype(int) if n_units >= len(names) else np.zeros(len(names), int)
    while counts.sum() < n_units:
        counts[int(np.argmax(shares / shares.sum() * n_units - counts))] += 1
    while counts.sum() > n_units:
        counts[int(np.argmax(counts))] -= 1
    kind_list = [k for k, c in zip(names, counts, strict=True) for _ in range(c)]
    hub_cities = set(prof.get("hub_node_cities", []))
    units, meters, params = [], [], []
    for i, kind in enumerate(kind_list):
        uid = f"U{i + 1:05d}"
        city = REGION_CODES[int(rng.integers(len(REGION_CODES)))] if kind != "data_centre" or rng.random() > 0.25 else "GD-SG"
        spec = kinds[kind]
        code = spec["industry_code"]
        code = str(code[int(rng.integers(len(code)))]) if isinstance(code, list) else str(code)
        hub = kind == "data_centre" and city in hub_cities
        p: dict[str, Any] = {"unit_id": uid, "kind": kind, "hub": hub}
        ms: list[dict[str, Any]] = []

        def meter(
            suffix: str, et: str, point: str, mkind: str, unit: str, parent: str = "", rollover: float | None = None,
            uid: str = uid, ms: list[dict[str, Any]] = ms,
        ) -> str:
            mid = f"{uid}-{suffix}"
            ms.append({"meter_id": mid, "unit_id": uid, "energy_type": et, "point": point, "kind": mkind, "unit": unit,
                       "interval_minutes": 15, "parent_meter_id": parent, "product": "", "rollover": rollover,
                       "max_interval_value": None})  # fmt: skip
            return mid

        if kind == "data_centre":
            p["it_kw"] = float(rng.uniform(*spec["it_kw"]))
            p["pue"] = float(rng.uniform(*(spec["pue_hub"] if hub else spec["pue"])))
            p["other_share"] = float(spec["other_share"])
            s = meter("E1", "electricity", "site", "interval", "kWh")
            meter("IT", "electricity", "it", "interval", "kWh", s)
            meter("CL", "electricity", "cooling", "interval", "kWh", s)
        elif kind == "other":
            p["daily_kwh"] = float(rng.uniform(*spec["daily_kwh"]))
            s = meter("E1", "electricity", "site", "interval", "kWh")
            meter("P1", "electricity", "process", "interval", "kWh", s)
        elif kind == "refining":
            p["daily_tce"] = float(rng.uniform(*spec["daily_tce"]))
            p["elec_share"] = float(spec["elec_share"])
            meter("E1", "electricity", "site", "interval", "kWh")
            meter("G1", "natural_gas", "site", "cumulative", "m**3", rollover=1e9)
        else:
            p["product"] = spec["product"]
            p["product_unit"] = spec["product_unit"]
            p["capacity"] = float(rng.uniform(*spec["capacity"]))
            p["sec"] = float(rng.uniform(*spec["sec"]))
            p["kwh_per_unit"] = float(spec["kwh_per_unit"])
            p["fuel"] = spec["fuel"]
            s = meter("E1", "electricity", "site", "interval", "kWh")
            meter("P1", "electricity", "process", "interval", "kWh", s)
            if spec["fuel"] == "natural_gas":
                meter("G1", "natural_gas", "site", "cumulative", "m**3", rollover=1e9)
            else:
                meter("C1", "raw_coal", "site", "interval", "t")
        dc_build, dc_size = "", ""
        if kind == "data_centre":
            # deterministic (no extra random draws): every other centre is new; size from the IT load
            dc_build = "new" if i % 2 == 0 else "existing"
            dc_size = "hyperscale" if p["it_kw"] >= 8000 else ("large" if p["it_kw"] >= 2500 else "medium")
        units.append({"unit_id": uid, "name": f"合成{spec.get('name_zh', kind)}单位{i + 1:05d} (synthetic)", "uscc": synthetic_uscc(rng, city),
                      "industry_code": code, "city": city, "kind": kind, "hub_node": hub, "registered_level": "none",
                      "synthetic": True, "dc_build": dc_build, "dc_size": dc_size})  # fmt: skip
        meters.extend(ms)
        params.append(p)
    reg = Registry(pd.DataFrame(units), pd.DataFrame(meters), pd.DataFrame(params))
    _choose_faults(reg, rng, prof)
    return reg


def _choose_faults(reg: Registry, rng: np.random.Generator, prof: dict[str, Any]) -> None:
    p = reg.params
    f: dict[str, Any] = {}

    def pick(kind: str, exclude: set[str], hub: bool | None = None) -> str | None:
        c = p[(p["kind"] == kind) & ~p["unit_id"].isin(exclude)]
        if hub is not None:
            c = c[c["hub"] == hub]
        return None if c.empty else str(c["unit_id"].iloc[int(rng.integers(len(c)))])

    used: set[str] = set()
    dc = pick("data_centre", used, hub=False) or pick("data_centre", used)
    if dc:
        used.add(dc)
        f["dc_over_pue"] = {"unit_id": dc, "pue": float(prof["faults"]["pue_over_limit"])}
        p.loc[p["unit_id"] == dc, "pue"] = float(prof["faults"]["pue_over_limit"])
        # a new large site: bound by the 1742号 target from 2025 (the fault must be one the rule covers)
        reg.units.loc[reg.units["unit_id"] == dc, ["dc_build", "dc_size"]] = ["new", "large"]
    cem = pick("cement", used)
    if cem:
        used.add(cem)
        f["cement_below_base"] = {"unit_id": cem, "sec_kgce_per_t": float(prof["faults"]["cement_below_base_sec"])}
        p.loc[p["unit_id"] == cem, "sec"] = float(prof["faults"]["cement_below_base_sec"])
    for key in ("gap", "frozen", "spike", "negative", "outage", "calibration_expired"):
        u = pick("other", used)
        if u:
            used.add(u)
            f[key] = {"unit_id": u, "meter_id": f"{u}-P1"}
    # faults of the platform uploads (uploads.csv); units not used by the meter faults
    for key in ("daily_vs_monthly", "timestamp_offset", "missing_indicator", "late_upload", "uploads_incomplete"):
        u = pick("other", used) or pick("ceramics", used) or pick("paper", used)
        if u:
            used.add(u)
            f[key] = {"unit_id": u}
    gas = reg.meters[(reg.meters["kind"] == "cumulative") & ~reg.meters["unit_id"].isin(used)]
    if not gas.empty:
        m = gas.iloc[int(rng.integers(len(gas)))]
        used.add(str(m["unit_id"]))
        f["counter_reset"] = {"unit_id": str(m["unit_id"]), "meter_id": str(m["meter_id"])}
    ur = pick("ceramics", used) or pick("paper", used) or pick("other", used)
    if ur:
        used.add(ur)
        f["under_reporting"] = {"unit_id": ur, "factor": float(prof["faults"]["under_reporting_factor"])}
    reg.faults = f


def _shape(kind: str, t: np.ndarray) -> np.ndarray:
    if kind == "office":
        s = 0.45 + 0.55 / (1 + np.exp(-(t - 32) / 2)) / (1 + np.exp((t - 80) / 2))
    elif kind == "cooling":
        s = 1 + 0.25 * np.sin(2 * np.pi * (t - 36) / SLOTS)
    else:
        s = 1 + 0.03 * np.sin(2 * np.pi * t / SLOTS)
    return s / s.mean()


def _fault_days(days: int) -> dict[str, int]:
    return {
        "gap_partial": max(0, days // 3),
        "gap_full": max(0, days // 3 + 2),
        "frozen": max(0, days // 2),
        "spike": max(0, (2 * days) // 3),
        "negative": max(0, days // 4),
        "reset": max(0, days // 5),
        "outage": max(0, days // 4 + 1),  # 8 days in a row without data: more than 3 working days
        "calibration": max(0, days // 2),  # the meter's calibration expires on this day
    }


def generate(
    out: str | Path,
    *,
    units: int = 200,
    days: int = 60,
    start: dt.date = dt.date(2025, 1, 1),
    seed: int = 42,
    chunk_rows: int = 4_000_000,
    compression: str = "snappy",
    uploads: bool = True,
    negative_fault: bool = False,
) -> dict[str, Any]:
    """Write a synthetic data set to ``out``; return a summary (rows, files, faults).

    ``negative_fault`` adds a negative interval reading (refused by ``monitor ingest``; see the
    module text).  The fault's unit is chosen either way, so the other faults do not move."""
    out = Path(out)
    (out / "registry").mkdir(parents=True, exist_ok=True)
    (out / "readings").mkdir(parents=True, exist_ok=True)
    prof = profiles()
    coef = prof["design_coefficients"]
    reg = build_registry(units, seed)
    rng = np.random.default_rng(seed + 1)
    meters, params = reg.meters, reg.params.set_index("unit_id")
    mids = meters["meter_id"].to_numpy()
    n_m = len(mids)
    m_unit = meters["unit_id"].to_numpy()
    m_suffix = np.array([m.rsplit("-", 1)[1] for m in mids])
    m_kind = np.array([params.loc[u, "kind"] for u in m_unit])
    t = np.arange(SLOTS, dtype=float)
    shape = np.ones((n_m, SLOTS))
    for i in range(n_m):
        if m_kind[i] == "other":
            shape[i] = _shape("office", t)
        elif m_suffix[i] == "CL":
            shape[i] = _shape("cooling", t)
        else:
            shape[i] = _shape("flat", t)
    counters = np.where(meters["kind"].to_numpy() == "cumulative", rng.uniform(1e6, 5e7, n_m), 0.0)
    fd = _fault_days(days)
    faults = reg.faults
    if not negative_fault:
        faults.pop("negative", None)
    idx = {m: i for i, m in enumerate(mids)}
    uid_list = list(params.index)
    u_tce = np.zeros((len(uid_list), days))  # true top-level tce per unit-day
    u_out = np.zeros((len(uid_list), days))  # product output per unit-day
    u_row = {u: k for k, u in enumerate(uid_list)}
    u_energy: dict[tuple[str, str, str], np.ndarray] = {}  # (unit, energy type, unit of measure) -> true daily energy
    design_kgce = {"electricity": coef["electricity"]["kgce_per_unit"], "raw_coal": coef["raw_coal"]["kgce_per_unit"],
                   "natural_gas": coef["natural_gas"]["kgce_per_unit"]}  # fmt: skip
    m_et = meters["energy_type"].to_numpy()
    m_top = meters["parent_meter_id"].fillna("").to_numpy() == ""
    m_cum = meters["kind"].to_numpy() == "cumulative"
    m_kgce = np.array([design_kgce[e] for e in m_et])
    rows_written, files = 0, 0
    per_file = max(1, chunk_rows // SLOTS)
    for d in range(days):
        date = start + dt.timedelta(days=d)
        doy = date.timetuple().tm_yday
        season = math.cos(2 * math.pi * (doy - 200) / 365.25)  # +1 in mid-July, -1 in mid-January
        wd = date.weekday()
        daily = np.zeros(n_m)
        for uid, p in params.iterrows():
            k = p["kind"]
            base_i = idx[f"{uid}-E1"]
            if k == "data_centre":
                it = p["it_kw"] * 24 * (1 + 0.02 * rng.standard_normal())
                pue = p["pue"] * (1 + 0.05 * season)
                daily[idx[f"{uid}-IT"]] = it
                daily[idx[f"{uid}-CL"]] = it * max(0.02, pue - 1 - p["other_share"])
                daily[base_i] = it * pue
            elif k == "other":
                f_wd = (1.0, 1.0, 1.0, 1.0, 1.0, 0.7, 0.5)[wd]
                e = p["daily_kwh"] * f_wd * (1 + 0.15 * season) * (1 + 0.03 * rng.standard_normal())
                daily[base_i] = e
                daily[idx[f"{uid}-P1"]] = 0.8 * e
            elif k == "refining":
                tce = p["daily_tce"] * (1 + 0.02 * rng.standard_normal())
                daily[base_i] = tce * p["elec_share"] * 1000 / design_kgce["electricity"]
                daily[idx[f"{uid}-G1"]] = tce * (1 - p["elec_share"]) * 1000 / design_kgce["natural_gas"]
            else:
                util = min(1.0, max(0.0, 0.84 + 0.04 * season - (0.04 if wd == 6 else 0) + 0.03 * rng.standard_normal()))
                q = p["capacity"] * util
                u_out[u_row[uid], d] = q
                kwh = q * p["kwh_per_unit"]
                fuel_kgce = q * p["sec"] - kwh * design_kgce["electricity"]
                daily[base_i] = kwh
                daily[idx[f"{uid}-P1"]] = 0.85 * kwh
                fm = f"{uid}-G1" if p["fuel"] == "natural_gas" else f"{uid}-C1"
                daily[idx[fm]] = fuel_kgce / design_kgce[p["fuel"]]
        vals = daily[:, None] / SLOTS * shape * (1 + 0.02 * rng.standard_normal((n_m, SLOTS)))
        vals = np.maximum(vals, 0.0)
        # true energy of the day (before faults) for the reported figures
        tce_m = vals.sum(axis=1) * m_kgce / 1000.0
        np.add.at(u_tce[:, d], [u_row[u] for u in m_unit[m_top]], tce_m[m_top])
        e_m = vals.sum(axis=1)
        for k in np.flatnonzero(m_top):
            u_energy.setdefault((str(m_unit[k]), str(m_et[k]), str(meters["unit"].iloc[k])), np.zeros(days))[d] += e_m[k]
        # cumulative meters: the reading at ts is the counter at the start of the interval
        cum_start = counters.copy()
        readings = vals.copy()
        if m_cum.any():
            cs = np.cumsum(vals[m_cum], axis=1)
            readings[m_cum] = cum_start[m_cum, None] + np.concatenate([np.zeros((m_cum.sum(), 1)), cs[:, :-1]], axis=1)
            counters[m_cum] = cum_start[m_cum] + cs[:, -1]
        keep = np.ones((n_m, SLOTS), dtype=bool)
        # -- faults ---------------------------------------------------------------------------
        if "gap" in faults:
            i = idx[faults["gap"]["meter_id"]]
            if d == fd["gap_partial"]:
                keep[i, 30:70] = False  # 10 hours missing
            if d == fd["gap_full"]:
                keep[i, :] = False
        if "frozen" in faults and fd["frozen"] <= d < fd["frozen"] + 3:
            i = idx[faults["frozen"]["meter_id"]]
            readings[i, :] = faults["frozen"].setdefault("_value", round(float(readings[i, 0]), 3))
        if "spike" in faults and d == fd["spike"]:
            readings[idx[faults["spike"]["meter_id"]], 48] *= 40
        if "negative" in faults and d == fd["negative"]:
            readings[idx[faults["negative"]["meter_id"]], 20] = -abs(readings[idx[faults["negative"]["meter_id"]], 20])
        if "outage" in faults and fd["outage"] <= d < fd["outage"] + 8:
            keep[idx[faults["outage"]["meter_id"]], :] = False
        if "counter_reset" in faults and d == fd["reset"]:
            i = idx[faults["counter_reset"]["meter_id"]]
            r40 = float(readings[i, 40])  # the counter restarts from zero at slot 40 (meter exchanged)
            readings[i, 40:] -= r40
            counters[i] -= r40
        # -- write --------------------------------------------------------------------------------
        day_utc = int(dt.datetime.combine(date, dt.time(), tzinfo=CST).timestamp())
        ts_row = (day_utc + np.arange(SLOTS) * 900) * 1_000_000
        part_dir = out / "readings" / f"date={date.isoformat()}"
        part_dir.mkdir(parents=True, exist_ok=True)
        for k, lo in enumerate(range(0, n_m, per_file)):
            hi = min(n_m, lo + per_file)
            kp = keep[lo:hi].ravel()
            mid_arr = pa.DictionaryArray.from_arrays(
                pa.array(np.repeat(np.arange(lo, hi, dtype=np.int32), SLOTS)[kp]), pa.array(mids)
            ).cast(pa.string())
            ts_arr = pa.array(np.tile(ts_row, hi - lo)[kp], type=pa.timestamp("us", tz="UTC"))
            v_arr = pa.array(np.round(readings[lo:hi].ravel()[kp], 4))
            tbl = pa.table({"meter_id": mid_arr, "ts": ts_arr, "value": v_arr})
            pq.write_table(tbl, part_dir / f"part-{k}.parquet", compression=compression)
            rows_written += tbl.num_rows
            files += 1
    _write_registry(out, reg, u_tce, u_out, uid_list, start, days, rng, faults)
    if uploads:
        _write_uploads(out, reg, u_tce, u_out, u_energy, uid_list, start, days, faults)
    fault_out = {k: {kk: vv for kk, vv in v.items() if not kk.startswith("_")} for k, v in faults.items()}
    for k, key in (("gap", "gap_partial"), ("frozen", "frozen"), ("spike", "spike"), ("negative", "negative"),
                   ("counter_reset", "reset"), ("outage", "outage"), ("calibration_expired", "calibration")):  # fmt: skip
        if k in fault_out:
            fault_out[k]["date"] = (start + dt.timedelta(days=fd[key])).isoformat()
    if "gap" in fault_out:
        fault_out["gap"]["date_full"] = (start + dt.timedelta(days=fd["gap_full"])).isoformat()
    summary = {"synthetic": True, "seed": seed, "units": units, "meters": n_m, "days": days, "start": start.isoformat(),
               "readings": rows_written, "files": files, "faults": fault_out}  # fmt: skip
    (out / "faults.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    (out / "README.txt").write_text(
        f"SYNTHETIC DATA generated by carbonpeak.monitoring.synthetic (seed {seed}). Not official figures.\n"
        "faults.json lists the injected faults.\n",
        encoding="utf-8",
    )
    return summary


def _write_registry(
    out: Path, reg: Registry, u_tce: np.ndarray, u_out: np.ndarray, uids: list[str], start: dt.date, days: int,
    rng: np.random.Generator, faults: dict[str, Any],
) -> None:  # fmt: skip
    units = reg.units.copy()
    dates = [start + dt.timedelta(days=d) for d in range(days)]
    months: dict[tuple[int, int], list[int]] = {}
    for d, date in enumerate(dates):
        months.setdefault((date.year, date.month), []).append(d)
    complete = {ym: ix for ym, ix in months.items() if len(ix) == _month_days(*ym)}
    annual = u_tce.sum(axis=1) / max(days, 1) * 365
    level = np.where(annual >= 10000, "national", np.where(annual >= 5000, "provincial", "none"))
    units["registered_level"] = level
    units.to_csv(out / "registry" / "units.csv", index=False)
    meters = reg.meters.copy()
    # every meter calibrated for two years from the start, but one that expires half-way (a fault)
    meters["calibration_valid_until"] = (start + dt.timedelta(days=730)).isoformat() + "T00:00+08:00"
    cal = faults.get("calibration_expired", {}).get("meter_id")
    if cal:
        meters.loc[meters["meter_id"] == cal, "calibration_valid_until"] = (
            (start + dt.timedelta(days=_fault_days(days)["calibration"])).isoformat() + "T00:00+08:00"
        )
    meters.to_csv(out / "registry" / "meters.csv", index=False)
    params = reg.params.set_index("unit_id")
    out_rows, rep_rows, bud_rows = [], [], []
    ur = faults.get("under_reporting", {}).get("unit_id")
    for k, uid in enumerate(uids):
        p = params.loc[uid]
        for ix in complete.values():
            ps, pe = dates[ix[0]], dates[ix[-1]]
            if isinstance(p.get("product"), str) and p["product"]:
                out_rows.append({"unit_id": uid, "product": p["product"], "period_start": ps.isoformat(),
                                 "period_end": pe.isoformat(), "quantity": round(float(u_out[k, ix].sum()), 1),
                                 "unit": p["product_unit"]})  # fmt: skip
            true = float(u_tce[k, ix].sum())
            f = faults["under_reporting"]["factor"] if uid == ur else 1.0
            rep_rows.append({"unit_id": uid, "period_start": ps.isoformat(), "period_end": pe.isoformat(),
                             "energy_tce": round(true * f * (1 + 0.004 * rng.standard_normal()), 1)})  # fmt: skip
        years = sorted({dd.year for dd in dates})
        for y in years:
            bud_rows.append({"unit_id": uid, "year": y, "budget_tce": round(float(annual[k]) * float(rng.uniform(0.95, 1.3)), 0)})
    pd.DataFrame(out_rows, columns=["unit_id", "product", "period_start", "period_end", "quantity", "unit"]).to_csv(
        out / "registry" / "output.csv", index=False
    )
    pd.DataFrame(rep_rows, columns=["unit_id", "period_start", "period_end", "energy_tce"]).to_csv(
        out / "registry" / "reported.csv", index=False
    )
    pd.DataFrame(bud_rows, columns=["unit_id", "year", "budget_tce"]).to_csv(out / "registry" / "budgets.csv", index=False)


def _write_uploads(
    out: Path, reg: Registry, u_tce: np.ndarray, u_out: np.ndarray, u_energy: dict[tuple[str, str, str], np.ndarray],
    uids: list[str], start: dt.date, days: int, faults: dict[str, Any],
) -> None:  # fmt: skip
    """The unit's own uploads to the platform (uploads.csv): daily and monthly energy by type, total
    energy, output and intensity of products with a limit, gross output and value added; with the
    injected upload faults."""
    params = reg.params.set_index("unit_id")
    dates = [start + dt.timedelta(days=d) for d in range(days)]
    months: dict[tuple[int, int], list[int]] = {}
    for d, date in enumerate(dates):
        months.setdefault((date.year, date.month), []).append(d)
    complete = [ix for ym, ix in months.items() if len(ix) == _month_days(*ym)]
    f_dm = faults.get("daily_vs_monthly", {}).get("unit_id")
    f_ts = faults.get("timestamp_offset", {}).get("unit_id")
    f_mi = faults.get("missing_indicator", {}).get("unit_id")
    f_late = faults.get("late_upload", {}).get("unit_id")
    f_inc = faults.get("uploads_incomplete", {}).get("unit_id")
    rows: list[tuple[Any, ...]] = []

    def label(date: dt.date, uid: str, minutes: int = 0) -> str:
        ts = dt.datetime.combine(date, dt.time(), tzinfo=CST) + dt.timedelta(minutes=minutes)
        return ts.isoformat()

    def uploaded(date: dt.date, uid: str, monthly: bool) -> str:
        base = dt.datetime.combine(date, dt.time(), tzinfo=CST) + dt.timedelta(days=1, hours=6)
        if monthly:
            base = dt.datetime.combine(date, dt.time(), tzinfo=CST) + dt.timedelta(days=3)
        if uid == f_late:
            base += dt.timedelta(days=3 if not monthly else 12)
        return base.isoformat()

    for (uid, et, unit), series in sorted(u_energy.items()):
        ind = f"energy:{et}"
        shift = 5 if uid == f_ts else 0  # labelled 00:05 instead of 00:00 (tolerance 1 min)
        for d, date in enumerate(dates):
            if uid == f_inc and et == "electricity" and d % 7 == 3:
                continue  # one daily figure a week missing: about 86 % of the month
            rows.append((uid, ind, "day", label(date, uid, shift), round(float(series[d]), 3), unit,
                         uploaded(date, uid, False)))  # fmt: skip
        for ix in complete:
            m0, m1 = dates[ix[0]], dates[ix[-1]]
            total = float(series[ix].sum()) * (1.08 if uid == f_dm and et == "electricity" else 1.0)
            rows.append((uid, ind, "month", label(m0, uid), round(total, 3), unit, uploaded(m1, uid, True)))
    for k, uid in enumerate(uids):
        p = params.loc[uid]
        for ix in complete:
            m0, m1 = dates[ix[0]], dates[ix[-1]]
            tce = float(u_tce[k, ix].sum())
            rows.append((uid, "total_energy", "month", label(m0, uid), round(tce, 3), "tce", uploaded(m1, uid, True)))
            rows.append((uid, "gross_output", "month", label(m0, uid), round(tce * 2.1, 1), "10**4 CNY", uploaded(m1, uid, True)))
            if uid != f_mi:
                rows.append((uid, "value_added", "month", label(m0, uid), round(tce * 0.6, 1), "10**4 CNY", uploaded(m1, uid, True)))
            prod = p.get("product")
            if isinstance(prod, str) and prod:
                q = float(u_out[k, ix].sum())
                rows.append((uid, f"output:{prod}", "month", label(m0, uid), round(q, 1), str(p["product_unit"]),
                             uploaded(m1, uid, True)))  # fmt: skip
                rows.append((uid, f"sec:{prod}", "month", label(m0, uid), round(float(p["sec"]), 2),
                             f"kgce/({p['product_unit']})", uploaded(m1, uid, True)))  # fmt: skip
    pd.DataFrame(rows, columns=["unit_id", "indicator", "frequency", "period_start", "value", "unit", "uploaded_at"]).to_csv(
        out / "registry" / "uploads.csv", index=False
    )


def _month_days(y: int, m: int) -> int:
    import calendar

    return calendar.monthrange(y, m)[1]


def units_for_rows(rows: int, days: int, seed: int = 42) -> int:
    """How many units give about ``rows`` readings over ``days`` days."""
    probe = build_registry(1000, seed)
    per_unit = len(probe.meters) / 1000 * SLOTS * days
    return max(10, round(rows / per_unit))
