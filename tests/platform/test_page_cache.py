"""The dashboard's read pages (/province, /cities) are cached as rendered HTML per data version
(web/site.py, workflows/cache.py): a write is seen by the next read, and one user's page is never
another's (the page shows who is signed in, and a city officer sees only its city)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.platform.conftest import PW, seed_users
from tests.stores import db_location

from carbonpeak.store import Store
from carbonpeak.web import create_site
from carbonpeak.workflows import cache
from carbonpeak.workflows.inventory import import_activity

USERS = {
    "analyst": dict(role="province_analyst"),
    "admin": dict(role="admin"),
    "gz_officer": dict(role="city_officer", city="GD-GZ"),
}


@pytest.fixture
def site(tmp_path):
    store = Store(db_location(tmp_path / "pages.duckdb"))
    seed_users(store, USERS)
    cache.clear()
    with TestClient(create_site(store)) as client:
        yield client, store
    store.close()


def _get(client: TestClient, path: str, user: str) -> str:
    r = client.post("/api/auth/login", json={"username": user, "password": PW})
    assert r.status_code == 200, r.text
    client.cookies.clear()
    client.cookies.set("cp_session", r.json()["token"])
    page = client.get(path)
    assert page.status_code == 200, page.text[:300]
    return page.text


def _activity(folder: Path) -> Path:
    p = folder / "a.csv"
    p.write_text(
        "year,region,category,item,amount,unit,uncertainty_pct,source,note\n"
        "2020,GD,3.A.1,swine,1000,head,10.0,test file,test\n",
        encoding="utf-8",
    )
    return p


def test_each_user_gets_its_own_page(site) -> None:
    client, _ = site
    for path in ("/province", "/cities"):
        a1, b1 = _get(client, path, "analyst"), _get(client, path, "admin")
        a2, b2 = _get(client, path, "analyst"), _get(client, path, "admin")
        assert a1 == a2  # cached, and the same
        assert b1 == b2
        assert 'id="whoami">analyst' in a1
        assert 'id="whoami">admin' in b1
        assert "nav-schedule" in b1  # the admin's menu, not the analyst's
        assert "nav-schedule" not in a1
    # a city officer's cities page holds its city only; the analyst's all 21
    assert _get(client, "/cities", "gz_officer").count("/cities/GD-") == 1
    assert _get(client, "/cities", "analyst").count("/cities/GD-") == 21


def test_a_write_is_seen_by_the_next_read(site, tmp_path) -> None:
    client, store = site
    before = _get(client, "/province", "analyst")
    assert 'id="data-banner"' in before  # no data yet
    assert _get(client, "/province", "analyst") == before
    import_activity(store, [(_activity(tmp_path), "a.csv")], submitter="t")
    after = _get(client, "/province", "analyst")
    assert after != before
    assert 'id="data-banner"' not in after


def test_the_language_is_part_of_the_key_and_its_cookie_still_set(site) -> None:
    client, _ = site
    zh = _get(client, "/province", "analyst")
    r = client.get("/province?lang=en")
    assert r.status_code == 200
    assert r.text != zh
    assert r.cookies.get("cp_lang") == "en"
    again = client.get("/province?lang=en")
    assert again.text == r.text
    assert again.cookies.get("cp_lang") == "en"
