"""Build the bundled Guangdong demo activity data from the public CEADs inventories.

Run from the repository root (it reads ``../shared/reference/data`` by default)::

    .venv/bin/python scripts/build_demo_data.py [--shared DIR] [--check]

It writes

* ``src/carbonpeak/demo/data/activity/gd_energy.csv`` — Guangdong (``GD``) fuel combustion by
  IPCC 2006 1.A sub-category × fuel, physical quantities, 2015–2019;
* ``src/carbonpeak/demo/data/activity/gd_ippu_cement.csv`` — clinker production (2.A.1);
* ``src/carbonpeak/demo/data/activity/gd_electricity_import.csv`` — net electricity imports;
* ``src/carbonpeak/demo/data/activity_cities/energy_cities_<year>.csv`` — the same energy
  table downscaled to the 21 prefecture-level cities (a disaggregation of ``GD``: never add
  the city files to the provincial file);
* ``src/carbonpeak/demo/data/activity_history/gd_energy_balance_2010_2014.csv`` — Guangdong fuel
  combustion 2010–2014 from the published provincial energy balance (NBS, standard quantity),
  *not* from CEADs: the independent input of the CEADs comparison (``docs/validation.md``);
* ``src/carbonpeak/demo/data/reference/ceads_gd_fuel_co2.csv`` — CEADs' own Guangdong total row
  by fuel, 2010–2019 (so the comparison runs without ``shared/``).

Method (documented in ``docs/demo-data.md``):  CEADs gives CO2 (Mt) by 47 sectors × 17 fuels.
The physical quantity of each fuel is recovered as ``CO2 / EF`` with
``EF = NCV × CC × OF × 44/12``, using exactly the values that carbonpeak's catalog holds for
that fuel and IPCC category (``FactorSet.default()``), so compiling the demo file with the
default catalog re-creates the CEADs CO2 up to rounding and the back-calculation is
transparent.  Every row says so in ``note``.  ``--check`` rebuilds in memory and fails if the
committed CSVs differ.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from carbonpeak.catalog.factors import FactorSet  # noqa: E402
from carbonpeak.catalog.units import conversion_factor  # noqa: E402

DEFAULT_SHARED = ROOT.parent / "shared" / "reference" / "data"
OUT_ACTIVITY = ROOT / "src" / "carbonpeak" / "demo" / "data" / "activity"
OUT_CITIES = ROOT / "src" / "carbonpeak" / "demo" / "data" / "activity_cities"
OUT_HISTORY = ROOT / "src" / "carbonpeak" / "demo" / "data" / "activity_history"
OUT_REFERENCE = ROOT / "src" / "carbonpeak" / "demo" / "data" / "reference"

POWER_CSV = ROOT / "scripts" / "data" / "gd_power.csv"

YEARS = (2015, 2016, 2017, 2018, 2019)
COLUMNS = ["year", "region", "category", "item", "amount", "unit", "uncertainty_pct", "source", "note"]

CEADS_SOURCE = (
    "CEADs Guangdong inventory {year} (Shan et al. 2018 Sci Data 5:170201; Shan et al. 2020 Sci Data 7:54;"
    " Guan et al. 2021 Earth's Future 9:e2021EF002241) via OpenClimate harmonize/data/raw/CEADS_china_provinces"
)
CEADS_CITY_SOURCE = (
    "CEADs city inventories (Shan et al. 2022 Sci Bull 67:1910) via OpenClimate"
    " harmonize/data/raw/CEADS_china_cities + " + CEADS_SOURCE
)
POWER_SOURCE = (
    "NBS via Wind/CEIC, energyandcleanair/china_co2 inst/csv/power_generation_by_province_and_source.csv"
    " @4043449a (全社会用电量 and generation above designated size, 10^4 kWh)"
)

#: CEADs fuel column (spellings of both file layouts) → catalog item id.
FUELS: dict[str, str] = {
    "Raw_Coal": "raw_coal",
    "Cleaned_Coal": "cleaned_coal",
    "CleanedCoal": "cleaned_coal",
    "Other_Washed_Coal": "other_washed_coal",
    "Briquettes": "briquettes",
    "Coke": "coke",
    "Coke_Oven_Gas": "coke_oven_gas",
    "Other_Gas": "other_gas",
    "Other_Coking_Products": "other_coking_products",
    "Crude_Oil": "crude_oil",
    "Gasoline": "gasoline",
    "Kerosene": "kerosene",
    "Diesel_Oil": "diesel_oil",
    "Fuel_Oil": "fuel_oil",
    "LPG": "lpg",
    "Refinery_Gas": "refinery_gas",
    "Other_Petroleum_Products": "other_petroleum_products",
    "Natural_Gas": "natural_gas",
}

#: Fuel groups used by CEADs' own summary (coal = raw coal … other coking products; oil = crude
#: oil and petroleum products; gas = natural gas).
FUEL_GROUP: dict[str, str] = {
    **dict.fromkeys(
        [
            "raw_coal",
            "cleaned_coal",
            "other_washed_coal",
            "briquettes",
            "coke",
            "coke_oven_gas",
            "other_gas",
            "other_coking_products",
        ],
        "coal",
    ),
    **dict.fromkeys(
        [
            "crude_oil",
            "gasoline",
            "kerosene",
            "diesel_oil",
            "fuel_oil",
            "lpg",
            "refinery_gas",
            "other_petroleum_products",
        ],
        "oil",
    ),
    "natural_gas": "gas",
}

#: Transport sector: fuel → IPCC category (mobile uses); any other fuel of the transport
#: sector (coal, coke, …) is stationary use in transport enterprises → 1.A.4.a.
TRANSPORT_SPLIT: dict[str, str] = {
    "kerosene": "1.A.3.a",
    "gasoline": "1.A.3.b",
    "diesel_oil": "1.A.3.b",
    "lpg": "1.A.3.b",
    "natural_gas": "1.A.3.b",
    "fuel_oil": "1.A.3.d",
}
TRANSPORT_SECTOR = "Transportation, Storage, Post and Telecommunication Services"

#: CEADs sector (NBS industry classification, 47 sectors) → IPCC 2006 1.A category.
#: ``None`` = the transport sector, split by fuel with :data:`TRANSPORT_SPLIT`.
SECTOR_MAP: dict[str, str | None] = {
    "Farming, Forestry, Animal Husbandry, Fishery and Water Conservancy": "1.A.4.c",
    "Coal Mining and Dressing": "1.A.1.c",
    "Petroleum and Natural Gas Extraction": "1.A.1.c",
    "Ferrous Metals Mining and Dressing": "1.A.2.i",
    "Nonferrous Metals Mining and Dressing": "1.A.2.i",
    "Nonmetal Minerals Mining and Dressing": "1.A.2.i",
    "Other Minerals Mining and Dressing": "1.A.2.i",
    "Logging and Transport of Wood and Bamboo": "1.A.2.j",
    "Food Processing": "1.A.2.e",
    "Food Production": "1.A.2.e",
    "Beverage Production": "1.A.2.e",
    "Tobacco Processing": "1.A.2.e",
    "Textile Industry": "1.A.2.l",
    "Garments and Other Fiber Products": "1.A.2.l",
    "Leather, Furs, Down and Related Products": "1.A.2.l",
    "Timber Processing, Bamboo, Cane, Palm Fiber & Straw Products": "1.A.2.j",
    "Furniture Manufacturing": "1.A.2.j",
    "Papermaking and Paper Products": "1.A.2.d",
    "Printing and Record Medium Reproduction": "1.A.2.d",
    "Cultural, Educational and Sports Articles": "1.A.2.m",
    "Petroleum Processing and Coking": "1.A.1.b",
    "Raw Chemical Materials and Chemical Products": "1.A.2.c",
    "Medical and Pharmaceutical Products": "1.A.2.c",
    "Chemical Fiber": "1.A.2.c",
    "Rubber Products": "1.A.2.m",
    "Plastic Products": "1.A.2.m",
    "Nonmetal Mineral Products": "1.A.2.f",
    "Smelting and Pressing of Ferrous Metals": "1.A.2.a",
    "Smelting and Pressing of Nonferrous Metals": "1.A.2.b",
    "Metal Products": "1.A.2.h",
    "Ordinary Machinery": "1.A.2.h",
    "Equipment for Special Purposes": "1.A.2.h",
    "Transportation Equipment": "1.A.2.g",
    "Electric Equipment and Machinery": "1.A.2.h",
    "Electronic and Telecommunications Equipment": "1.A.2.h",
    "Instruments, Meters, Cultural and Office Machinery": "1.A.2.h",
    "Other Manufacturing Industry": "1.A.2.m",
    "Scrap and waste": "1.A.2.m",
    "Production and Supply of Electric Power, Steam and Hot Water": "1.A.1.a",
    "Production and Supply of Gas": "1.A.1.c",
    "Production and Supply of Tap Water": "1.A.4.a",
    "Construction": "1.A.2.k",
    TRANSPORT_SECTOR: None,
    "Wholesale, Retail Trade and Catering Services": "1.A.4.a",
    "Others": "1.A.4.a",
    "Urban": "1.A.4.b",
    "Rural": "1.A.4.b",
}
TOTAL_ROWS = {"Total Consumption", "TotalEmissions"}

#: Activity-data uncertainty (95 % half-width, %) given to the rows.  IPCC 2006 Vol 2 Ch 2
#: §2.4.2 (Table 2.15) puts fuel statistics of well-developed systems at 2–5 % and less
#: developed ones at 10–15 %; the back-calculation adds the factor mismatch to CEADs, so the
#: provincial rows carry 10 % and the downscaled city rows 20 % (carbonpeak's choice).
UNC_PROVINCE = 10.0
UNC_CITY = 20.0

#: City names in the CEADs city file → region codes (catalog/data/regions.yaml).
CITIES: dict[str, str] = {
    "广州": "GD-GZ",
    "深圳": "GD-SZ",
    "珠海": "GD-ZH",
    "汕头": "GD-ST",
    "佛山": "GD-FS",
    "韶关": "GD-SG",
    "河源": "GD-HY",
    "梅州": "GD-MZ",
    "惠州": "GD-HZ",
    "汕尾": "GD-SW",
    "东莞": "GD-DG",
    "中山": "GD-ZS",
    "江门": "GD-JM",
    "阳江": "GD-YJ",
    "湛江": "GD-ZJ",
    "茂名": "GD-MM",
    "肇庆": "GD-ZQ",
    "清远": "GD-QY",
    "潮州": "GD-CZ",
    "揭阳": "GD-JY",
    "云浮": "GD-YF",
}


# --------------------------------------------------------------------------------------------
# CEADs
# --------------------------------------------------------------------------------------------
def read_ceads_province(shared: Path) -> pd.DataFrame:
    """CEADs Guangdong, long: year, sector, fuel (catalog id or ``Process``), mt_co2."""
    df = pd.read_csv(shared / "ceads_guangdong_province_co2_1997_2019.csv")
    col = df["fuel_or_column"].str.replace(" ", "_")
    df["fuel"] = col.map(lambda c: FUELS.get(c, c))
    return df[["year", "sector", "fuel", "mt_co2"]]


def category_of(sector: str, fuel: str) -> str:
    if sector not in SECTOR_MAP:
        raise KeyError(f"CEADs sector not mapped: {sector!r}")
    cat = SECTOR_MAP[sector]
    if cat is None:
        return TRANSPORT_SPLIT.get(fuel, "1.A.4.a")
    return cat


def ceads_energy_by_category(ceads: pd.DataFrame, years: Iterable[int]) -> pd.DataFrame:
    """CEADs CO2 (t) by year × IPCC category × fuel (sector rows only, totals dropped)."""
    d = ceads[ceads["year"].isin(list(years)) & ceads["fuel"].isin(FUEL_GROUP.keys())]
    d = d[~d["sector"].isin(TOTAL_ROWS)].copy()
    d["category"] = [category_of(s, f) for s, f in zip(d["sector"], d["fuel"], strict=True)]
    d["co2_t"] = d["mt_co2"] * 1e6
    out = d.groupby(["year", "category", "fuel"], as_index=False)["co2_t"].sum()
    return out[out["co2_t"] >= 1.0].reset_index(drop=True)  # drop sub-tonne float residue


def ceads_fuel_totals(ceads: pd.DataFrame, years: Iterable[int]) -> pd.DataFrame:
    """CEADs' own total row: year × column (fuel ids, ``Process``, ``Scope_1_Total``), Mt."""
    d = ceads[ceads["year"].isin(list(years)) & ceads["sector"].isin(TOTAL_ROWS)]
    return d.pivot_table(index="year", columns="fuel", values="mt_co2", aggfunc="sum")


