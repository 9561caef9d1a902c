"""The boundary (choropleth) map of the 21 cities: the boundary file's checks, the build script's
dissolve and simplification, the projection, and the page in Chromium for every role that may see
it, in zh and en (issue 12).

No boundary file ships with the package (docs/dashboard.md says why), so these tests build one from
a synthetic county-level source (tests/web/geo_fixture.py: squares, NOT real geography) with
scripts/build_boundaries.py, exactly as an operator builds one from a licensed source.
"""

from __future__ import annotations

import json

import pytest
from tests.platform.conftest import seed_users, serve_in_thread
from tests.stores import db_location
from tests.web.conftest import SHOTS
from tests.web.geo_fixture import build_fixture, county_source
from tests.web.test_pages_browser import login

from carbonpeak.catalog.geo import REQUIRED_META, load_boundaries, sidecar_of
from carbonpeak.catalog.regions import load_regions
from carbonpeak.errors import CatalogError
from carbonpeak.web.citymap import RAMP, STATUS_COLOURS, boundary_map, projector, svg_path

CITIES = [c for c, r in load_regions().items() if r.level == "city"]
LABELS = {f"status.{s}": s for s in STATUS_COLOURS} | {"no_data": "none"}


@pytest.fixture(scope="module")
def fixture_file(tmp_path_factory):
    return build_fixture(tmp_path_factory.mktemp("geo"))


def test_build_dissolves_counties_to_the_21_cities_without_gaps(fixture_file, tmp_path):
    shapely = pytest.importorskip("shapely")
    from shapely.geometry import shape

    b = load_boundaries(fixture_file)
    assert b is not None
    assert list(b.cities) == CITIES
    doc = json.loads(fixture_file.read_text(encoding="utf-8"))
    geoms = {f["properties"]["code"]: shape(f["geometry"]) for f in doc["features"]}
    # each synthetic city is four 0.5° counties = 1 deg²; the simplification moves the jagged edge
    # by at most ~0.001°, so each area stays within 1 %
    for code, g in geoms.items():
        assert g.area == pytest.approx(1.0, rel=0.01), code
    # one coverage: no overlaps (the union's area is the sum) and no gaps inside the blocks
    union = shapely.union_all(list(geoms.values()))
    assert union.area == pytest.approx(sum(g.area for g in geoms.values()), rel=1e-9)
    src = json.loads(county_source(tmp_path / "c.geojson").read_text())
    n_in = sum(len(f["geometry"]["coordinates"][0]) for f in src["features"])
    n_out = sum(len(r) for f in doc["features"] for p in ([f["geometry"]["coordinates"]]
                if f["geometry"]["type"] == "Polygon" else f["geometry"]["coordinates"]) for r in p)
    assert n_out < n_in / 2  # dissolved and simplified
    assert fixture_file.stat().st_size < 300_000
    meta = sidecar_of(fixture_file).read_text(encoding="utf-8")
    assert "coverage_simplify" in meta
    assert "first four digits" in meta
    assert "source_sha256" in meta
    # the label point lies inside its city
    from shapely.geometry import Point

    for code, shp in b.cities.items():
        assert geoms[code].contains(Point(*shp.label)), code


