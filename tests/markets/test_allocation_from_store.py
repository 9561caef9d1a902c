"""Issue 11 §2: "Output and emissions come from the store (monitoring and verified reports), not
retyped".  The allocation takes each covered enterprise's verified emissions (the verifier's
sign-off) and its key units' product output (the monitoring registry); a file is only an explicit
override, named in the allocation's provenance and in the audit chain.

Hand cases (synthetic enterprises):
* ENT-T, textiles, Guangdong 2024 historical emissions (W1 figures, shared/reference/markets.md
  §(c)): signed-off 2021–2023 emissions 102,000 / 98,000 / 100,000 t → 98,000 t, free 95 % = 93,100 t.
* ENT-C, cement clinker, national 2017 draft benchmark (W3): output 1,200,000 t clinker from two
  units' monitoring rows (700,000 + 500,000 t) → 1,024,080 t (no co-processing).
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from carbonpeak.errors import PermissionDenied, ValidationError
from carbonpeak.store import audit
from carbonpeak.store import markets as sm
from carbonpeak.store.users import Principal
from carbonpeak.workflows import markets as wm

ADMIN = Principal("admin", "admin")
ANALYST = Principal("analyst", "province_analyst")
ENT = Principal("ent", "enterprise", enterprise_id="ENT-T")
PARAMS = {"allocation.history.base_years": 3}


def _registry(store, batch: str, output: list[tuple[str, str, str, str, float, str]]) -> None:
    store.con.execute("INSERT INTO batches (batch_id, kind, source, submitter, rows, created_at) VALUES "
                      "(?, 'mon_units', 'test', 'test', 2, ?)", [batch, dt.datetime.now(dt.UTC)])
    for unit, ent, city in (("U1", "ENT-C", "GD-YF"), ("U2", "ENT-C", "GD-YF"), ("U3", "ENT-T", "GD-GZ")):
        store.con.execute(
            "INSERT INTO mon_units (unit_id, name, uscc, industry_code, city, kind, hub_node, registered_level, "
            "synthetic, batch_id) VALUES (?, ?, ?, 'C30', ?, 'industrial', FALSE, 'provincial', TRUE, ?)",
            [unit, unit, ent, city, batch])
    for i, (unit, product, start, end, q, u) in enumerate(output):
        store.con.execute(
            "INSERT INTO mon_output (unit_id, product, period_start, period_end, quantity, unit, batch_id, "
            "source_file, source_row) VALUES (?, ?, ?, ?, ?, ?, ?, 'output.csv', ?)",
            [unit, product, dt.date.fromisoformat(start), dt.date.fromisoformat(end), q, u, batch, i + 2])


@pytest.fixture
def stocked(store):
    _registry(store, "t:1", [("U1", "clinker", "2017-01-01", "2017-06-30", 300_000.0, "t"),
                             ("U1", "clinker", "2017-07-01", "2017-12-31", 400_000.0, "t"),
                             ("U2", "clinker", "2017-01-01", "2017-12-31", 500_000.0, "t"),
                             ("U2", "clinker", "2016-01-01", "2016-12-31", 450_000.0, "t")])
    verifier = Principal("v", "verifier", assigned=("ENT-T",))
    for y, e in ((2021, 102_000.0), (2022, 98_000.0), (2023, 100_000.0), (2024, 97_000.0)):
        wm.sign_off_emissions(store, verifier, enterprise_id="ENT-T", year=y, verified_t=e)
    return store


def test_history_method_from_signed_off_emissions(stocked):
    ents = pd.DataFrame({"enterprise_id": ["ENT-T"], "sector": ["textiles"], "city": ["GD-GZ"]})
    res = wm.allocate_from_store(stocked, ANALYST, entities=ents, ruleset_id="guangdong-2024", year=2024,
                                 params=PARAMS)
    a = res["allocation"].iloc[0]
    assert (a["allocation_t"], a["free_t"], a["paid_t"], a["quantity"]) == (98000.0, 93100.0, 4900.0, 93100)
    prov = res["provenance"]
    # the three base years, each from the verifier's sign-off; the 2024 figure is not a base year
    assert sorted(prov["year"]) == [2021, 2022, 2023]
    assert all(s.startswith("verified report signed off by v at ") for s in prov["source"])
    assert res["override"] is None


def test_benchmark_method_from_monitoring_output(stocked):
    ents = pd.DataFrame({"enterprise_id": ["ENT-C"], "sector": ["cement"], "activity": ["clinker"]})
    res = wm.allocate_from_store(stocked, ANALYST, entities=ents, ruleset_id="national-draft-2017", year=2017)
    assert res["allocation"].iloc[0]["allocation_t"] == pytest.approx(1_024_080.0)
    prov = res["provenance"]
    cur = prov[prov["field"] == "output"]
    assert sorted(cur["value"]) == [300_000.0, 400_000.0, 500_000.0]
    assert set(prov.loc[prov["field"] == "base_output", "year"]) == {2016}
    assert all("monitoring output of unit U" in s and "output.csv row" in s for s in prov["source"])


def test_override_replaces_the_store_and_is_recorded_in_the_audit_chain(stocked):
    ents = pd.DataFrame({"enterprise_id": ["ENT-T", "ENT-C"], "sector": ["textiles", "cement"],
                         "activity": ["*", "clinker"], "city": ["GD-GZ", "GD-YF"]})
    ov = pd.DataFrame({"enterprise_id": ["ENT-T"], "base_emissions": ["2021:90000;2022:90000;2023:90000"],
                       "reason": ["restated report 2025-03"]})
    with pytest.raises(PermissionDenied):   # an analyst computes; the administrator issues
        wm.allocate_from_store(stocked, ANALYST, entities=ents[:1], ruleset_id="guangdong-2024", year=2024,
                               params=PARAMS, override=ov, override_source="ov.csv", issue=True)
    res = wm.allocate_from_store(stocked, ADMIN, entities=ents[:1], ruleset_id="guangdong-2024", year=2024,
                                 params=PARAMS, override=ov, override_source="ov.csv sha256:abc", issue=True)
    a = res["allocation"].iloc[0]
    assert a["allocation_t"] == pytest.approx(88_200.0)   # 90,000 × 0.98 (the W1 annual factor)
    prov = res["provenance"]
    emis = prov[prov["field"] == "emissions"]
    assert len(emis) == 3   # the override's figures replace the sign-offs, not beside them
    assert set(emis["source"]) == {"override ov.csv sha256:abc row 2 (restated report 2025-03)"}
    bal = sm.balance(stocked, "ENT-T:holding")
    assert bal["balance"].tolist() == [83_790]
    log = audit.entries(stocked, limit=1000)
    runs = log[log["action"] == "markets.allocation.run"]
    assert len(runs) == 1
    payload = runs["payload"].iloc[0]
    payload = json.loads(payload) if isinstance(payload, str) else payload
    assert payload["override"] == "ov.csv sha256:abc"
    assert payload["allocation"][0]["quantity"] == 83_790
    assert {p["source"] for p in payload["provenance"]} == set(emis["source"])
    assert audit.verify_chain(stocked).ok


def test_figures_in_the_entity_list_and_bad_inputs_are_refused(stocked):
    retyped = pd.DataFrame({"enterprise_id": ["ENT-T"], "sector": ["textiles"], "base_emissions": ["2021:1"]})
    with pytest.raises(ValidationError, match="come from the store"):
        wm.allocate_from_store(stocked, ANALYST, entities=retyped, ruleset_id="guangdong-2024", year=2024,
                               params=PARAMS)
    ents = pd.DataFrame({"enterprise_id": ["ENT-T"], "sector": ["textiles"]})
    stranger = pd.DataFrame({"enterprise_id": ["ENT-X"], "output": ["clinker:1"]})
    with pytest.raises(ValidationError, match="not in the covered-entity list"):
        wm.allocate_from_store(stocked, ANALYST, entities=ents, ruleset_id="guangdong-2024", year=2024,
                               params=PARAMS, override=stranger, override_source="ov.csv")
    bad = pd.DataFrame({"enterprise_id": ["ENT-T"], "base_emissions": ["2021=5"]})
    with pytest.raises(ValidationError, match=r"ov.csv.*row 2.*base_emissions"):
        wm.allocate_from_store(stocked, ANALYST, entities=ents, ruleset_id="guangdong-2024", year=2024,
                               params=PARAMS, override=bad, override_source="ov.csv")
    with pytest.raises(PermissionDenied):
        wm.allocate_from_store(stocked, ENT, entities=ents, ruleset_id="guangdong-2024", year=2024, params=PARAMS)


def test_missing_store_figures_name_the_base_years(store):
    ents = pd.DataFrame({"enterprise_id": ["ENT-T"], "sector": ["textiles"]})
    with pytest.raises(Exception, match=r"missing base year\(s\) \[2021, 2022, 2023\]"):
        wm.allocate_from_store(store, ANALYST, entities=ents, ruleset_id="guangdong-2024", year=2024, params=PARAMS)


def test_output_spanning_two_years_is_refused_with_its_row(store):
    _registry(store, "t:2", [("U1", "clinker", "2016-07-01", "2017-06-30", 1.0, "t")])
    ents = pd.DataFrame({"enterprise_id": ["ENT-C"], "sector": ["cement"], "activity": ["clinker"]})
    with pytest.raises(ValidationError, match=r"output.csv.*row 2.*period_end"):
        wm.allocate_from_store(store, ANALYST, entities=ents, ruleset_id="national-draft-2017", year=2017)