# --------------------------------------------------------------------------------------------
# Factors (the catalog's, so the back-calculation is the inverse of the engine's formula)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CO2Factor:
    value: float  # t CO2 per `unit`
    unit: str  # the physical unit of the activity (the denominator of the NCV)
    text: str  # "NCV … × CC … × OF … × 44/12" for the note


def co2_factor(fs: FactorSet, item: str, category: str, year: int, region: str = "GD") -> CO2Factor:
    """EF = NCV × CC × OF × 44/12 from the catalog, in t CO2 per physical unit."""
    ncv = fs.get(item, "ncv", category=category, region=region, year=year)
    cc = fs.get(item, "carbon_content", category=category, region=region, year=year)
    of = fs.get(item, "oxidation", category=category, region=region, year=year)
    den = ncv.unit.split("/", 1)[1].strip()
    if den.startswith("(") and den.endswith(")"):
        den = den[1:-1].strip()
    ncv_gj = ncv.value * conversion_factor(ncv.unit, f"GJ/({den})")
    cc_t_per_gj = cc.value * conversion_factor(cc.unit, "tC/GJ")
    of_v = of.value * conversion_factor(of.unit, "1") if of.unit not in ("", "1") else of.value
    ef = ncv_gj * cc_t_per_gj * of_v * 44.0 / 12.0
    text = f"NCV {ncv.value:g} {ncv.unit} × CC {cc.value:g} {cc.unit} × OF {of.value:g} × 44/12"
    return CO2Factor(ef, den, text)


