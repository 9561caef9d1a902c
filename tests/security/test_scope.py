"""Issue 9, high: scope comes from the principal, never from the form.

A submission's enterprise and city are those of the user's enterprise (city from the registry of
its units); a client-sent ``enterprise_id``/``city`` that disagrees is refused with 403 and a
clear message, and nothing is stored.  The other write endpoints are checked for the same
pattern: a body or path naming another scope is refused.
"""

from __future__ import annotations

import pytest
from tests.security import ingest_fixtures as fx
from tests.security.ingest_fixtures import login

_template_db, svc, upload_root = fx._template_db, fx.svc, fx.upload_root  # fixtures

OWN = "meter_id,ts,value\nM1,2025-01-01T00:00:00+08:00,10\n"


def submit(client, user, *, body=OWN, **form):
    data = {"kind": "readings", "period": "2025-01", **form}
    return client.post(
        "/api/submissions",
        headers=login(client, user),
        data=data,
        files={"file": ("r.csv", body.encode(), "text/csv")},
    )


def n_submissions(store) -> int:
    return int(store.query("SELECT count(*) n FROM submissions")["n"][0])


def test_city_and_enterprise_come_from_the_account(svc):
    client, store = svc
    r = submit(client, "ent_a")
    assert r.status_code == 201, r.text
    row = store.query("SELECT enterprise_id, city FROM submissions").iloc[0]
    assert (row["enterprise_id"], row["city"]) == ("ENT-A", "GD-GZ")
    # the GZ officer reads it, the SZ officer does not
    ids = lambda u: {s["enterprise_id"] for s in client.get("/api/submissions", headers=login(client, u)).json()}  # noqa: E731
    assert ids("gz_officer") == {"ENT-A"}
    assert ids("sz_officer") == set()


def test_a_city_that_disagrees_is_refused(svc):
    client, store = svc
    r = submit(client, "ent_a", city="GD-SZ")
    assert r.status_code == 403
    msg = r.json()["message"]
    assert "GD-SZ" in msg
    assert "GD-GZ" in msg  # says where the enterprise is registered
    assert n_submissions(store) == 0


def test_the_agreeing_city_is_accepted(svc):
    client, _ = svc
    assert submit(client, "ent_a", city="GD-GZ").status_code == 201


@pytest.mark.parametrize("other", ["ENT-B", "ENT-A ", "ent-a", "ENT-A/../ENT-B"])
def test_another_enterprise_id_is_refused(svc, other):
    client, store = svc
    r = submit(client, "ent_a", enterprise_id=other)
    assert r.status_code in (403, 422), r.text
    assert n_submissions(store) == 0


def test_admin_files_for_an_enterprise_in_its_registered_city_only(svc):
    client, store = svc
    assert submit(client, "admin", enterprise_id="ENT-B", city="GD-GZ", body=OWN.replace("M1", "MB1")).status_code == 403
    assert submit(client, "admin", body=OWN).status_code == 400  # which enterprise?
    r = submit(client, "admin", enterprise_id="ENT-B", body=OWN.replace("M1", "MB1"))
    assert r.status_code == 201, r.text
    assert store.query("SELECT city FROM submissions")["city"].tolist() == ["GD-SZ"]


def test_meters_of_another_enterprise_are_refused_row_by_row(svc):
    client, store = svc
    body = OWN + "MB1,2025-01-01T00:00:00+08:00,11\n"
    r = submit(client, "ent_a", body=body)
    assert r.status_code == 422
    probs = r.json()["problems"]
    assert [(p["file"], p["row"], p["field"]) for p in probs] == [("r.csv", 3, "meter_id")]
    assert n_submissions(store) == 0


@pytest.mark.parametrize("user", ["analyst", "gz_officer", "verifier_a"])
def test_roles_without_an_enterprise_cannot_submit(svc, user):
    client, _ = svc
    assert submit(client, user, enterprise_id="ENT-A").status_code == 403


# -- the same pattern on the other write endpoints -----------------------------------------------------
def test_verifier_cannot_record_credit_for_an_unassigned_enterprise(svc):
    client, store = svc
    h = login(client, "verifier_a")
    body = {"enterprise_id": "ENT-B", "kind": "missed_deadline", "detail": "late"}
    assert client.post("/api/credit", headers=h, json=body).status_code == 403
    assert client.post("/api/credit", headers=h, json={**body, "enterprise_id": "ENT-A"}).status_code == 201
    assert store.query("SELECT enterprise_id FROM credit_events")["enterprise_id"].tolist() == ["ENT-A"]


def test_city_officer_compiles_only_its_city(svc):
    client, _ = svc
    h = login(client, "gz_officer")
    assert client.post("/api/inventory/compile", headers=h, json={"region": "GD-SZ"}).status_code == 403


def test_enterprise_cannot_send_registry_files(svc):
    client, store = svc
    units = "unit_id,name,uscc,industry_code,city,kind\nU-X,x,ENT-A,C30,GD-SZ,industrial\n"
    r = client.post(
        "/api/monitoring/ingest",
        headers=login(client, "ent_a"),
        files={"files": ("units.csv", units.encode(), "text/csv")},
    )
    assert r.status_code == 403
    assert store.query("SELECT count(*) n FROM mon_units WHERE unit_id = 'U-X'")["n"][0] == 0


def test_sign_off_of_an_unassigned_enterprise_is_refused(svc):
    client, store = svc
    assert submit(client, "admin", enterprise_id="ENT-B", body=OWN.replace("M1", "MB1")).status_code == 201
    r = client.post("/api/submissions/ENT-B/readings/2025-01/versions/1/sign-off", headers=login(client, "verifier_a"))
    assert r.status_code in (403, 404)
    assert store.query("SELECT status FROM submissions")["status"].tolist() == ["submitted"]


def test_the_dashboard_form_sends_no_scope_fields():
    """The enterprise page's upload form has no city field (and enterprise_id only for an admin)."""
    from pathlib import Path

    import carbonpeak.web

    html = (Path(carbonpeak.web.__file__).parent / "templates" / "enterprise.html").read_text(encoding="utf-8")
    assert 'name="city"' not in html
    assert "{% if user.role == 'admin' %}<label>{{ t('enterprise.enterprise_id') }} <input name=\"enterprise_id\"" in html
    assert html.count('name="enterprise_id"') == 1
