"""Issue 11 §4/§5 through the ledger: surrender with offset eligibility, the PHCER procedure,
energy-use rights beside allowances, statements."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from carbonpeak.errors import PermissionDenied
from carbonpeak.markets import energy_rights, phcer
from carbonpeak.store import audit
from carbonpeak.store import markets as sm
from carbonpeak.store.users import Principal
from carbonpeak.workflows import markets as wm

ADMIN = Principal("admin", "admin")
ENT_A = Principal("ent_a", "enterprise", enterprise_id="ENT-A")
VERIFIER = Principal("verifier_a", "verifier", assigned=("ENT-A",))
GZ = Principal("gz", "city_officer", city="GD-GZ")
POOL = {"offsets.pool": 1_000_000}  # the 2024-year pool is a required run parameter (not published)


@pytest.fixture
def market(store):
    wm.setup(store)
    wm.allocate(store, ADMIN, year=2024, allocations=pd.DataFrame(
        {"enterprise_id": ["ENT-A", "ENT-B"], "city": ["GD-GZ", "GD-SZ"], "quantity": [950, 500]}))
    return store


def _offsets(store) -> None:
    # CCER 2023: serials 1..80 from a Guangdong PV project, 81..130 from a Hubei (other pilot)
    # project, 131..170 from Yunnan (not local, not a pilot)
    for q, prov, pilot in ((80, "guangdong", False), (50, "hubei", True), (40, "yunnan", False)):
        wm.issue_offsets(store, ADMIN, unit_type="CCER", vintage=2023, quantity=q, owner="ENT-A", city="GD-GZ",
                         project_id=f"P-{prov}", project_type="solar", origin_province=prov, origin_pilot=pilot)


def _phcer(store) -> int:
    """The PHCER procedure end to end: apply, notice (7 working days over National Day 2025), verify, issue."""
    r = wm.apply_phcer(store, ENT_A, application_id="APP-1", methodology_id="gd_pv_distributed", version="V01",
                       project="rooftop PV, Guangzhou", owner="ENT-A", city="GD-GZ", vintage=2024,
                       inputs={"EG_y": 100.0, "EF_grid_y": 0.4960})
    assert r["claimed_t"] == pytest.approx(49.6)
    n = wm.notice_phcer(store, GZ, application_id="APP-1", start=dt.date(2025, 9, 29))
    # 9-29, 9-30, (10-1..10-8 holiday), 10-9, 10-10, 10-11 (Saturday, a make-up working day), 10-13, 10-14
    assert n["notice_end"] == dt.date(2025, 10, 14)
    with pytest.raises(phcer.PhcerError, match="notice runs until 2025-10-14"):
        wm.verify_phcer(store, VERIFIER, application_id="APP-1", verified_t=49.6, today=dt.date(2025, 10, 14))
    with pytest.raises(PermissionDenied):
        wm.verify_phcer(store, Principal("v2", "verifier", assigned=("ENT-B",)), application_id="APP-1",
                        verified_t=49.6, today=dt.date(2025, 10, 15))
    v = wm.verify_phcer(store, VERIFIER, application_id="APP-1", verified_t=49.6, today=dt.date(2025, 10, 15))
    assert v["verified_t"] == 49  # whole tonnes, rounded down
    out = wm.issue_phcer(store, ADMIN, application_id="APP-1")
    with pytest.raises(phcer.PhcerError, match="cannot issue"):
        wm.issue_phcer(store, ADMIN, application_id="APP-1")  # issued once only
    return int(out["issued"])


def test_surrender_with_offsets_checks_each_rule(market):
    store = market
    _offsets(store)
    assert _phcer(store) == 49
    with pytest.raises(wm.OffsetRefused, match="no verified emissions"):
        wm.surrender(store, ENT_A, enterprise_id="ENT-A", year=2024, unit_type="CCER", vintage=2023, quantity=1,
                     params=POOL)
    wm.sign_off_emissions(store, VERIFIER, enterprise_id="ENT-A", year=2024, verified_t=1000.0)
    # the Hubei lot: another pilot region -> refused whole, nothing moves
    before = sm.balance(store, "ENT-A:holding")
    with pytest.raises(wm.OffsetRefused, match=r"exclusion.origin_pilot: 50 t refused"):
        wm.surrender(store, ENT_A, enterprise_id="ENT-A", year=2024, unit_type="CCER", vintage=2023, start=81,
                     end=130, params=POOL)
    assert sm.balance(store, "ENT-A:holding").equals(before)
    # local offsets: PHCER 49 + CCER 40 (Guangdong) = 89 of the 100 t limit (10 % × 1,000 t)
    wm.surrender(store, ENT_A, enterprise_id="ENT-A", year=2024, unit_type="PHCER", vintage=2024, quantity=49,
                 params=POOL)
    wm.surrender(store, ENT_A, enterprise_id="ENT-A", year=2024, unit_type="CCER", vintage=2023, quantity=40,
                 params=POOL)
    # 40 t from Yunnan: the 70 % local share would allow 38 t, the 10 % limit only 11 t
    with pytest.raises(wm.OffsetRefused, match=r"limit_share: 29 t refused") as err:
        wm.surrender(store, ENT_A, enterprise_id="ENT-A", year=2024, unit_type="CCER", vintage=2023, start=131,
                     end=170, params=POOL)
    assert "10% of last year's emissions 1,000" in str(err.value)
    wm.surrender(store, ENT_A, enterprise_id="ENT-A", year=2024, unit_type="CCER", vintage=2023, start=131, end=141,
                 params=POOL)
    # allowances cover the rest: 1000 - 100 offsets = 900
    wm.surrender(store, ENT_A, enterprise_id="ENT-A", year=2024, unit_type="GDEA", vintage=2024, quantity=900)
    ob = wm.obligations(store, ADMIN, 2024, as_of=dt.date(2025, 7, 1)).set_index("enterprise_id")
    assert ob.loc["ENT-A", "status"] == "compliant"
    assert ob.loc["ENT-A", "surrendered_offsets_t"] == 100
    assert ob.loc["ENT-B", "status"] == "awaiting_sign_off"
    # a verifier sees the enterprises it signs off, an enterprise only itself
    assert list(wm.obligations(store, VERIFIER, 2024)["enterprise_id"]) == ["ENT-A"]
    assert list(wm.obligations(store, ENT_A, 2024)["enterprise_id"]) == ["ENT-A"]
    # a surrendered PHCER never moves again, not even to a voluntary retirement
    with pytest.raises(Exception, match="does not hold"):
        wm.retire(store, ENT_A, from_account="ENT-A:holding", unit_type="PHCER", vintage=2024, start=1, end=1,
                  reference="carbon-neutral event")
    assert sm.check_integrity(store) == []
    assert audit.verify_chain(store).ok


def test_energy_use_rights_from_budgets_beside_allowances(market):
    store = market
    store.con.execute("INSERT INTO batches (batch_id, kind, source, submitter, rows, created_at) VALUES "
                      "('t:1', 'mon_units', 'test', 'test', 2, ?)", [dt.datetime.now(dt.UTC)])
    for unit, ent, city in (("U1", "ENT-A", "GD-GZ"), ("U2", "ENT-A", "GD-GZ"), ("U3", "ENT-B", "GD-SZ")):
        store.con.execute(
            "INSERT INTO mon_units (unit_id, name, uscc, industry_code, city, kind, hub_node, registered_level, "
            "synthetic, batch_id) VALUES (?, ?, ?, 'C30', ?, 'industrial', FALSE, 'provincial', TRUE, 't:1')",
            [unit, unit, ent, city])
    for unit, b in (("U1", 6000.4), ("U2", 3999.7), ("U3", 2500.0)):
        store.con.execute("INSERT INTO mon_budgets (unit_id, year, budget_tce, batch_id) VALUES (?, 2025, ?, 't:1')",
                          [unit, b])
    with pytest.raises(PermissionDenied):
        wm.allocate_energy_rights(store, ENT_A, year=2025)
    res = wm.allocate_energy_rights(store, ADMIN, year=2025, city_caps={"GD-SZ": 2000.0})
    alloc = res["allocation"].set_index("enterprise_id")
    assert alloc.loc["ENT-A", "rights_tce"] == 10000  # 6000.4 + 3999.7 = 10000.1 -> whole tce
    assert alloc.loc["ENT-B", "rights_tce"] == 2000
    assert bool(alloc.loc["ENT-B", "scaled"])
    pos = wm.positions(store, ENT_A, year=2025)
    assert list(pos["enterprise_id"]) == ["ENT-A"]
    assert int(pos["GDEA"].iloc[0]) == 950
    assert int(pos["EUR"].iloc[0]) == 10000
    # EUR trade in the same ledger
    wm.transfer(store, ENT_A, from_account="ENT-A:holding", to_account="ENT-B:holding", unit_type="EUR",
                vintage=2025, quantity=500)
    assert sm.check_integrity(store) == []


def test_largest_remainder_sums_exactly() -> None:
    got = energy_rights.largest_remainder({"a": 1.0, "b": 1.0, "c": 1.0}, 10)
    assert sum(got.values()) == 10
    assert sorted(got.values()) == [3, 3, 4]


def test_methodology_register_and_formulas(market):
    store = market
    reg = sm.methodologies(store).set_index("methodology_id")
    assert reg.loc["gd_pv_distributed", "status"] == "unverified"
    assert reg.loc["gd_forest_sink", "status"] == "estimate"
    assert "solarbe.com" in reg.loc["gd_pv_distributed", "source"]
    # the forestry example is not filed: no application may use it until it is
    with pytest.raises(phcer.PhcerError, match="not filed"):
        wm.apply_phcer(store, ENT_A, application_id="F-1", methodology_id="gd_forest_sink", version="carbonpeak-2",
                       project="x", owner="ENT-A", city="GD-GZ", vintage=2024,
                       inputs={"R_baseline": 200, "LK": 0.1}, forest=FIR_STOCK)
    with pytest.raises(phcer.PhcerError, match="cannot move"):
        wm.file_methodology(store, ADMIN, methodology_id="gd_forest_sink", version="carbonpeak-2", stage="filed")
    for stage in ("city_forwarded", "expert_reviewed", "filed"):
        wm.file_methodology(store, ADMIN, methodology_id="gd_forest_sink", version="carbonpeak-2", stage=stage,
                            on=dt.date(2025, 1, 2))
    r = wm.apply_phcer(store, ENT_A, application_id="F-1", methodology_id="gd_forest_sink", version="carbonpeak-2",
                       project="x", owner="ENT-A", city="GD-GZ", vintage=2024,
                       inputs={"R_baseline": 200, "LK": 0.1}, forest=FIR_STOCK)
    assert r["forest"]["R_project"] == pytest.approx(FIR_R_PROJECT, rel=1e-9)
    assert r["claimed_t"] == pytest.approx((FIR_R_PROJECT - 200) * 0.9, rel=1e-9)  # 1,366.98 t
    # R_project is never typed in; the forest data are required
    with pytest.raises(phcer.PhcerError, match="computed from the project's forest data"):
        wm.apply_phcer(store, ENT_A, application_id="F-3", methodology_id="gd_forest_sink", version="carbonpeak-2",
                       project="x", owner="ENT-A", city="GD-GZ", vintage=2024,
                       inputs={"R_project": 1e6, "R_baseline": 0, "LK": 0}, forest=FIR_STOCK)
    with pytest.raises(phcer.PhcerError, match="needs the project's forest data"):
        wm.apply_phcer(store, ENT_A, application_id="F-3", methodology_id="gd_forest_sink", version="carbonpeak-2",
                       project="x", owner="ENT-A", city="GD-GZ", vintage=2024, inputs={"R_baseline": 0, "LK": 0})
    with pytest.raises(PermissionDenied):
        wm.apply_phcer(store, ENT_A, application_id="F-2", methodology_id="gd_forest_sink", version="carbonpeak-2",
                       project="x", owner="ENT-B", city="GD-SZ", vintage=2024, inputs={})
    with pytest.raises(phcer.PhcerError, match="required"):
        phcer.reduction("pv_grid_displacement", {"EG_y": 10})


# Forest-sink PHCER worked example (hand computed; no published PHCER forestry worked example was
# found).  IPCC 2006 Vol 4 Ch 2 Eq 2.8 (stock-difference) with the catalog's 杉木 (Chinese fir)
# factors from the provincial guideline table (省级温室气体清单编制指南(试行), Ch 4; catalog status
# unverified): SVD 0.307 t/m3, BEF 1.634, R 0.246, CF 0.5 -> 0.307 × 1.634 × 1.246 × 0.5
# = 0.31252 t C per m3 of stem volume.  100 ha, 80 -> 95 m3/ha from 2020 to 2024: ΔV = 1,500 m3,
# ΔC = 468.78 t C, R_project = 468.78 × 44/12 = 1,718.87 t CO2 (spread over 2021-2024).
# Project emission reduction (structure of AR-CM-003-V01, leakage as a share):
# ER = (1,718.87 − 200) × (1 − 0.1) = 1,366.98 t.
FIR_C_PER_M3 = 0.307 * 1.634 * (1 + 0.246) * 0.5
FIR_R_PROJECT = 1_500 * FIR_C_PER_M3 * 44 / 12
FIR_STOCK = {"forest_type": "chinese_fir", "area_ha": 100, "start_year": 2020, "end_year": 2024,
             "volume_start_m3_ha": 80, "volume_end_m3_ha": 95}


def test_forest_project_removals_by_hand() -> None:
    assert abs(FIR_R_PROJECT - 1_718.87) < 0.01
    r = wm.forest_project_removals(FIR_STOCK)
    assert r["method"] == "stock_difference"
    assert r["R_project"] == pytest.approx(FIR_R_PROJECT, rel=1e-9)
    assert sorted(r["by_year"]) == [2021, 2022, 2023, 2024]
    assert all(v == pytest.approx(FIR_R_PROJECT / 4, rel=1e-9) for v in r["by_year"].values())
    used = {f["parameter"]: f for f in r["factors"]}
    assert (used["svd"]["value"], used["bef"]["value"], used["r"]["value"], used["cf"]["value"]) == (
        0.307, 1.634, 0.246, 0.5)
    assert all(f["source"] and f["status"] for f in r["factors"])
    # gain-loss (Eq 2.9-2.12): 50 ha × 12 m3/ha/yr − 100 m3/yr harvested = 500 m3/yr over 2022-2024
    # = the same 1,500 m3 -> the same removals
    g = wm.forest_project_removals({"forest_type": "chinese_fir", "area_ha": 50, "start_year": 2021,
                                    "end_year": 2024, "increment_m3_ha_yr": 12, "harvest_m3_yr": 100,
                                    "increment_source": "sample plots (test)"})
    assert g["method"] == "gain_loss"
    assert g["R_project"] == pytest.approx(FIR_R_PROJECT, rel=1e-9)
    assert {f["parameter"]: f["source"] for f in g["factors"]}["volume_increment"] == "sample plots (test)"
    # every parameter is sourced or required
    for bad, msg in (({**FIR_STOCK, "forest_type": "oak"}, "not one of"), ({**FIR_STOCK, "area_ha": 0}, "area_ha"),
                     ({**FIR_STOCK, "end_year": 2020}, "after start_year"),
                     ({**FIR_STOCK, "volume_end_m3_ha": float("nan")}, "finite"),
                     ({k: v for k, v in FIR_STOCK.items() if not k.startswith("volume")}, "give volume"),
                     ({"forest_type": "chinese_fir", "area_ha": 5, "start_year": 2020, "end_year": 2021,
                       "increment_m3_ha_yr": 5}, "increment_source")):
        with pytest.raises(phcer.PhcerError, match=msg):
            wm.forest_project_removals(bad)


def test_notice_needs_a_calendar_or_holidays() -> None:
    with pytest.raises(phcer.PhcerError, match="holidays of that year as a parameter"):
        phcer.notice_end(dt.date(2031, 1, 6))
    # with the holidays as a parameter: 2031-01-06 is a Monday; with 01-08 a holiday the 7th day is 01-15
    assert phcer.notice_end(dt.date(2031, 1, 6), holidays=[dt.date(2031, 1, 8)]) == dt.date(2031, 1, 15)
    with pytest.raises(phcer.PhcerError, match="at least 7"):
        phcer.notice_end(dt.date(2025, 3, 3), 5)
