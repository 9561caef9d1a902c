"""Issue 11 §4/§5: the offset pool set through the API (one workflow for CLI and API), and the
rejection of a PHCER application (with its reason, audited, shown on the pages, forbidden to
the owner and the verifier)."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from tests.markets.test_ledger_api import platform  # noqa: F401  (fixture)
from tests.platform.conftest import login

from carbonpeak.errors import PermissionDenied, UnitError
from carbonpeak.markets import phcer
from carbonpeak.store import audit
from carbonpeak.store import markets as sm
from carbonpeak.store.users import Principal
from carbonpeak.workflows import markets as wm

ADMIN = Principal("admin", "admin")
ANALYST = Principal("analyst", "province_analyst")
ENT_A = Principal("ent_a", "enterprise", enterprise_id="ENT-A")
VERIFIER = Principal("verifier_a", "verifier", assigned=("ENT-A",))
GZ = Principal("gz", "city_officer", city="GD-GZ")


def _market(store) -> None:
    wm.setup(store)
    wm.allocate(store, ADMIN, year=2024, allocations=pd.DataFrame(
        {"enterprise_id": ["ENT-A"], "city": ["GD-GZ"], "quantity": [950]}))
    for q, prov in ((60, "guangdong"), (40, "guangdong")):
        wm.issue_offsets(store, ADMIN, unit_type="CCER", vintage=2023, quantity=q, owner="ENT-A", city="GD-GZ",
                         project_id=f"P-{prov}-{q}", project_type="solar", origin_province=prov)
    wm.sign_off_emissions(store, VERIFIER, enterprise_id="ENT-A", year=2024, verified_t=1000.0)


# -- the offset pool ------------------------------------------------------------------------------------
def test_pool_set_in_the_store_is_used_at_surrender(store):
    _market(store)
    # 2024: the rule set has the rule but no published value -> a surrender of offsets says so
    before = wm.offset_pool(store, ADMIN, 2024)
    assert before["pool_t"] is None
    assert "required" in before["origin"]
    with pytest.raises(Exception, match=r"offsets\.pool"):
        wm.surrender(store, ENT_A, enterprise_id="ENT-A", year=2024, unit_type="CCER", vintage=2023, quantity=10)
    # set once (1 Mt would be 1,000,000 t; 50 t here to see the pool bite)
    res = wm.set_offset_pool(store, ADMIN, year=2024, value=50, unit="t", source="test: a pool of 50 t")
    assert (res["pool_t"], res["used_t"], res["remaining_t"], res["previous"]) == (50.0, 0.0, 50.0, None)
    wm.surrender(store, ENT_A, enterprise_id="ENT-A", year=2024, unit_type="CCER", vintage=2023, quantity=40)
    with pytest.raises(wm.OffsetRefused, match=r"pool: 10 t refused .*pool: 20 t refused"):
        wm.surrender(store, ENT_A, enterprise_id="ENT-A", year=2024, unit_type="CCER", vintage=2023, quantity=40)
    now = wm.offset_pool(store, GZ, 2024)
    assert (now["used_t"], now["remaining_t"]) == (40.0, 10.0)
    # a pool below what was already surrendered is refused; a change keeps the previous value in the audit
    with pytest.raises(wm.OffsetRefused, match="already surrendered"):
        wm.set_offset_pool(store, ADMIN, year=2024, value=39, unit="t", source="test")
    res = wm.set_offset_pool(store, ADMIN, year=2024, value=0.001, unit="Mt", source="test: 1,000 t")
    assert res["pool_t"] == pytest.approx(1000.0)
    assert res["previous"]["value"] == 50.0
    # an explicit run parameter still wins over the stored one
    with pytest.raises(wm.OffsetRefused, match="pool"):
        wm.surrender(store, ENT_A, enterprise_id="ENT-A", year=2024, unit_type="CCER", vintage=2023, quantity=20,
                     params={"offsets.pool": 45})
    log = store.query("SELECT payload FROM audit_log WHERE action = 'markets.parameter.set' ORDER BY seq")
    assert [json.loads(p)["value"] for p in log["payload"]] == [50.0, pytest.approx(1000.0)]
    assert audit.verify_chain(store).ok


@pytest.mark.parametrize(("value", "unit", "error"), [
    (float("nan"), "t", wm.OffsetRefused), (float("inf"), "t", wm.OffsetRefused), (-1.0, "t", wm.OffsetRefused),
    ("many", "t", wm.OffsetRefused), (5.0, "MWh", UnitError), (5.0, "furlong", UnitError),
])
def test_pool_values_are_validated(store, value, unit, error):
    _market(store)
    with pytest.raises(error):
        wm.set_offset_pool(store, ADMIN, year=2024, value=value, unit=unit, source="test")
    with pytest.raises(wm.OffsetRefused, match="source"):
        wm.set_offset_pool(store, ADMIN, year=2024, value=1.0, unit="t", source="  ")
    for who in (ANALYST, ENT_A, GZ, VERIFIER):
        with pytest.raises(PermissionDenied):
            wm.set_offset_pool(store, who, year=2024, value=1.0, unit="t", source="test")
    assert sm.run_parameters(store).empty


def test_pool_through_the_api(platform):  # noqa: F811
    client, store = platform
    _market(store)
    body = {"year": 2024, "value": 1.0, "unit": "Mt", "source": "粤环函〔2025〕50号 (test)"}
    r = client.put("/api/markets/offset-pool", json=body, headers=login(client, "admin"))
    assert r.status_code == 200, r.text
    assert r.json()["pool_t"] == 1_000_000.0
    # the CLI's workflow sees the same setting
    assert wm.offset_pool(store, ADMIN, 2024)["pool_t"] == 1_000_000.0
    for bad in ({**body, "value": -5}, {**body, "unit": "MWh"}, {**body, "source": ""}, {**body, "value": "1e999"}):
        r = client.put("/api/markets/offset-pool", json=bad, headers=login(client, "admin"))
        assert r.status_code == 422, (bad, r.status_code, r.text)
    for user in ("analyst", "gz_officer", "ent_a", "verifier_a"):
        r = client.put("/api/markets/offset-pool", json=body, headers=login(client, user))
        assert r.status_code == 403, (user, r.text)
    r = client.get("/api/markets/offset-pool?year=2024", headers=login(client, "gz_officer"))
    assert r.status_code == 200
    assert r.json()["remaining_t"] == 1_000_000.0
    assert client.get("/api/markets/offset-pool?year=2024", headers=login(client, "ent_a")).status_code == 403


# -- rejection of a PHCER application ---------------------------------------------------------------------
def _apply(store, app_id: str, **kw) -> None:
    wm.apply_phcer(store, ENT_A, application_id=app_id, methodology_id="gd_pv_distributed", version="V01",
                   project="rooftop PV", owner="ENT-A", city="GD-GZ", vintage=2024,
                   inputs={"EG_y": 10.0, "EF_grid_y": 0.5}, **kw)


def test_state_machine_of_a_rejection() -> None:
    for state in ("applied", "noticed", "verified"):
        assert phcer.check_step(state, "reject") == "rejected"
    for state in ("issued", "rejected"):
        with pytest.raises(phcer.PhcerError, match="cannot reject"):
            phcer.check_step(state, "reject")
    with pytest.raises(phcer.PhcerError, match="cannot notice"):
        phcer.check_step("rejected", "notice")  # final: never reopened
    with pytest.raises(phcer.PhcerError, match="reason"):
        phcer.check_reason("  ")


def test_reject_with_reason_then_resubmit(store):
    wm.setup(store)
    _apply(store, "APP-R1")
    wm.notice_phcer(store, GZ, application_id="APP-R1", start=dt.date(2025, 3, 3))
    # the owner, the verifier and the city officer may not reject
    for who in (ENT_A, VERIFIER, GZ):
        with pytest.raises(PermissionDenied):
            wm.reject_phcer(store, who, application_id="APP-R1", reason="not additional")
    assert sm.get_application(store, "APP-R1")["state"] == "noticed"
    r = wm.reject_phcer(store, ANALYST, application_id="APP-R1", reason="benefit-sharing terms were not noticed")
    assert (r["state"], r["previous_state"]) == ("rejected", "noticed")
    a = sm.get_application(store, "APP-R1")
    assert (a["state"], a["rejected_reason"], a["rejected_by"]) == (
        "rejected", "benefit-sharing terms were not noticed", "analyst")
    # final: no further step, no second rejection, no issuance
    with pytest.raises(phcer.PhcerError):
        wm.verify_phcer(store, VERIFIER, application_id="APP-R1", verified_t=5, today=dt.date(2025, 4, 1))
    with pytest.raises(phcer.PhcerError, match="cannot reject"):
        wm.reject_phcer(store, ADMIN, application_id="APP-R1", reason="again")
    with pytest.raises(phcer.PhcerError, match="cannot issue"):
        wm.issue_phcer(store, ADMIN, application_id="APP-R1")
    # audited, with the reason
    log = store.query("SELECT actor, payload FROM audit_log WHERE action = 'markets.phcer.reject'")
    assert list(log["actor"]) == ["analyst"]
    assert json.loads(log["payload"][0])["rejected_reason"] == "benefit-sharing terms were not noticed"
    # a resubmission is a new application naming the rejected one; only a rejected one can be named
    _apply(store, "APP-R2", resubmission_of="APP-R1")
    assert sm.get_application(store, "APP-R2")["resubmission_of"] == "APP-R1"
    assert sm.get_application(store, "APP-R2")["state"] == "applied"
    with pytest.raises(phcer.PhcerError, match="only a rejected"):
        _apply(store, "APP-R3", resubmission_of="APP-R2")
    # an issued application cannot be rejected
    wm.notice_phcer(store, GZ, application_id="APP-R2", start=dt.date(2025, 3, 3))
    wm.verify_phcer(store, VERIFIER, application_id="APP-R2", verified_t=5, today=dt.date(2025, 4, 1))
    wm.issue_phcer(store, ADMIN, application_id="APP-R2")
    with pytest.raises(phcer.PhcerError, match="cannot reject an application in state 'issued'"):
        wm.reject_phcer(store, ADMIN, application_id="APP-R2", reason="too late")
    assert audit.verify_chain(store).ok


def test_rejection_through_the_api_and_on_the_pages(platform):  # noqa: F811
    client, store = platform
    wm.setup(store)
    _apply(store, "APP-W1")
    url = "/api/markets/phcer/applications/APP-W1/reject"
    body = {"reason": "project outside the scope of the methodology"}
    before = store.query("SELECT count(*) n FROM audit_log WHERE action LIKE 'markets.%'")["n"][0]
    for user in ("ent_a", "verifier_a", "gz_officer"):  # the owner itself, the verifier, a city officer
        r = client.post(url, json=body, headers=login(client, user))
        assert r.status_code == 403, (user, r.status_code, r.text)
    assert store.query("SELECT count(*) n FROM audit_log WHERE action LIKE 'markets.%'")["n"][0] == before
    assert client.post(url, json={"reason": ""}, headers=login(client, "admin")).status_code == 422
    r = client.post(url, json=body, headers=login(client, "admin"))
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "rejected"
    assert client.post(url, json=body, headers=login(client, "admin")).status_code == 400  # final
    apps = client.get("/api/markets/phcer/applications", headers=login(client, "ent_a")).json()
    mine = {a["application_id"]: a for a in apps}
    assert mine["APP-W1"]["rejected_reason"] == body["reason"]
    # the owner's page and the province's page show the state and the reason (the dashboard site)
    from fastapi.testclient import TestClient

    from carbonpeak.web.site import create_site

    with TestClient(create_site(store, login_limit=500)) as site:
        for user, page in (("ent_a", "/markets/enterprise?year=2024"), ("analyst", "/markets?year=2024")):
            h = login(site, user)
            site.cookies.set("cp_session", h["Authorization"].split()[1])
            r = site.get(page, headers=h)
            assert r.status_code == 200, (user, r.status_code, r.text[:300])
            assert 'id="phcer-applications"' in r.text
            assert body["reason"] in r.text
            assert 'data-state="rejected"' in r.text
            site.cookies.clear()
    # resubmission through the API
    r = client.post("/api/markets/phcer/applications", headers=login(client, "ent_a"), json={
        "application_id": "APP-W2", "methodology_id": "gd_pv_distributed", "version": "V01", "project": "rooftop PV",
        "city": "GD-GZ", "vintage": 2024, "inputs": {"EG_y": 10.0, "EF_grid_y": 0.5}, "resubmission_of": "APP-W1"})
    assert r.status_code == 201, r.text
    assert r.json()["resubmission_of"] == "APP-W1"


def test_obligations_show_the_guangdong_penalty(store):
    """Decree 197 (cnrmc.com 90162): refusing the order to surrender -> 2 × the shortfall off next
    year's allocation and a CNY 50,000 fine.  1,000 t verified, 900 t surrendered, after the
    20 July 2025 deadline: shortfall 100 t -> 200 t deducted, CNY 50,000."""
    _market(store)
    wm.surrender(store, ENT_A, enterprise_id="ENT-A", year=2024, unit_type="GDEA", vintage=2024, quantity=900)
    before = wm.obligations(store, ADMIN, 2024, as_of=dt.date(2025, 7, 20)).set_index("enterprise_id")
    assert before.loc["ENT-A", "status"] == "open"
    assert before.loc["ENT-A", "penalty_deduction_t"] is None
    ob = wm.obligations(store, ADMIN, 2024, as_of=dt.date(2025, 7, 21)).set_index("enterprise_id")
    row = ob.loc["ENT-A"]
    assert (row["status"], row["shortfall_t"]) == ("non_compliant", 100.0)
    assert (row["penalty_deduction_t"], row["penalty_fine_cny"]) == (200.0, 50_000.0)
    assert "2 × shortfall" in row["penalty_rule"]


def test_verifier_page_lists_what_to_sign_off_and_verify(platform):  # noqa: F811
    """Issue 11 §6: a verifier sees the emissions it must sign off and the PHCER applications to verify."""
    from fastapi.testclient import TestClient

    from carbonpeak.web.site import create_site

    _client, store = platform
    wm.setup(store)
    wm.allocate(store, ADMIN, year=2024, allocations=pd.DataFrame(
        {"enterprise_id": ["ENT-A", "ENT-B"], "city": ["GD-GZ", "GD-SZ"], "quantity": [10, 10]}))
    _apply(store, "APP-V9")
    wm.notice_phcer(store, GZ, application_id="APP-V9", start=dt.date(2025, 3, 3))
    with TestClient(create_site(store, login_limit=500)) as site:
        h = login(site, "verifier_a")
        site.cookies.set("cp_session", h["Authorization"].split()[1])
        r = site.get("/markets/verifier?year=2024", headers=h)
        assert r.status_code == 200, r.text[:300]
        assert 'data-enterprise="ENT-A"' in r.text  # assigned, not signed off yet
        assert 'data-enterprise="ENT-B"' not in r.text  # not its enterprise
        assert "APP-V9" in r.text
        site.cookies.clear()
        h = login(site, "ent_a")
        site.cookies.set("cp_session", h["Authorization"].split()[1])
        assert site.get("/markets/verifier?year=2024", headers=h, follow_redirects=False).status_code in (303, 403)
