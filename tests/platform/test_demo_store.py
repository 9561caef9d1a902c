"""Demo data only when loaded into the store, labelled wherever shown; an empty store is an empty platform.

Issue 10 §2: "An empty store shows an empty platform with a clear 'no data yet; load data or run
the demo' message. Demo data appear only when the demo was loaded into the store, and every page,
export and report then says 示范数据 / demo data."
"""

from __future__ import annotations

import json

import pytest
from tests.platform.conftest import USERS, copy_store, login
from tests.stores import db_location

from carbonpeak.api.scopes import PUBLIC, ROUTE_ROLES
from carbonpeak.i18n import t
from carbonpeak.store import Store
from carbonpeak.store.demo import DEMO_SUBMITTER
from carbonpeak.workflows.demo import data_status, load_demo

EMPTY_ZH, EMPTY_EN = t("data.empty", "zh"), t("data.empty", "en")
DEMO_ZH, DEMO_EN = t("data.demo", "zh"), t("data.demo", "en")
PAGES = [
    p for (m, p) in ROUTE_ROLES
    if m == "GET" and not p.startswith(("/api/", "/static/", "/openapi", "/docs", "/download/"))  # downloads are files
]
DATA_PAGES = [p for p in PAGES if p not in ("/", "/login", "/logout")]
#: the pages of inventory figures: "no data yet" on a store without inventory data
INVENTORY_PAGES = ("/province", "/cities", "/cities/{code}", "/levers")
#: a concrete URL for each GET route with a path parameter
CONCRETE = {
    "/cities/{code}": "/cities/GD-GZ",
    "/api/submissions/{enterprise_id}/{kind}/{period}": "/api/submissions/ENT-A/readings/2025-01",
    "/api/reports/{name}": "/api/reports/none.html",
    "/api/jobs/{job_id}": "/api/jobs/none",
    "/download/{table}": "/download/targets",
}
OWN_ACTIVITY = b"year,region,category,item,amount,unit,source\n2021,GD-SZ,1.A.1.a,natural_gas,1000,10^4 Nm3,test\n"


def _site(tmp_path, template):
    """The whole site (API + dashboard) on a copy of ``template``; a server error is a real 500."""
    from datetime import timedelta

    from fastapi.testclient import TestClient

    from carbonpeak.web import create_site

    copy_store(template, tmp_path / "site.duckdb")
    store = Store(db_location(tmp_path / "site.duckdb"))
    app = create_site(store, session_ttl=timedelta(minutes=5), login_limit=10_000)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, store
    store.close()


@pytest.fixture
def empty_site(tmp_path, _empty_template_db):
    yield from _site(tmp_path, _empty_template_db)


@pytest.fixture
def demo_site(tmp_path, _template_db):
    yield from _site(tmp_path, _template_db)


def _url(path: str, user: str) -> str:
    """A concrete URL of ``path`` in ``user``'s own scope (a city officer's own city)."""
    if path == "/cities/{code}":
        return f"/cities/{USERS[user].get('city') or 'GD-GZ'}"
    return CONCRETE.get(path, path)


def _roles_allowed(path: str) -> list[str]:
    rule = ROUTE_ROLES[("GET", path)]
    return list(USERS) if rule == PUBLIC else [u for u, kw in USERS.items() if kw["role"] in rule]


def test_demo_load_is_an_audited_idempotent_import(tmp_path):
    store = Store(db_location(tmp_path / "s.duckdb"))
    assert data_status(store).state == "empty"
    first = load_demo(store)
    assert [r.kind for r in first] == ["activity", "observations"]
    assert all(r.created for r in first)
    assert not any(r.created for r in load_demo(store))  # a second load writes nothing
    b = store.query("SELECT kind, submitter FROM batches ORDER BY kind")
    assert b.to_dict(orient="records") == [
        {"kind": "activity", "submitter": DEMO_SUBMITTER},
        {"kind": "observations", "submitter": DEMO_SUBMITTER},
    ]
    audit = store.query("SELECT action, actor FROM audit_log WHERE action LIKE '%.import' ORDER BY action")
    assert audit.to_dict(orient="records") == [
        {"action": "activity.import", "actor": "demo"},
        {"action": "observations.import", "actor": "demo"},
    ]
    st = data_status(store)
    assert st.state == "demo"
    assert st.is_demo(2020, "GD")
    assert st.message("zh").startswith("示范数据")
    store.close()


