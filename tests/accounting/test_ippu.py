"""IPPU methods (IPCC 2006 Vol 3), hand-computed from the equations cited in each test."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonpeak.accounting.base import RESULT_COLUMNS, MethodContext
from carbonpeak.accounting.methods import ippu
from carbonpeak.catalog.factors import FactorSet, read_factor_table
from carbonpeak.catalog.loader import DATA_DIR
from carbonpeak.errors import ValidationError


def act(rows):
    df = pd.DataFrame(rows, columns=["year", "region", "category", "item", "amount", "unit"])
    df["uncertainty_pct"] = 5.0
    df["__file__"] = "act.csv"
    df["__row__"] = range(2, 2 + len(df))
    return df


CTX = MethodContext(factors=FactorSet.default())


def one(fn, rows, ctx=CTX):
    out = fn(act(rows), ctx)
    assert list(out.columns) == list(RESULT_COLUMNS)
    return out


def test_cement_tier2_eq22():
    """IPCC 2006 Vol 3 Eq 2.2: 1000 t clinker × 0.510 t CO2/t × CF_ckd 1.02 = 520.2 t CO2."""
    out = one(ippu.cement, [(2020, "GD", "2.A.1", "clinker", 0.1, "10^4 t")])
    assert out["mass_t"].iloc[0] == pytest.approx(520.2)
    assert out["gas"].iloc[0] == "CO2"
    assert out["ad_uncertainty_pct"].iloc[0] == 5.0
    assert out["ef_uncertainty_pct"].iloc[0] == pytest.approx((8**2 + 3**2) ** 0.5)
    ex = json.loads(out["explain"].iloc[0])
    assert ex["tier"] == "Tier 2"
    assert set(ex["factors"]) == {"ef", "cf_ckd"}
    assert ex["activity"]["row"] == 2
    assert ex["activity"]["file"] == "act.csv"


def test_cement_tier1_eq21_with_clinker_trade():
    """IPCC 2006 Vol 3 Eq 2.1: (1000 t cement × 0.75 − 100 imported + 50 exported) × 0.52 = 364 t."""
    out = one(
        ippu.cement,
        [
            (2020, "GD", "2.A.1", "cement", 1000, "t"),
            (2020, "GD", "2.A.1", "clinker_imported", 100, "t"),
            (2020, "GD", "2.A.1", "clinker_exported", 50, "t"),
        ],
    )
    assert len(out) == 1
    assert out["mass_t"].iloc[0] == pytest.approx((750 - 100 + 50) * 0.52)
    ex = json.loads(out["explain"].iloc[0])
    assert ex["activity"]["item"] == "cement"
    assert [a["item"] for a in ex["activity_more"]] == ["clinker_imported", "clinker_exported"]


def test_cement_both_tiers_is_an_error():
    with pytest.raises(ValidationError) as e:
        one(
            ippu.cement,
            [(2020, "GD", "2.A.1", "cement", 1000, "t"), (2020, "GD", "2.A.1", "clinker", 700, "t")],
        )
    p = e.value.problems[0]
    assert p.file == "act.csv"
    assert p.row == 2
    assert "double counting" in p.message


def test_lime_glass_carbonates_ceramics():
    assert one(ippu.lime, [(2020, "GD", "2.A.2", "lime_hydraulic", 100, "t")])["mass_t"].iloc[
        0
    ] == pytest.approx(59.0)
    # Eq 2.11: 100 t × 0.20 × (1 − 0.5) = 10 t
    assert one(ippu.glass, [(2020, "GD", "2.A.3", "glass", 100, "t")])["mass_t"].iloc[0] == pytest.approx(
        10.0
    )
    # Eq 2.14: 100 t dolomite × 0.47732 × F 1.0
    out = one(ippu.carbonates, [(2020, "GD", "2.A.4.d", "dolomite", 100, "t")])
    assert out["mass_t"].iloc[0] == pytest.approx(47.732)
    # ceramics Tier 1: 1000 t clay × 0.10 × (0.85 × 0.43971 + 0.15 × 0.47732) = 44.53515
    out = one(ippu.carbonates, [(2020, "GD", "2.A.4.a", "clay_ceramics", 1000, "t")])
    assert out["mass_t"].iloc[0] == pytest.approx(100 * (0.85 * 0.43971 + 0.15 * 0.47732))


def test_stoichiometric_factors_are_derived_from_atomic_weights():
    """IPCC 2006 Vol 3 Table 2.1 factors recomputed from IUPAC standard atomic weights."""
    ca, mg, c, o, fe = 40.078, 24.305, 12.011, 15.999, 55.845
    co2 = c + 2 * o
    expect = {
        "limestone": co2 / (ca + c + 3 * o),
        "magnesite": co2 / (mg + c + 3 * o),
        "dolomite": 2 * co2 / (ca + mg + 2 * (c + 3 * o)),
        "siderite": co2 / (fe + c + 3 * o),
    }
    rows = {
        r.item: r
        for r in read_factor_table(DATA_DIR / "factors" / "ippu.csv")
        if r.parameter == "ef" and r.gas == "CO2"
    }
    for item, v in expect.items():
        assert rows[item].value == pytest.approx(v, abs=6e-6)
        assert rows[item].status == "derived"


def test_iron_steel_ethylene_hfc23_sf6():
    out = one(
        ippu.iron_steel,
        [(2020, "GD", "2.C.1", "sinter", 1000, "t"), (2020, "GD", "2.C.1", "crude_steel_bof", 10, "t")],
    )
    by = {(r.item, r.gas): r.mass_t for r in out.itertuples()}
    assert by[("sinter", "CO2")] == pytest.approx(200.0)
    assert by[("sinter", "CH4")] == pytest.approx(0.07)  # 0.07 kg/t × 1000 t
    assert by[("crude_steel_bof", "CO2")] == pytest.approx(14.6)
    out = one(ippu.petrochemicals, [(2020, "GD", "2.B.8.b", "ethylene_ethane", 100, "t")])
    assert dict(zip(out["gas"], out["mass_t"], strict=True)) == pytest.approx({"CO2": 95.0, "CH4": 0.3})
    # Eq 3.30: 1000 t HCFC-22 × 0.04 − 10 t destroyed = 30 t HFC-23
    out = one(
        ippu.hfc23,
        [(2020, "GD", "2.B.9.a", "hcfc22", 1000, "t"), (2020, "GD", "2.B.9.a", "hfc23_destroyed", 10, "t")],
    )
    assert out["gas"].iloc[0] == "HFC-23"
    assert out["mass_t"].iloc[0] == pytest.approx(30.0)
    out = one(ippu.sf6_electrical, [(2020, "GD", "2.G.1.b", "sf6_bank", 100, "t")])
    assert out["mass_t"].iloc[0] == pytest.approx(2.6)
    bal = [
        (2020, "GD-GZ", "2.G.1.b", "sf6_storage_start", 10, "t"),
        (2020, "GD-GZ", "2.G.1.b", "sf6_storage_end", 8, "t"),
        (2020, "GD-GZ", "2.G.1.b", "sf6_acquired", 5, "t"),
        (2020, "GD-GZ", "2.G.1.b", "sf6_disbursed", 1, "t"),
        (2020, "GD-GZ", "2.G.1.b", "sf6_nameplate_new", 4, "t"),
        (2020, "GD-GZ", "2.G.1.b", "sf6_nameplate_retired", 1, "t"),
    ]
    out = one(ippu.sf6_electrical, bal)
    # (10 − 8) + 5 − 1 − (4 − 1) = 3 t
    assert out["item"].iloc[0] == "sf6_mass_balance"
    assert out["mass_t"].iloc[0] == pytest.approx(3.0)


def test_wrong_item_and_unit_are_reported_with_row():
    with pytest.raises(ValidationError) as e:
        one(ippu.lime, [(2020, "GD", "2.A.2", "glass", 1, "t"), (2020, "GD", "2.A.2", "lime", 1, "GJ")])
    fields = {(p.row, p.field) for p in e.value.problems}
    assert fields == {(2, "item"), (3, "unit")}


def test_user_override_changes_value_and_factor_key(tmp_path: Path):
    f = tmp_path / "plant.csv"
    f.write_text(
        "item,parameter,value,unit,category,gas,region,source,status\n"
        "clinker,ef,0.538,tCO2/t,2.A.1,CO2,GD,test plant data,estimate\n",
        encoding="utf-8",
    )
    ctx = MethodContext(factors=FactorSet.default(overrides=[f]))
    out = ippu.cement(
        act([(2020, "GD", "2.A.1", "clinker", 1000, "t"), (2020, "GD-GZ", "2.A.1", "clinker", 1000, "t")]),
        ctx,
    )
    gd, gz = out.iloc[0], out.iloc[1]
    assert gd["mass_t"] == pytest.approx(1000 * 0.538 * 1.02)
    assert gz["mass_t"] == pytest.approx(1000 * 0.510 * 1.02)
    assert gd["factor_key"] != gz["factor_key"]
    assert "plant.csv" in gd["factor_key"]
    assert json.loads(gd["explain"])["factors"]["ef"]["overridden"] is True


def test_engine_compiles_ippu_rows():
    from carbonpeak.accounting.engine import compile_inventory

    df = pd.DataFrame(
        [(2020, "GD", "2.A.1", "clinker", 1000, "t"), (2020, "GD", "2.G.1", "sf6_bank", 1, "t")],
        columns=["year", "region", "category", "item", "amount", "unit"],
    )
    inv = compile_inventory(df, gwp="AR5")
    res = inv.results.set_index("item")
    assert res.loc["clinker", "co2e_t"] == pytest.approx(520.2)
    assert res.loc["sf6_bank", "co2e_t"] == pytest.approx(0.026 * 23500)


@settings(max_examples=30, deadline=None)
@given(
    st.sampled_from(
        [
            ("2.A.1", "clinker", ippu.cement),
            ("2.A.2", "lime", ippu.lime),
            ("2.A.3", "glass", ippu.glass),
            ("2.A.4.b", "soda_ash", ippu.carbonates),
            ("2.C.1", "crude_steel_eaf", ippu.iron_steel),
            ("2.B.8.b", "ethylene_naphtha", ippu.petrochemicals),
            ("2.B.9.a", "hcfc22", ippu.hfc23),
            ("2.G.1.b", "sf6_bank", ippu.sf6_electrical),
        ]
    ),
    st.floats(0.0, 1e7),
    st.floats(0.1, 10.0),
)
def test_linear_in_amount_and_unit_invariant(case, amount, k):
    """Every Tier 1/2 formula is linear in the activity and independent of the mass unit used."""
    cat, item, method = case
    base = method(act([(2020, "GD", cat, item, amount, "t")]), CTX).set_index("gas")["mass_t"]
    scaled = method(act([(2020, "GD", cat, item, amount * k / 1e4, "10^4 t")]), CTX).set_index("gas")[
        "mass_t"
    ]
    assert list(scaled.index) == list(base.index)
    for gas in base.index:
        assert scaled[gas] == pytest.approx(base[gas] * k, rel=1e-9, abs=1e-9)