def _sig(x: float, digits: int = 7) -> float:
    return float(f"{x:.{digits}g}")


# --------------------------------------------------------------------------------------------
# Builders
# --------------------------------------------------------------------------------------------
def build_province_energy(ceads: pd.DataFrame, fs: FactorSet) -> pd.DataFrame:
    by_cat = ceads_energy_by_category(ceads, YEARS)
    rows = []
    for r in by_cat.itertuples(index=False):
        ef = co2_factor(fs, r.fuel, r.category, int(r.year))
        amount = r.co2_t / ef.value
        rows.append(
            {
                "year": int(r.year),
                "region": "GD",
                "category": r.category,
                "item": r.fuel,
                "amount": _sig(amount),
                "unit": ef.unit,
                "uncertainty_pct": UNC_PROVINCE,
                "source": CEADS_SOURCE.format(year=int(r.year)),
                "note": (
                    f"estimate — derived from CEADs CO2 {r.co2_t / 1e6:.6g} Mt (sector→IPCC map in"
                    f" docs/demo-data.md) by dividing CO2 by EF = {ef.text} (carbonpeak catalog)"
                ),
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


CITY_MIN_CO2_T = 1e4  #: provincial rows below 10 kt CO2 (0.03 % of the total) are not downscaled


def city_shares(shared: Path, years: Iterable[int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each city's share of the 21-city CEADs CO2 sum, by year, and how each value was obtained.

    Gaps: a missing year between two reported years is linearly interpolated in CO2; missing
    years after the last reported one carry the last reported CO2 forward (河源 2016–2019,
    茂名 2018–2019).  Returns (shares: city × year, basis: city × year text).
    """
    c = pd.read_csv(shared / "ceads_guangdong_cities_co2_1997_2019.csv")
    unknown = set(c["city_zh"]) - set(CITIES)
    if unknown:
        raise KeyError(f"cities without a region code: {sorted(unknown)}")
    wide = c.pivot(index="city_zh", columns="year", values="mt_co2")
    years = list(years)
    span = list(range(min(wide.columns), max(years) + 1))
    wide = wide.reindex(columns=span)
    filled = wide.interpolate(axis=1, method="linear", limit_area="inside").ffill(axis=1)
    basis = pd.DataFrame("reported", index=wide.index, columns=span)
    inside = wide.isna() & wide.interpolate(axis=1, limit_area="inside").notna()
    basis[inside] = "interpolated"
    basis[wide.isna() & ~inside] = "carried forward"
    filled = filled[years]
    shares = filled / filled.sum(axis=0)
    text = basis[years].copy()
    for y in years:
        text[y] = [f"{filled.loc[c, y]:.2f} Mt, {basis.loc[c, y]}" for c in filled.index]
    return shares, text


def build_city_energy(province: pd.DataFrame, ceads: pd.DataFrame, shared: Path) -> dict[int, pd.DataFrame]:
    """Downscale the provincial energy rows to the 21 cities with their CEADs CO2 shares."""
    by_cat = ceads_energy_by_category(ceads, YEARS)
    big = by_cat[by_cat["co2_t"] >= CITY_MIN_CO2_T][["year", "category", "fuel"]]
    prov = province.merge(big, left_on=["year", "category", "item"], right_on=["year", "category", "fuel"])
    shares, basis = city_shares(shared, YEARS)
    out: dict[int, pd.DataFrame] = {}
    for year in YEARS:
        py = prov[prov["year"] == year]
        rows = []
        for city_zh, code in CITIES.items():
            s = float(shares.loc[city_zh, year])
            b = basis.loc[city_zh, year]
            for r in py.itertuples(index=False):
                rows.append(
                    {
                        "year": year,
                        "region": code,
                        "category": r.category,
                        "item": r.item,
                        "amount": _sig(r.amount * s, 6),
                        "unit": r.unit,
                        "uncertainty_pct": UNC_CITY,
                        "source": f"CEADs GD {year} + CEADs cities (Shan et al. 2018/2020/2022) via OpenClimate",
                        "note": f"estimate — GD row × city share {s:.5f} of 21-city CEADs CO2 ({b});"
                        " docs/demo-data.md",
                    }
                )
        out[year] = pd.DataFrame(rows, columns=COLUMNS)
    return out


ELECTRICITY_CATEGORY = "M.ELEC"


def power_table(power_csv: Path) -> pd.DataFrame:
    """``scripts/data/gd_power.csv`` with wind filled where NBS has none and an ``estimated`` column.

    Missing wind generation = mean of year-start and year-end capacity (10^4 kW) × utilisation
    hours / 10^4 → 10^8 kWh; missing solar (2015) = 0.  Both are recorded in ``estimated``.
    """
    p = pd.read_csv(power_csv, comment="#").set_index("year")
    est: dict[int, list[str]] = {int(y): [] for y in p.index}
    prev_cap = p["wind_capacity_end_1e4kw"].shift(1)
    for y in p.index:
        if pd.isna(p.loc[y, "wind"]):
            cap = (prev_cap[y] + p.loc[y, "wind_capacity_end_1e4kw"]) / 2
            p.loc[y, "wind"] = cap * p.loc[y, "wind_hours"] / 1e4
            est[int(y)].append(
                f"wind {p.loc[y, 'wind']:.1f} estimated = mean capacity {cap:.1f} 万kW × {p.loc[y, 'wind_hours']:g} h"
                " (CREA utilisation hours)"
            )
        if pd.isna(p.loc[y, "solar"]):
            p.loc[y, "solar"] = 0.0
            est[int(y)].append("solar not reported, taken as 0")
    p["generation"] = p[["thermal", "hydro", "nuclear", "wind", "solar"]].sum(axis=1)
    p["net_import"] = p["consumption"] - p["generation"]
    p["estimated"] = pd.Series({y: "; ".join(v) for y, v in est.items()})
    return p


def build_electricity_import(power_csv: Path) -> pd.DataFrame:
    """Net electricity imports = 全社会用电量 − generation above designated size (all types)."""
    p = power_table(power_csv)
    rows = []
    for y, r in p.iterrows():
        status = "estimate" if r["estimated"] else "derived"
        rows.append(
            {
                "year": int(y),
                "region": "GD",
                "category": ELECTRICITY_CATEGORY,
                "item": "electricity",
                "amount": round(float(r["net_import"]), 1),
                "unit": "亿kWh",
                "uncertainty_pct": 10.0,
                "source": POWER_SOURCE,
                "note": (
                    f"{status} — net import = consumption {r['consumption']:g} − generation {r['generation']:.1f}"
                    f" (thermal {r['thermal']:g}, hydro {r['hydro']:g}, nuclear {r['nuclear']:g},"
                    f" wind {r['wind']:.1f}, solar {r['solar']:g}); generation covers plants above designated"
                    " size only, so imports are overstated by small-plant and distributed output"
                    + (f"; {r['estimated']}" if r["estimated"] else "")
                ),
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


CLINKER_CATEGORY = "2.A.1"


def build_clinker(ceads: pd.DataFrame, fs: FactorSet) -> pd.DataFrame:
    """Clinker production = CEADs cement process CO2 / the catalog's clinker CO2 factor."""
    d = ceads[(ceads["fuel"] == "Process") & ceads["year"].isin(YEARS) & ~ceads["sector"].isin(TOTAL_ROWS)]
    d = d.groupby("year", as_index=False)["mt_co2"].sum()
    rows = []
    for r in d.itertuples(index=False):
        kw = {"category": CLINKER_CATEGORY, "region": "GD", "year": int(r.year)}
        ef = fs.get("clinker", "ef", gas="CO2", **kw)
        ckd = fs.get("clinker", "cf_ckd", **kw)
        ef_t = ef.to("t/t") * ckd.to("1")
        rows.append(
            {
                "year": int(r.year),
                "region": "GD",
                "category": CLINKER_CATEGORY,
                "item": "clinker",
                "amount": _sig(r.mt_co2 * 1e6 / ef_t),
                "unit": "t",
                "uncertainty_pct": UNC_PROVINCE,
                "source": CEADS_SOURCE.format(year=int(r.year)),
                "note": (
                    f"estimate — derived from CEADs cement process CO2 {r.mt_co2:.6g} Mt by dividing by"
                    f" EF_clinker {ef.value:g} {ef.unit} × CF_ckd {ckd.value:g} (carbonpeak catalog, IPCC 2006"
                    " Vol 3 Eq 2.2)"
                ),
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


FOREST_CATEGORY = "3.B.1.a"

#: Guangdong standing forest volume (森林蓄积量), 10^8 m3, year-end (shared/reference/guangdong.md §4).
#: Only two years on the same (13th-FYP) survey basis inside 2015–2019 are used; the
#: stock-difference method spreads the change evenly over 2016–2019.
FOREST_STOCK: tuple[tuple[int, float, str], ...] = (
    (
        2015,
        5.02,
        "Guangdong forestry statistics as reported at the start of the 13th FYP (2015: 5.02亿m3, coverage 56.92 %),"
        " http://www.hwsss.com/yule/2021020914185.html (shared/reference/guangdong.md §4)",
    ),
    (
        2019,
        5.79,
        "Guangdong Forestry Administration via CNR 2020-06-04 (end 2019: 5.79亿m3, coverage 58.61 %),"
        " http://leiyang99.cn/news/show-23348.html (shared/reference/guangdong.md §4)",
    ),
)


def build_forest() -> pd.DataFrame:
    """Standing volume for the stock-difference method, all of it as forest type ``mixed_forest``."""
    rows = [
        {
            "year": year,
            "region": "GD",
            "category": FOREST_CATEGORY,
            "item": "mixed_forest",
            "amount": volume,
            "unit": "10^8 m3",
            "uncertainty_pct": 5.0,
            "source": source,
            "note": (
                f"estimate — reported provincial total standing volume {volume:g}亿m3 assigned entirely to forest"
                " type mixed_forest (no species split was found); stock-difference gives the mean 2016–2019 sink"
            ),
        }
        for year, volume, source in FOREST_STOCK
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


RICE_CSV = ROOT / "scripts" / "data" / "gd_rice.csv"
RICE_CATEGORY = "3.C.7"
#: late/early sown-area ratio of 2024 (稻谷 2,752.6万亩 − 早稻 1,304.5万亩 = 1,448.1万亩), see gd_rice.csv.
LATE_EARLY_RATIO = 1448.1 / 1304.5
LATE_EARLY_SOURCE = (
    "NBS Guangdong Survey Team, 2024 grain output release, repost http://m.a899.cn/html/41a899173.html"
)


def build_rice(rice_csv: Path) -> pd.DataFrame:
    """Early rice (sourced 2017–2019, 2015–2016 held at 2017) and late rice (early × 2024 ratio)."""
    r = pd.read_csv(rice_csv, comment="#").set_index("year")
    first = int(r.index.min())
    rows = []
    for year in YEARS:
        if year in r.index:
            kha, status, source = (
                float(r.loc[year, "early_rice_kha"]),
                str(r.loc[year, "status"]),
                r.loc[year, "source"],
            )
            note = f"{status} — early-rice sown area {kha:g} thousand ha as published" + (
                " (2017 = 2018 area + the published 2018 decrease)" if status == "derived" else ""
            )
        else:
            kha, source = float(r.loc[first, "early_rice_kha"]), r.loc[first, "source"]
            note = f"estimate — no {year} figure found; held at the {first} area {kha:g} thousand ha"
        rows.append(
            {
                "year": year,
                "region": "GD",
                "category": RICE_CATEGORY,
                "item": "rice_early",
                "amount": kha * 1000.0,
                "unit": "ha",
                "uncertainty_pct": 5.0 if year in r.index else 15.0,
                "source": source,
                "note": note,
            }
        )
        rows.append(
            {
                "year": year,
                "region": "GD",
                "category": RICE_CATEGORY,
                "item": "rice_late",
                "amount": round(kha * 1000.0 * LATE_EARLY_RATIO, 0),
                "unit": "ha",
                "uncertainty_pct": 15.0,
                "source": f"{source}; ratio: {LATE_EARLY_SOURCE}",
                "note": (
                    f"estimate — late rice = early rice {kha:g} kha × {LATE_EARLY_RATIO:.5f}, the 2024 late/early"
                    " ratio (稻谷 2,752.6 − 早稻 1,304.5 = 1,448.1万亩; single-season rice counted as late)"
                ),
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


LIVESTOCK_CSV = ROOT / "scripts" / "data" / "gd_livestock.csv"
#: gd_livestock.csv item → catalog item.  Chinese statistics give 牛 (cattle incl. buffalo and dairy cows) as
#: one figure; Guangdong's dairy herd is small (milk ≈ 0.13 Mt a year), so all cattle go to non-dairy cattle.
LIVESTOCK_ITEMS = {"swine": "swine", "cattle": "non_dairy_cattle", "goats": "goats"}
LIVESTOCK_CATEGORIES = ("3.A.1", "3.A.2")


def build_livestock(livestock_csv: Path) -> pd.DataFrame:
    """Year-end livestock stock (sourced 2015–2017, swine 2019) under 3.A.1 and 3.A.2; gaps held, labelled."""
    src = pd.read_csv(livestock_csv, comment="#")
    rows = []
    for name, item in LIVESTOCK_ITEMS.items():
        s = src[src["item"] == name].set_index("year")
        for year in YEARS:
            if year in s.index:
                stock, status, source = (
                    float(s.loc[year, "stock_10k_head"]),
                    str(s.loc[year, "status"]),
                    str(s.loc[year, "source"]),
                )
                note = (
                    f"{status} — year-end stock {stock:g}万头 as published, × 10^4 = head; year-end stock used as"
                    " the annual average population (IPCC 2006 Vol 4 Ch 10 §10.2)"
                )
                unc = 10.0
            else:
                before = [y for y in s.index if y < year]
                held = int(max(before))
                stock, source = float(s.loc[held, "stock_10k_head"]), str(s.loc[held, "source"])
                note = f"estimate — no {year} figure found; held at the {held} year-end stock {stock:g}万头"
                unc = 30.0
            if name == "cattle":
                note += "; all cattle (牛, incl. buffalo and dairy cows) assigned to non-dairy cattle"
            for category in LIVESTOCK_CATEGORIES:
                rows.append(
                    {
                        "year": year,
                        "region": "GD",
                        "category": category,
                        "item": item,
                        "amount": round(stock * 10_000.0, 0),
                        "unit": "head",
                        "uncertainty_pct": unc,
                        "source": source,
                        "note": note,
                    }
                )
    return pd.DataFrame(rows, columns=COLUMNS)


# --------------------------------------------------------------------------------------------
# The published energy balance (2010–2014): physical activity data, independent of CEADs
# --------------------------------------------------------------------------------------------
BALANCE_CSV = ROOT / "scripts" / "data" / "gd_energy_balance_2010_2014.csv"
BALANCE_YEARS = (2010, 2011, 2012, 2013, 2014)
BALANCE_SOURCE = (
    "NBS China Energy Statistical Yearbook, table 'Energy balance of Guangdong (standard quantity)'"
    " (地区能源平衡表—广东, 标准量), data year {year}, via LBL China Energy Databook v9 as redistributed in"
    " umd-cgs/gcam-china"
    " input/gcamdata/inst/extdata/gcam-china/en_balance_Mtce_Yh_province.csv @da07ef24"
)

#: Energy-balance product (LBL databook name) → catalog item.
BALANCE_ITEMS: dict[str, str] = {
    "Coal Raw": "raw_coal",
    "Coal Cleaned": "cleaned_coal",
    "Coal Washed": "other_washed_coal",
    "Coal Briquettes": "briquettes",
    "Coke": "coke",
    "Coke Oven Gas": "coke_oven_gas",
    "Coal Gas not Coke Source": "other_gas",
    "Blast Furnace Gas": "blast_furnace_gas",
    "Converter Gas": "converter_gas",
    "Coke Other Products": "other_coking_products",
    "Crude Oil": "crude_oil",
    "Gasoline": "gasoline",
    "Kerosene": "kerosene",
    "Diesel Oil": "diesel_oil",
    "Fuel Oil": "fuel_oil",
    "Liquid Petroleum Gas": "lpg",
    "Refinery Gas": "refinery_gas",
    "Petroleum Other Products": "other_petroleum_products",
    "Naphtha": "naphtha",
    "Petroleum Coke": "petroleum_coke",
    "Natural Gas": "natural_gas",
    "LNG": "lng",
}
#: Products of the balance that are not compiled, and why (docs/demo-data.md).
BALANCE_LEFT_OUT: dict[str, str] = {
    "Bitumen Asphalt": "non-energy product (road paving), IPCC 2006 Vol 3 Ch 5 (2.D), not fuel combustion",
    "Lubricants": "non-energy product use, IPCC 2006 Vol 3 Ch 5 §5.2 (2.D.1), not fuel combustion",
    "Petroleum Waxes": "non-energy product use, IPCC 2006 Vol 3 Ch 5 §5.3 (2.D.2), not fuel combustion",
    "Solvents": "non-energy product use (white spirit), IPCC 2006 Vol 3 Ch 5 (2.D.3), not fuel combustion",
    "Gangue": "coal gangue: no carbon content in the catalog (0.6–0.9 Mtce a year, mostly power plants)",
}
#: Balance flow → IPCC 2006 category.  TRA is split by fuel with TRANSPORT_SPLIT (else 1.A.4.a).
BALANCE_FLOWS: dict[str, str | None] = {
    "TPP": "1.A.1.a",  # thermal power: transformation input = fuel burnt (as CEADs)
    "HEA": "1.A.1.a",  # heating supply input
    "IND": "1.A.2",  # industry final consumption minus NEU (the balance has no industry split)
    "CON": "1.A.2.k",
    "TRA": None,
    "WRC": "1.A.4.a",
    "OTH": "1.A.4.a",
    "RES": "1.A.4.b",
    "AGR": "1.A.4.c",
}
BALANCE_FLOW_NAMES = {
    "TPP": "thermal power input",
    "HEA": "heating supply input",
    "IND": "industry",
    "NEU": "industry non-energy use",
    "CON": "construction",
    "TRA": "transport, storage and post",
    "WRC": "wholesale, retail and catering",
    "OTH": "other services",
    "RES": "households",
    "AGR": "agriculture",
}


def read_balance(path: Path = BALANCE_CSV) -> pd.DataFrame:
    """The verbatim extract: year, flow, material, mtce (transformation inputs negative)."""
    b = pd.read_csv(path, comment="#")
    unknown = set(b["material"]) - set(BALANCE_ITEMS) - set(BALANCE_LEFT_OUT)
    if unknown:
        raise KeyError(f"{path.name}: energy-balance products without a mapping: {sorted(unknown)}")
    bad = set(b["flow"]) - set(BALANCE_FLOWS) - {"NEU"}
    if bad:
        raise KeyError(f"{path.name}: unknown flow codes {sorted(bad)}")
    return b


def build_energy_balance(path: Path = BALANCE_CSV) -> pd.DataFrame:
    """Fuel combustion from the published balance, in 10^4 tce (the balance's own energy unit).

    combustion(fuel) = thermal-power and heating-supply input + final consumption of each sector,
    with industry's non-energy use (化工原料 etc.) deducted — the same boundary as CEADs (Shan et al.
    2018 Eq 1).  No factor is involved: 1 Mtce = 100 × 10^4 tce, and the engine converts tce to GJ
    with 29.3076 GJ/tce (GB/T 2589-2020), so the NBS energy content is used as published.
    """
    b = read_balance(path)
    b = b[b["material"].isin(BALANCE_ITEMS)]
    rows = []
    for (year, material), g in b.groupby(["year", "material"], sort=True):
        item = BALANCE_ITEMS[material]
        by_flow = g.groupby("flow")["mtce"].sum()
        parts: dict[str, list[tuple[str, float]]] = {}
        for flow, value in by_flow.items():
            if flow == "NEU":
                continue
            cat = BALANCE_FLOWS[str(flow)]
            if cat is None:
                cat = TRANSPORT_SPLIT.get(item, "1.A.4.a")
            v = abs(float(value))
            if flow == "IND":
                neu = float(by_flow.get("NEU", 0.0))
                v = max(float(value) - neu, 0.0)
                label = (
                    f"industry {float(value):g} − non-energy use {neu:g}"
                    if neu
                    else f"industry {float(value):g}"
                )
            else:
                label = f"{BALANCE_FLOW_NAMES[str(flow)]} {abs(float(value)):g}"
            parts.setdefault(cat, []).append((label, v))
        for cat, terms in sorted(parts.items()):
            mtce = sum(v for _, v in terms)
            if mtce <= 0:
                continue
            rows.append(
                {
                    "year": int(year),
                    "region": "GD",
                    "category": cat,
                    "item": item,
                    "amount": round(mtce * 100.0, 5),
                    "unit": "10^4 tce",
                    "uncertainty_pct": 5.0,
                    "source": BALANCE_SOURCE.format(year=int(year)),
                    "note": (
                        f"derived — {material} (Mtce): "
                        + " + ".join(t for t, _ in terms)
                        + "; × 100 → 10^4 tce (unit change only)"
                    ),
                }
            )
    return pd.DataFrame(rows, columns=COLUMNS).sort_values(["year", "category", "item"], kind="stable")


CEADS_REFERENCE_YEARS = tuple(range(2010, 2020))


def build_ceads_reference(ceads: pd.DataFrame) -> pd.DataFrame:
    """CEADs' own Guangdong total row by fuel (17 fuels, Process, Scope_1_Total), Mt CO2, 2010–2019."""
    d = ceads[ceads["year"].isin(CEADS_REFERENCE_YEARS) & ceads["sector"].isin(TOTAL_ROWS)]
    d = d.groupby(["year", "fuel"], as_index=False)["mt_co2"].sum()
    d = d[d["fuel"].isin([*FUEL_GROUP, "Process", "Scope_1_Total"])]
    d["mt_co2"] = d["mt_co2"].map(lambda v: _sig(float(v), 8))
    d["source"] = (
        "CEADs Guangdong inventory, total row (Shan et al. 2018 Sci Data 5:170201; Shan et al. 2020 Sci Data 7:54;"
        " Guan et al. 2021 Earth's Future 9:e2021EF002241) via OpenClimate harmonize/data/raw/CEADS_china_provinces,"
        " extract shared/reference/data/ceads_guangdong_province_co2_1997_2019.csv"
    )
    return d.sort_values(["year", "fuel"]).reset_index(drop=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="folder with the CEADs CSVs")
    ap.add_argument("--factors", type=Path, action="append", default=[], help="extra factor file (dev only)")
    ap.add_argument("--check", action="store_true", help="fail if the committed CSVs are out of date")
    args = ap.parse_args(argv)

    ceads = read_ceads_province(args.shared)
    fs = FactorSet.default(overrides=args.factors)
    energy = build_province_energy(ceads, fs)
    outputs: dict[Path, pd.DataFrame] = {
        OUT_ACTIVITY / "gd_energy.csv": energy,
        OUT_ACTIVITY / "gd_ippu_cement.csv": build_clinker(ceads, fs),
        OUT_ACTIVITY / "gd_electricity_import.csv": build_electricity_import(POWER_CSV),
        OUT_ACTIVITY / "gd_lulucf_forest.csv": build_forest(),
        OUT_ACTIVITY / "gd_agriculture_rice.csv": build_rice(RICE_CSV),
        OUT_ACTIVITY / "gd_agriculture_livestock.csv": build_livestock(LIVESTOCK_CSV),
    }
    outputs[OUT_HISTORY / "gd_energy_balance_2010_2014.csv"] = build_energy_balance(BALANCE_CSV)
    outputs[OUT_REFERENCE / "ceads_gd_fuel_co2.csv"] = build_ceads_reference(ceads)
    for year, df in build_city_energy(energy, ceads, args.shared).items():
        outputs[OUT_CITIES / f"energy_cities_{year}.csv"] = df
    stale = []
    for path, df in outputs.items():
        text = df.to_csv(index=False, lineterminator="\n")
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}: {len(df)} rows")
    if stale:
        for p in stale:
            print(f"out of date: {p.relative_to(ROOT)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