def test_demo_load_cli(tmp_path, capsys):
    from typer.testing import CliRunner

    from carbonpeak.cli import app

    db = db_location(tmp_path / "c.duckdb")
    r = CliRunner().invoke(app, ["demo", "load", "--db", str(db), "-f", "json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout[r.stdout.index("{"):])
    assert [b["created"] for b in out["batches"]] == [True, True]
    r2 = CliRunner().invoke(app, ["demo", "load", "--db", str(db), "-f", "json"])
    assert [b["created"] for b in json.loads(r2.stdout[r2.stdout.index("{"):])["batches"]] == [False, False]


@pytest.mark.slow
@pytest.mark.parametrize("path", sorted(p for (m, p) in ROUTE_ROLES if m == "GET"))
def test_every_get_route_on_an_empty_store_as_every_role(empty_site, path):
    """No 500 anywhere on an empty store; what needs data says "no data yet", never shows demo figures."""
    client, _ = empty_site
    for user in _roles_allowed(path):
        url = _url(path, user)
        h = login(client, user)
        r = client.get(url, headers=h, follow_redirects=False)
        assert r.status_code < 500, (user, url, r.text[:300])
        if path == "/api/assessment":
            assert r.status_code == 404, r.text
            assert "carbonpeak demo load" in r.json()["message"], r.text
        if path in DATA_PAGES:
            client.cookies.set("cp_session", h["Authorization"].split()[1])
            for lang, msg in (("zh", EMPTY_ZH), ("en", EMPTY_EN)):
                page = client.get(f"{url}?lang={lang}", follow_redirects=False)
                assert page.status_code == 200, (user, url, page.status_code)
                if path in INVENTORY_PAGES:
                    assert msg in page.text, (user, url, lang)
                    assert "data-banner empty" in page.text
                else:  # monitoring, submissions, audit: their own data, not the inventory's
                    assert 'id="data-banner"' not in page.text
                assert "data-banner demo" not in page.text
                assert DEMO_ZH not in page.text
                assert DEMO_EN not in page.text
            client.cookies.clear()


def test_inventory_compile_on_an_empty_store_says_no_data(empty_platform):
    client, _ = empty_platform
    r = client.post("/api/inventory/compile", headers=login(client, "analyst"), json={"year": 2020})
    assert r.status_code == 404
    assert "No data yet" in r.json()["message"]
    assert "carbonpeak demo load" in r.json()["message"]


@pytest.mark.slow
@pytest.mark.parametrize("path", DATA_PAGES)
def test_every_page_says_demo_data_when_the_demo_is_loaded(demo_site, path):
    client, _ = demo_site
    for user in _roles_allowed(path):
        url = _url(path, user)
        h = login(client, user)
        client.cookies.set("cp_session", h["Authorization"].split()[1])
        for lang, msg in (("zh", DEMO_ZH), ("en", DEMO_EN)):
            r = client.get(f"{url}?lang={lang}", follow_redirects=False)
            assert r.status_code == 200, (user, url, r.status_code)
            assert 'id="data-banner"' in r.text, (user, url, lang)
            assert msg in r.text, (user, url, lang)
        client.cookies.clear()


def test_api_answers_carry_the_demo_label(platform):
    client, _ = platform
    h = login(client, "analyst")
    inv = client.post("/api/inventory/compile", headers=h, json={"year": 2020, "region": "GD"}).json()
    assert inv["demo"] is True
    assert inv["data"]["state"] == "demo"
    assert inv["data"]["message"]["zh"].startswith("示范数据")


@pytest.mark.slow
def test_assessment_and_report_say_demo_data(platform, tmp_path):
    from carbonpeak.reports.annual import write_assessment_report

    client, store = platform
    a = client.get("/api/assessment", headers=login(client, "analyst")).json()
    assert a["data"]["demo"]
    assert all(tg["demo"] for tg in a["targets"])
    for lang, word in (("zh", "示范数据"), ("en", "demo data")):
        files = write_assessment_report(store, 2023, tmp_path / lang, lang=lang, pdf=False)
        html = next(f for f in files if f.suffix == ".html").read_text(encoding="utf-8")
        assert 'id="demo-title"' in html
        assert 'id="demo-footer"' in html
        assert word in html
        data = json.loads(next(f for f in files if f.suffix == ".json").read_text(encoding="utf-8"))
        assert data["year"] == 2023


def test_a_report_of_own_data_has_no_demo_label(tmp_path):
    from carbonpeak.i18n import Messages
    from carbonpeak.reports.assessment import _demo_note

    assert _demo_note({"demo": False, "message": None}, Messages("en"), "en") is None
    assert _demo_note(False, Messages("zh"), "zh") is None
    assert _demo_note(True, Messages("zh"), "zh").startswith("示范数据")


@pytest.mark.slow
def test_a_mixed_store_says_which_figures_are_demo(empty_site, tmp_path):
    client, store = empty_site
    h = login(client, "analyst")
    assert client.post("/api/activity", headers=h, files=[("files", ("own.csv", OWN_ACTIVITY, "text/csv"))]).status_code == 201
    st = data_status(store)
    assert st.state == "own"
    assert st.message("en") is None
    load_demo(store)
    st = data_status(store)
    assert st.state == "mixed"
    assert st.is_demo(2020, "GD")
    assert not st.is_demo(2021, "GD-SZ")
    assert "GD 2015–2025" in st.which()
    assert "GD-SZ 2015–2020" in st.which()
    own = client.post("/api/inventory/compile", headers=h, json={"year": 2021, "region": "GD-SZ"}).json()
    demo = client.post("/api/inventory/compile", headers=h, json={"year": 2020, "region": "GD"}).json()
    assert own["demo"] is False
    assert demo["demo"] is True
    assert own["data"]["state"] == "mixed"
    client.cookies.set("cp_session", h["Authorization"].split()[1])
    page = client.get("/province?lang=zh")
    assert "部分为示范数据" in page.text
    assert "GD 2015–2025" in page.text
    frame = st.label_frame(store.current("activity", ["year", "region", "category", "item"]))
    assert not frame.loc[frame["region"] == "GD-SZ"].query("year == 2021")["demo"].any()
    assert frame.loc[frame["region"] == "GD"]["demo"].all()


def test_projection_on_an_empty_store_uses_no_demo_observations(empty_platform):
    """Without observations in the store the run starts from the scenario's calibration, not the demo."""
    client, _ = empty_platform
    r = client.post("/api/projections/run", headers=login(client, "analyst"), json={"scenario": "plan"})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["state"] == "empty"
    assert r.json()["last_observed_year"] == 2020


def test_projection_on_the_demo_store_is_labelled(platform):
    client, _ = platform
    r = client.post("/api/projections/run", headers=login(client, "analyst"), json={"scenario": "plan"}).json()
    assert r["data"]["demo"] is True
    assert r["last_observed_year"] > 2020


def test_cli_exports_of_store_data_say_demo(tmp_path):
    """`dualcontrol -f csv` has a demo column; `assess -f json` carries data and per-target demo."""
    from typer.testing import CliRunner

    from carbonpeak.cli import app

    db = db_location(tmp_path / "c.duckdb")
    with Store(db) as s:
        load_demo(s)
    r = CliRunner().invoke(app, ["dualcontrol", "--year", "2019", "--db", str(db), "-f", "csv"])
    assert r.exit_code == 0, r.output
    header, first = r.stdout.splitlines()[:2]
    assert header.split(",")[-1] == "demo"
    assert first.split(",")[-1] == "True"
    r = CliRunner().invoke(app, ["assess", "--year", "2023", "--db", str(db), "--no-outlook", "-f", "json",
                                 "--out", str(tmp_path / "rep"), "--lang", "en", "--no-pdf"])
    assert r.exit_code == 0, r.output
    a = json.loads(r.stdout[r.stdout.index("{"):])
    assert a["data"]["state"] == "demo"
    assert all(tg["demo"] for tg in a["targets"])
    html = (tmp_path / "rep" / "assessment-2023-en.html").read_text(encoding="utf-8")
    assert 'id="demo-footer"' in html
    own = db_location(tmp_path / "own.duckdb")
    Store(own).close()
    r = CliRunner().invoke(app, ["assess", "--year", "2023", "--db", str(own), "--no-outlook"])
    assert r.exit_code != 0
    assert "carbonpeak demo load" in r.output + str(r.exception)


@pytest.mark.slow
def test_every_page_of_the_demo_pdf_report_says_demo_data(tmp_path):
    """The printed report: the label beside the title and in the footer of every page (Chromium + pdftotext)."""
    import shutil
    import subprocess

    from carbonpeak.reports.annual import write_assessment_report
    from carbonpeak.reports.pdf import find_chromium

    if find_chromium() is None or shutil.which("pdftotext") is None:
        pytest.fail("Chromium and pdftotext are needed: run `make system-deps`")
    with Store(db_location(tmp_path / "r.duckdb")) as store:
        load_demo(store)
        files = write_assessment_report(store, 2023, tmp_path / "out", lang="en", pdf=True)
    pdf = next(f for f in files if f.suffix == ".pdf")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = [p for p in text.split("\f") if p.strip()]
    assert len(pages) > 2
    assert "assessment demo data" in " ".join(pages[0].split()[:30])  # beside the title
    assert all("demo data · Demo data" in " ".join(p.split()) for p in pages), "a page without the demo footer"


def test_the_demo_submitter_is_reserved(tmp_path):
    """Data sent under the submitter 'demo' would be labelled demo data: only `demo load` may use it."""
    from carbonpeak.demo import demo_files
    from carbonpeak.errors import Conflict
    from carbonpeak.workflows.inventory import import_activity, import_observations

    with Store(db_location(tmp_path / "r.duckdb")) as store:
        f = demo_files("activity")[0]
        with pytest.raises(Conflict, match="reserved"):
            import_activity(store, [(f, f.name)], submitter=DEMO_SUBMITTER)
        with pytest.raises(Conflict, match="reserved"):
            import_observations(store, [(demo_files("observations")[0], "o.csv")], submitter=DEMO_SUBMITTER)
        assert data_status(store).state == "empty"
