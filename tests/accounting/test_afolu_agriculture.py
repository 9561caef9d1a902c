"""Agriculture: enteric fermentation, manure management, managed soils N2O, rice (IPCC 2006 Vol 4)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.accounting.aw_helpers import act, ctx, factors, mass, ov

from carbonpeak.accounting.engine import compile_inventory
from carbonpeak.accounting.methods.agriculture import (
    enteric_fermentation,
    managed_soils_n2o,
    manure_management,
    rice_cultivation,
)
from carbonpeak.errors import ValidationError


def test_rice_provincial_guideline_zhongnan_factors() -> None:
    """省级温室气体清单编制指南(试行) (NDRC 2011), rice CH4 = area × regional seasonal EF; 中南 region
    (Guangdong): early 241.0, late 273.2, single 236.7 kg CH4/ha/season.  1 000 ha each →
    241.0, 273.2 and 236.7 t; 15 万亩 = 10 000 ha of late rice → 2 732 t."""
    rows = [(2020, "GD", "3.C.7", "rice_early", 1000.0, "ha"), (2020, "GD", "3.C.7", "rice_single", 1000.0, "ha"),
            (2020, "GD-GZ", "3.C.7", "rice_late", 15.0, "万亩")]
    res = rice_cultivation(act(rows), ctx())
    assert mass(res, item="rice_early") == pytest.approx(241.0)
    assert mass(res, item="rice_single") == pytest.approx(236.7)
    assert mass(res, item="rice_late") == pytest.approx(2732.0)


def test_rice_ipcc_scaling_factor_method() -> None:
    """IPCC 2006 Vol 4 Ch 5 Eq 5.1-5.3: CH4 = A × t × EFc × SFw × SFp × SFo, SFo = (1 + ROA × CFOA)^0.59.
    1 000 ha, 110 days, EFc 1.30 kg/ha/d, SFw = SFp = 1, straw 2 t/ha incorporated < 30 days
    (CFOA 1) → SFo = 3^0.59 = 1.912 → 1000 × 110 × 1.30 × 1.912 kg = 273.4 t."""
    c = ctx([ov("rice_early", "cultivation_days", 110, "d", category="3.C.7"),
             ov("rice_early", "oa_rate", 2.0, "t/ha", category="3.C.7")], rice_method="ipcc")
    res = rice_cultivation(act([(2020, "GD", "3.C.7", "rice_early", 1000.0, "ha")]), c)
    assert mass(res) == pytest.approx(1000 * 110 * 1.30 * 3 ** 0.59 / 1000, rel=1e-12)
    assert pytest.approx(1.912, abs=1e-3) == 3 ** 0.59


def test_enteric_tier1_and_validation() -> None:
    """IPCC 2006 Vol 4 Ch 10 Eq 10.19: CH4 = N × EF; Asian dairy cattle 68 kg/head/yr (Table 10.11):
    5 万头 (50 000 head) → 3 400 t CH4."""
    res = enteric_fermentation(act([(2020, "GD", "3.A.1", "dairy_cattle", 5.0, "10^4 head")]), ctx())
    assert mass(res) == pytest.approx(3400.0)
    bad = [(2020, "GD", "3.A.1", "dairy_cattle", -1.0, "head"), (2020, "GD", "3.A.1", "rice_early", 1.0, "head"),
           (2020, "GD", "3.A.1", "swine", 1.0, "t"), (2020, "GD", "3.A.1", "poultry", 1.0, "head")]
    with pytest.raises(ValidationError) as e:
        enteric_fermentation(act(bad), ctx())
    got = {(p.row, p.field) for p in e.value.problems}
    assert {(2, "amount"), (3, "item"), (4, "unit")} <= got
    # poultry has no Tier 1 enteric factor: a clear catalog message, not a silent zero
    with pytest.raises(ValidationError, match="no factor 'ef' for item 'poultry'"):
        enteric_fermentation(act([(2020, "GD", "3.A.1", "poultry", 1.0, "head")]), ctx())


def test_manure_n2o_eq_10_25_with_system_shares() -> None:
    """IPCC 2006 Vol 4 Ch 10 Eq 10.25: N2O = N × Nex × Σ_S(MS_S × EF3_S) × 44/28 (Table 10.21 EF3:
    solid storage 0.005, dry lot 0.02).  1 000 head × 60 kg N × (0.5 × 0.005 + 0.3 × 0.02) with 0.2 on
    pasture (no 3.A.2 N2O) = 0.51 t N2O-N → 0.8014 t N2O."""
    c = ctx([ov("dairy_cattle", "nex", 60.0, "kg/head/yr", category="3.A.2"),
             ov("dairy_cattle", "ms_share.mms_solid_storage", 0.5, "1", category="3.A.2"),
             ov("dairy_cattle", "ms_share.mms_dry_lot", 0.3, "1", category="3.A.2"),
             ov("dairy_cattle", "ms_share.mms_pasture", 0.2, "1", category="3.A.2")])
    res = manure_management(act([(2020, "GD", "3.A.2", "dairy_cattle", 1000.0, "head")]), c)
    assert mass(res, gas="N2O", category="3.A.2") == pytest.approx(1000 * 60 * (0.5 * 0.005 + 0.3 * 0.02) / 1000 * 44 / 28)
    # indirect (3.C.6, Eq 10.26-10.27): volatilised N = 60 t x (0.5 x 0.30 + 0.3 x 0.20) (Table 10.22), x EF4 0.01
    assert mass(res, gas="N2O", category="3.C.6") == pytest.approx(60 * (0.5 * 0.30 + 0.3 * 0.20) * 0.01 * 44 / 28)
    assert mass(res, gas="CH4") == pytest.approx(1000 * 16 / 1000)  # Table 10.14 Asia temperate 16 kg/head
    ex = json.loads(res.loc[res.gas == "N2O", "explain"].iloc[0])
    assert set(ex["systems"]) == {"mms_solid_storage", "mms_dry_lot"}


def test_manure_shares_above_one_rejected() -> None:
    c = ctx([ov("swine", "ms_share.mms_dry_lot", 0.7, "1", category="3.A.2"),
             ov("swine", "ms_share.mms_liquid_slurry", 0.6, "1", category="3.A.2")])
    with pytest.raises(ValidationError, match=r"add to 1\.3"):
        manure_management(act([(2020, "GD", "3.A.2", "swine", 1.0, "head")]), c)


def test_user_shares_replace_the_default_set() -> None:
    """The default (all solid storage) is replaced, not topped up, by a user file giving any share."""
    c = ctx([ov("swine", "ms_share.mms_pit_storage", 1.0, "1", category="3.A.2"),
             ov("swine", "nex", 10.0, "kg/head/yr", category="3.A.2")])
    res = manure_management(act([(2020, "GD", "3.A.2", "swine", 1000.0, "head")]), c)
    assert mass(res, gas="N2O", category="3.A.2") == pytest.approx(1000 * 10 * 0.002 / 1000 * 44 / 28)
    # a system without a FracGasMS default (swine on a dry lot) is an error naming the missing factor
    c2 = ctx([ov("swine", "ms_share.mms_dry_lot", 1.0, "1", category="3.A.2")])
    with pytest.raises(ValidationError, match=r"frac_gas_ms\.mms_dry_lot"):
        manure_management(act([(2020, "GD", "3.A.2", "swine", 1000.0, "head")]), c2)


def test_soils_direct_and_indirect_eq_11_1_11_9_11_10() -> None:
    """IPCC 2006 Vol 4 Ch 11 Table 11.1/11.3 defaults, 1 000 t synthetic fertiliser N:
    direct 1000 × 0.01 = 10 t N2O-N (Eq 11.1); volatilisation 1000 × 0.10 × 0.01 = 1 t N2O-N (Eq 11.9);
    leaching 1000 × 0.30 × 0.0075 = 2.25 t N2O-N (Eq 11.10); × 44/28.
    Flooded rice EF1FR 0.003 → 3 t N2O-N direct for the same N."""
    rows = [(2020, "GD", "3.C.4", "synthetic_n_fertiliser", 1000.0, "t"),
            (2020, "GD", "3.C.4", "synthetic_n_fertiliser_rice", 1000.0, "t")]
    res = managed_soils_n2o(act(rows), ctx())
    k = 44 / 28
    assert mass(res, category="3.C.4", item="synthetic_n_fertiliser") == pytest.approx(10 * k)
    assert mass(res, category="3.C.4", item="synthetic_n_fertiliser_rice") == pytest.approx(3 * k)
    assert mass(res, category="3.C.5", item="synthetic_n_fertiliser") == pytest.approx(3.25 * k)
    # rows given under 3.C.5 only add indirect emissions
    res5 = managed_soils_n2o(act([(2020, "GD", "3.C.5", "manure_n_applied", 1000.0, "t")]), ctx())
    assert set(res5["category"]) == {"3.C.5"}
    assert mass(res5) == pytest.approx((1000 * 0.2 * 0.01 + 1000 * 0.3 * 0.0075) * k)


@settings(max_examples=30, deadline=None)
@given(a=st.floats(0, 1e6), b=st.floats(0, 1e6))
def test_soils_additive_and_row_order_invariant(a: float, b: float) -> None:
    c = ctx()
    rows = [(2020, "GD", "3.C.4", "synthetic_n_fertiliser", a, "t"), (2020, "GD", "3.C.4", "crop_residue_n", b, "t")]
    fwd = managed_soils_n2o(act(rows), c)
    rev = managed_soils_n2o(act(rows[::-1]), c)
    sep = mass(managed_soils_n2o(act(rows[:1]), c)) + mass(managed_soils_n2o(act(rows[1:]), c))
    assert mass(fwd) == pytest.approx(mass(rev), rel=1e-12, abs=1e-12)
    assert mass(fwd) == pytest.approx(sep, rel=1e-12, abs=1e-12)


def test_agriculture_through_the_engine_ar5() -> None:
    rows = [(2020, "GD", "3.A.1", "non_dairy_cattle", 1000.0, "head"),
            (2020, "GD", "3.A.2", "non_dairy_cattle", 1000.0, "head"),
            (2020, "GD", "3.C.7", "rice_early", 1000.0, "ha"),
            (2020, "GD", "3.C.4", "synthetic_n_fertiliser", 100.0, "t")]
    inv = compile_inventory(act(rows), factors(), gwp="AR5")
    s = inv.summary()
    assert s["by_category"]["3.A.1"] == pytest.approx(47.0 * 28)
    assert s["by_category"]["3.C.7"] == pytest.approx(241.0 * 28)
    assert s["by_category"]["3.C.4"] == pytest.approx(1.0 * 44 / 28 * 265)
    assert s["by_sector"]["agriculture"] == pytest.approx(s["total_co2e_t"])
    assert s["lulucf_co2e_t"] == 0