def test_a_file_of_unknown_origin_or_incomplete_is_refused(fixture_file, tmp_path):
    geo = tmp_path / "b.geojson"
    geo.write_text(fixture_file.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(CatalogError, match="no metadata sidecar"):
        load_boundaries(geo)
    side = sidecar_of(geo)
    for key in REQUIRED_META:
        meta = {k: "x" for k in REQUIRED_META if k != key}
        side.write_text(json.dumps(meta), encoding="utf-8")  # JSON is YAML
        with pytest.raises(CatalogError, match=f"missing metadata {key}"):
            load_boundaries(geo)
    side.write_text(json.dumps({k: "x" for k in REQUIRED_META}), encoding="utf-8")
    assert load_boundaries(geo) is not None
    doc = json.loads(geo.read_text(encoding="utf-8"))
    doc["features"] = doc["features"][1:]
    geo.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(CatalogError, match=f"no boundary for {CITIES[0]}"):
        load_boundaries(geo)
    doc["features"][0]["properties"]["code"] = "GD-XX"
    geo.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(CatalogError, match=r"feature 0: .*GD-XX"):
        load_boundaries(geo)
    doc = json.loads(fixture_file.read_text(encoding="utf-8"))
    doc["features"][3]["geometry"] = {"type": "Point", "coordinates": [113, 23]}
    geo.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(CatalogError, match=r"feature 3 .*Polygon or MultiPolygon"):
        load_boundaries(geo)
    with pytest.raises(CatalogError, match="not found"):
        load_boundaries(tmp_path / "none.geojson")


def test_projection_keeps_north_up_and_proportions(fixture_file):
    b = load_boundaries(fixture_file)
    project, height = projector(b, width=800, pad=0)
    (x0, y0), (x1, y1) = project(110, 25), project(118, 21)
    assert (x0, y0) == pytest.approx((0, 0))
    assert x1 == pytest.approx(800)
    # 8° of longitude by 4° of latitude at 23° N: height/width = 4 / (8 cos 23°)
    import math

    assert height / 800 == pytest.approx(4 / (8 * math.cos(math.radians(23))), rel=1e-6)
    assert y1 == pytest.approx(height)
    d = svg_path(b.cities["GD-GZ"].polygons, project)
    assert d.startswith("M")
    assert d.endswith("Z")
    assert "NaN" not in d


def test_boundary_map_colours_every_city(fixture_file):
    b = load_boundaries(fixture_file)
    rows = [{"code": c, "name": c, "status": "no_data", "emissions": (i + 1) * 1e6, "intensity": None}
            for i, c in enumerate(CITIES)]
    m = boundary_map(rows, "emissions", LABELS, b)
    assert m["kind"] == "boundaries"
    assert len(m["areas"]) == 21
    fills = [a["fill"] for a in m["areas"]]
    assert fills[0] == RAMP[0]
    assert fills[-1] == RAMP[-1]
    assert all(a["d"] for a in m["areas"])
    assert m["boundary_meta"]["attribution"] == "carbonpeak tests"
    assert min(a["lx"] for a in m["areas"]) > 0
    assert max(a["lx"] for a in m["areas"]) < m["width"]


@pytest.fixture(scope="module")
def geo_site(tmp_path_factory, fixture_file):
    """The bundled demo data (loaded as demo: the pages say so) and one user per role."""
    from carbonpeak.store import Store
    from carbonpeak.workflows.demo import load_demo

    store = Store(db_location(tmp_path_factory.mktemp("geo-pages") / "geo.duckdb"))
    load_demo(store)
    users = {"admin": dict(role="admin"), "analyst": dict(role="province_analyst"),
             "gz_officer": dict(role="city_officer", city="GD-GZ"),
             "ent": dict(role="enterprise", enterprise_id="91440000TEST00001X"),
             "verifier": dict(role="verifier", assigned=["91440000TEST00001X"])}
    seed_users(store, users)
    with serve_in_thread(store, map_boundaries=fixture_file) as url:
        yield url, users
    store.close()


VIEWERS = ["admin", "analyst", "gz_officer"]


@pytest.mark.browser
@pytest.mark.service
@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("user", VIEWERS)
def test_boundary_map_page(geo_site, browser, user, lang):
    base, _ = geo_site
    SHOTS.mkdir(parents=True, exist_ok=True)
    ctx, page = login(browser, base, user, lang)
    try:
        resp = page.goto(f"{base}/map")
        assert resp is not None
        assert resp.status == 200
        areas = page.locator("#city-map[data-kind='boundaries'] .map-area")
        assert areas.count() == 21
        assert page.locator("#city-map .map-tile").count() == 0  # the tiles only without a boundary file
        assert page.locator("#city-map .map-label").count() == 21
        note = page.locator("#map-note").inner_text()
        assert ("示意图" if lang == "zh" else "Schematic map") in note
        assert "carbonpeak tests" in note
        assert "test only" in note
        assert "审图号" in note
        # this store holds the bundled demo data: the map says so, beside the page's banner
        assert page.locator("#data-banner.demo").count() == 1
        assert page.locator("#map-demo").inner_text() == ("示范数据" if lang == "zh" else "demo data")
        # the accessible fallback: a table of the same values
        assert page.locator("#map-table tbody tr").count() == 21
        page.select_option("#map-indicator", "emissions")
        page.click("#map-show")
        page.locator("#city-map[data-indicator='emissions']").wait_for()
        fills = page.locator("#city-map .map-area").evaluate_all("els => els.map(e => e.dataset.fill)")
        assert len(set(fills) & set(RAMP)) >= 3
        legend = page.locator("#map-legend").inner_text()
        assert ("万吨" if lang == "zh" else "10⁴ t") in legend
        assert page.locator("#map-legend li").count() == len(RAMP) + 1
        header = page.locator("#map-table thead").inner_text()
        assert ("万吨" if lang == "zh" else "10⁴ t") in header
        # each area has a tooltip with the name, the value and the unit
        tip = page.locator("#city-map .map-area[data-code='GD-SZ'] title").text_content()
        assert ("深圳市" if lang == "zh" else "Shenzhen") in tip
        if user == "gz_officer":
            own = page.locator("#city-map .map-area[data-code='GD-GZ'] path")
            assert own.get_attribute("stroke-width") == "3"
        page.screenshot(path=str(SHOTS / f"map-boundaries-{user}-{lang}.png"), full_page=True)
        target = "GD-GZ"
        page.locator(f"#city-map .map-area[data-code='{target}']").click()
        page.wait_for_url(f"{base}/cities/{target}")
        assert ("广州市" if lang == "zh" else "Guangzhou") in page.locator("main h1").inner_text()
    finally:
        ctx.close()


@pytest.mark.browser
@pytest.mark.service
@pytest.mark.parametrize("user", ["ent", "verifier"])
def test_roles_without_the_map_are_refused(geo_site, browser, user):
    base, _ = geo_site
    ctx, page = login(browser, base, user, "en")
    try:
        resp = page.goto(f"{base}/map")
        assert resp is not None
        assert resp.status == 403
        assert page.locator("#city-map").count() == 0
    finally:
        ctx.close()


def test_an_unusable_file_falls_back_to_the_tiles_and_says_why(tmp_path, fixture_file):
    from carbonpeak.store import Store
    from carbonpeak.web.data import city_map

    bad = tmp_path / "bad.geojson"
    bad.write_text(fixture_file.read_text(encoding="utf-8"), encoding="utf-8")  # no sidecar
    store = Store(db_location(tmp_path / "empty.duckdb"))
    try:
        m = city_map(store, "en", "emissions", bad)
        assert m["kind"] == "tiles"
        assert len(m["tiles"]) == 21
        assert "no metadata sidecar" in m["geo_error"]
        ok = city_map(store, "en", "emissions", fixture_file)
        assert ok["kind"] == "boundaries"
        assert ok["geo_error"] is None
        assert len(ok["table"]) == 21
        assert {r["value"] for r in ok["table"]} == {"no data yet"}
        none = city_map(store, "zh", "status", None)  # no package file ships: the tiles
        assert none["kind"] == "tiles"
        assert none["geo_error"] is None
    finally:
        store.close()


def test_projection_and_classes_invariants(fixture_file):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from carbonpeak.web.citymap import classify

    b = load_boundaries(fixture_file)
    x0, y0, x1, y1 = b.bbox()
    project, height = projector(b, width=700, pad=10)
    lon = st.floats(x0, x1, allow_nan=False)
    lat = st.floats(y0, y1, allow_nan=False)
    values = st.lists(st.one_of(st.none(), st.floats(0, 1e9, allow_nan=False)), min_size=21, max_size=21)

    @settings(max_examples=200, deadline=None)
    @given(lon, lat, lon, lat, values)
    def check(a_lon, a_lat, b_lon, b_lat, vals):
        (ax, ay), (bx, by) = project(a_lon, a_lat), project(b_lon, b_lat)
        assert 10 - 1e-6 <= ax <= 690 + 1e-6
        assert 10 - 1e-6 <= ay <= height - 10 + 1e-6
        if a_lon < b_lon:
            assert ax <= bx  # east is right
        if a_lat < b_lat:
            assert ay >= by  # north is up
        rows = [{"code": c, "name": c, "status": "no_data", "emissions": v, "intensity": None}
                for c, v in zip(CITIES, vals, strict=True)]
        _, colours, legend = classify(rows, "emissions", LABELS)
        fills = {e["fill"] for e in legend}
        assert all(colours[c][0] in fills for c in CITIES)  # every city's colour is in the legend
        known = sorted(v for v in vals if v is not None)
        for r in rows:  # a larger value never gets a lighter class
            for s in rows:
                if r["emissions"] is not None and s["emissions"] is not None and r["emissions"] < s["emissions"]:
                    assert RAMP.index(colours[r["code"]][0]) <= RAMP.index(colours[s["code"]][0])
        assert len(known) == sum(colours[c][0] in RAMP for c in CITIES)

    check()


def test_label_point_without_one_in_the_file_is_the_largest_parts_centroid(fixture_file, tmp_path):
    doc = json.loads(fixture_file.read_text(encoding="utf-8"))
    for f in doc["features"]:
        f["properties"].pop("label")
    gz = next(f for f in doc["features"] if f["properties"]["code"] == "GD-GZ")
    # Guangzhou as two parts: the 1° block (114–115° E, 23–24° N) and a small island south of it
    block = [[114, 23], [115, 23], [115, 24], [114, 24], [114, 23]]
    island = [[114.4, 22.6], [114.5, 22.6], [114.5, 22.7], [114.4, 22.7], [114.4, 22.6]]
    gz["geometry"] = {"type": "MultiPolygon", "coordinates": [[island], [block[::-1]]]}  # either winding
    geo = tmp_path / "nolabel.geojson"
    geo.write_text(json.dumps(doc), encoding="utf-8")
    sidecar_of(geo).write_text(sidecar_of(fixture_file).read_text(encoding="utf-8"), encoding="utf-8")
    b = load_boundaries(geo)
    assert b.cities["GD-GZ"].label == pytest.approx((114.5, 23.5))
    assert len(b.cities["GD-GZ"].polygons) == 2
