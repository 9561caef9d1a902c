"""The 21-city map (tiles in their geographic arrangement, coloured by the chosen indicator, with a
legend) and an enterprise's download of all its own data (issue 12)."""

from __future__ import annotations

import io
import zipfile

import pytest
from tests.platform.conftest import PW
from tests.web.conftest import SHOTS
from tests.web.test_pages_browser import login

from carbonpeak.catalog.regions import load_regions
from carbonpeak.web.citymap import RAMP, STATUS_COLOURS, TILES, tile_map

pytestmark = [pytest.mark.browser, pytest.mark.service]

CITIES = {c for c, r in load_regions().items() if r.level == "city"}


def test_tiles_cover_the_21_cities_once_and_keep_their_arrangement():
    assert set(TILES) == CITIES
    assert len(CITIES) == 21
    assert len(set(TILES.values())) == 21  # no two cities on one tile
    col = {c: xy[0] for c, xy in TILES.items()}
    row = {c: xy[1] for c, xy in TILES.items()}
    # west to east: Zhanjiang < Guangzhou < Shantou; north to south: Shaoguan < Guangzhou < Shenzhen
    assert col["GD-ZJ"] < col["GD-GZ"] < col["GD-ST"]
    assert row["GD-SG"] < row["GD-GZ"] < row["GD-SZ"]
    # Dongguan lies between Guangzhou and Shenzhen, Zhongshan between Foshan and Zhuhai
    assert (col["GD-DG"], row["GD-DG"]) == (col["GD-GZ"], row["GD-GZ"] + 1) == (col["GD-SZ"], row["GD-SZ"] - 1)


def test_classes_and_legend():
    rows = [{"code": c, "name": c, "status": "no_data", "emissions": (i + 1) * 1e6, "intensity": None}
            for i, c in enumerate(sorted(CITIES))]
    labels = {f"status.{s}": s for s in STATUS_COLOURS} | {"no_data": "none"}
    m = tile_map(rows, "emissions", labels)
    fills = {t["code"]: t["fill"] for t in m["tiles"]}
    smallest, largest = sorted(CITIES)[0], sorted(CITIES)[-1]
    assert fills[smallest] == RAMP[0]
    assert fills[largest] == RAMP[-1]
    assert [entry["fill"] for entry in m["legend"]] == [*RAMP, "#f6f8fa"]
    assert m["legend"][-2]["label"].endswith("2,100")  # 21e6 t = 2,100 × 10⁴ t, separated
    none = tile_map(rows, "intensity", labels)
    assert {t["value"] for t in none["tiles"]} == {"none"}
    st = tile_map(rows, "nonsense", labels)
    assert st["indicator"] == "status"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_map_page_in_the_browser(data_site, browser, lang):
    base, _ = data_site
    SHOTS.mkdir(parents=True, exist_ok=True)
    ctx, page = login(browser, base, "analyst", lang)
    try:
        page.goto(f"{base}/map")
        tiles = page.locator("#city-map .map-tile")
        tiles.first.wait_for()
        assert tiles.count() == 21
        assert page.locator("#map-legend li").count() == len(STATUS_COLOURS)
        assert page.locator("#map-note").inner_text()
        page.select_option("#map-indicator", "emissions")
        page.click("#map-show")
        page.locator("#city-map[data-indicator='emissions']").wait_for()
        fills = set(page.locator("#city-map .map-tile").evaluate_all("els => els.map(e => e.dataset.fill)"))
        assert len(fills & set(RAMP)) >= 3  # the demo cities' emissions spread over the classes
        legend = page.locator("#map-legend").inner_text()
        assert ("万吨" if lang == "zh" else "10⁴ t") in legend
        page.screenshot(path=str(SHOTS / f"map-emissions-{lang}.png"), full_page=True)
        page.locator("#city-map .map-tile[data-code='GD-GZ']").click()
        page.wait_for_url(f"{base}/cities/GD-GZ")
        assert ("广州市" if lang == "zh" else "Guangzhou") in page.locator("main h1").inner_text()
    finally:
        ctx.close()


def test_city_officer_sees_its_city_in_titles(data_site, browser):
    base, _ = data_site
    ctx, page = login(browser, base, "gz_officer", "zh")
    try:
        page.goto(f"{base}/province")
        assert page.locator("main h1").inner_text() == "广州市概览"
        assert "广州市" in page.locator("#whoami").inner_text()
        page.goto(f"{base}/map")
        own = page.locator("#city-map .map-tile[data-code='GD-GZ'] rect")
        assert own.get_attribute("stroke-width") == "3"
    finally:
        ctx.close()


def test_enterprise_downloads_all_its_own_data(data_site, browser):
    base, users = data_site
    uscc = users["ent"]["enterprise_id"]
    ctx, page = login(browser, base, "ent", "zh")
    try:
        page.goto(f"{base}/enterprise")
        page.locator("#chart-meters .main-svg").first.wait_for()
        with page.expect_download() as dl:
            page.click("#download-all")
        data = dl.value.path().read_bytes()
    finally:
        ctx.close()
    z = zipfile.ZipFile(io.BytesIO(data))
    names = set(z.namelist())
    assert {"units.csv", "meters.csv", "readings.csv", "budgets.csv", "unit_day.csv", "alerts.csv",
            "submissions.csv"} <= names
    import pandas as pd

    from carbonpeak.io.aliases import canonical_header

    def read(name):  # headers for people (the page's language); the readers map them to the ids
        df = pd.read_csv(io.BytesIO(z.read(name)), encoding="utf-8-sig")
        return df.set_axis([canonical_header(c) for c in df.columns], axis=1)

    assert "统一社会信用代码" in z.read("units.csv").decode("utf-8-sig").splitlines()[0]
    units = read("units.csv")
    assert z.read("units.csv")[:3] == b"\xef\xbb\xbf"  # BOM: zh-CN Excel opens it unmangled
    assert set(units["uscc"]) == {uscc}
    readings = read("readings.csv")
    meters = read("meters.csv")
    assert len(readings) > 0
    assert set(readings["meter_id"]) <= set(meters["meter_id"])
    assert set(meters["unit_id"]) <= set(units["unit_id"])


def test_only_an_enterprise_downloads_and_only_its_own(data_site):
    import httpx

    base, _ = data_site
    with httpx.Client(base_url=base) as c:
        tok = c.post("/api/auth/login", json={"username": "analyst", "password": PW}).json()["token"]
        r = c.get("/api/enterprise/export", headers={"Authorization": f"Bearer {tok}"})
        assert r.status_code == 403
    with httpx.Client(base_url=base) as anonymous:  # no session cookie, no token
        assert anonymous.get("/api/enterprise/export").status_code == 401
