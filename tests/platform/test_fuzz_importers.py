"""Fuzz the file importers with hypothesis (issue 6 §5): any file either imports whole or is
refused with a ValidationError naming file/row/field; never another exception, never a
partial write.

Files are built from a valid template row whose cells are replaced by arbitrary text
(unicode, numbers in odd spellings, empty cells, commas and quotes), with columns dropped or
renamed at random.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.stores import db_location

from carbonpeak.errors import ValidationError
from carbonpeak.store import Store

pytestmark = pytest.mark.slow

CELL = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "",
            " ",
            "NaN",
            "inf",
            "-1",
            "1e400",
            "2020.5",
            "1,000",
            "万吨",
            "t",
            "GD",
            "GD-XX",
            "2025-13-01T00:00:00+08:00",
            "null",
            "'",
            '"',
            "\\",
            "0x10",
        ]
    ),
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)

ACTIVITY = {
    "year": "2020",
    "region": "GD",
    "category": "1.A.1.a",
    "item": "natural_gas",
    "amount": "100",
    "unit": "10^4 Nm3",
    "source": "fuzz",
}
OBS = {
    "indicator": "population",
    "region": "GD",
    "year": "2020",
    "value": "12601",
    "unit": "10^4 person",
    "source": "fuzz",
}
READINGS = {"meter_id": "M1", "ts": "2025-01-01T00:00:00+08:00", "value": "1.0"}


@st.composite
def table(draw, template):
    cols = list(template)
    if draw(st.booleans()):
        drop = draw(st.sampled_from(cols))
        cols = [c for c in cols if c != drop]
    if draw(st.integers(0, 9)) == 0:
        cols.append(draw(st.text(min_size=1, max_size=8)))
    n = draw(st.integers(1, 4))
    rows = []
    for _ in range(n):
        row = {c: template.get(c, "x") for c in cols}
        for c in draw(st.lists(st.sampled_from(cols), max_size=3)):
            row[c] = draw(CELL)
        rows.append(row)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols)
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


def _write(tmp: Path, name: str, text: str) -> Path:
    p = tmp / name
    p.write_text(text, encoding="utf-8")
    return p


@SETTINGS
@given(text=table(ACTIVITY))
def test_activity_import_is_all_or_nothing(tmp_path_factory, text):
    from carbonpeak.model.activity import load_activity

    tmp = tmp_path_factory.mktemp("a")
    p = _write(tmp, "act.csv", text)
    store = Store(db_location(tmp / "s.duckdb"))
    try:
        act, problems = None, []
        try:
            act = load_activity([p])
        except ValidationError as exc:
            problems = exc.problems
        if act is None:
            assert problems
            assert all(pr.file.endswith("act.csv") for pr in problems)
            assert store.query("SELECT count(*) n FROM activity")["n"][0] == 0
            return
        assert act["amount"].map(math.isfinite).all()  # inf, nan, 1e309 never get through
        r = store.import_frame("activity", act, kind="activity", source=str(p))
        assert store.query("SELECT count(*) n FROM activity")["n"][0] == r.rows == len(act)
        again = store.import_frame("activity", act, kind="activity", source=str(p))
        assert not again.created
    finally:
        store.close()


@SETTINGS
@given(text=table(OBS))
def test_observation_import_never_crashes(tmp_path_factory, text):
    from carbonpeak.model.observation import load_observations

    p = _write(tmp_path_factory.mktemp("o"), "obs.csv", text)
    df, problems = None, []
    try:
        df = load_observations([p])
    except ValidationError as exc:
        problems = exc.problems
    assert (df is not None and len(df) >= 1) or problems
    if df is not None:
        assert df["value"].map(math.isfinite).all()


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    from fastapi.testclient import TestClient
    from tests.platform.conftest import seed_registry

    from carbonpeak.api import create_app
    from carbonpeak.store.users import add_user

    store = Store(db_location(tmp_path_factory.mktemp("r") / "s.duckdb"))
    add_user(store, "ent", "correct horse battery", "enterprise", enterprise_id="E1")
    seed_registry(store, {"U1": ("E1", "GD-GZ", ("M1",))})
    # server exceptions become real 500 answers here, and a 500 fails the test below
    with TestClient(create_app(store), raise_server_exceptions=False) as c:
        tok = c.post("/api/auth/login", json={"username": "ent", "password": "correct horse battery"}).json()[
            "token"
        ]
        c.cookies.clear()
        yield c, store, {"Authorization": f"Bearer {tok}"}
    store.close()


@SETTINGS
@given(text=table(READINGS), month=st.integers(1, 12))
def test_readings_upload_never_500(service, text, month):
    """Through the service: 201 or a 4xx with problems; the submissions table never half-written."""
    c, store, h = service
    before = store.query("SELECT count(*) n FROM submissions")["n"][0]
    r = c.post(
        "/api/submissions",
        headers=h,
        data={"kind": "readings", "period": f"2025-{month:02d}"},
        files={"file": ("r.csv", text.encode(), "text/csv")},
    )
    assert r.status_code != 500, r.text
    assert r.status_code in (201, 422), r.text
    after = store.query("SELECT count(*) n FROM submissions")["n"][0]
    if r.status_code == 422:
        assert r.json()["problems"]
        assert after == before
    else:
        assert after == before + (1 if r.json()["created"] else 0)
