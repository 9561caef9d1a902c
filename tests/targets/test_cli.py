"""CLI: targets list/show, assess (JSON keys), dualcontrol, decompose-target, demo."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from tests.stores import db_location

from carbonpeak.cli import main
from carbonpeak.demo import demo_files


def _json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def small_activity(tmp_path_factory):
    """Province rows of two years and city rows of 2019 from the bundled demo activity."""
    d = tmp_path_factory.mktemp("act")
    frames = [pd.read_csv(f, dtype=str, keep_default_na=False) for f in demo_files("activity")]
    prov = pd.concat(frames)
    prov = prov[prov["year"].isin(["2015", "2019"])]
    prov.to_csv(d / "prov.csv", index=False)
    cities = [f for f in demo_files("activity_cities") if "2019" in f.name]
    paths = [d / "prov.csv", *cities]
    return paths


def test_targets_list_and_show(capsys):
    data = _json(capsys, ["targets", "list", "--format", "json"])
    assert len(data) >= 58
    assert {"id", "unit", "comparator", "target_value", "sentence"} <= set(data[0])
    one = _json(capsys, ["targets", "show", "new_type_storage_2025", "--format", "json"])
    assert one["target_value"] == 200
    assert one["unit"] == "万kW"
    assert main(["targets", "show", "nope"]) == 2


def test_assess_json_and_report(capsys, tmp_path, small_activity):
    args = ["assess", "--year", "2019", "--no-outlook", "--format", "json"]
    for f in small_activity:
        args += ["--activity", str(f)]
    for f in demo_files("observations"):
        args += ["--observations", str(f)]
    a = _json(capsys, [*args, "--out", str(tmp_path), "--lang", "both", "--no-pdf"])
    by = {d["id"]: d for d in a["targets"]}
    assert {"id", "status", "value", "target", "gap"} <= set(a["targets"][0])
    assert by["co2_intensity_13fyp_gd"]["status"] in ("on_track", "at_risk", "off_track")
    assert by["peak_before_2030"]["status"] == "no_data"  # no outlook requested
    assert (tmp_path / "assessment-2019-zh.html").exists()
    assert (tmp_path / "assessment-2019-en.html").exists()
    assert len(a["cities"]["decompositions"]) == 2


def test_dualcontrol_and_decompose_target(capsys, small_activity):
    base = []
    for f in small_activity:
        base += ["--activity", str(f)]
    for f in demo_files("observations"):
        base += ["--observations", str(f)]
    rows = _json(capsys, ["dualcontrol", "--year", "2019", *base, "--format", "json"])
    assert len(rows) == 22
    gd = next(r for r in rows if r["region"] == "GD")
    assert gd["co2_intensity_t_per_10k_yuan"] > 0
    d = _json(capsys, ["decompose-target", "co2_intensity_14fyp_national", *base, "--format", "json"])
    assert d["reduction_pct"] == 18.0
    for dec in d["decompositions"]:
        assert dec["check"]["implied_provincial_reduction_pct"] == pytest.approx(18.0)
        assert len(dec["cities"]) == 21


def test_assess_without_data_is_a_clear_error(tmp_path, capsys):
    assert main(["assess", "--year", "2023", "--db", str(tmp_path / "none.duckdb"), "--no-outlook"]) == 2
    assert "no data" in capsys.readouterr().err


@pytest.mark.slow
def test_demo_runs(tmp_path, capsys):
    out = tmp_path / "demo"
    data = _json(capsys, ["demo", "--out", str(out), "--no-pdf", "--draws", "50", "--format", "json"])
    assert sum(data["summary"].values()) >= 58
    assert (out / "assessment-2023-zh.html").exists()
    assert (out / "assessment-2023-en.html").exists()
    assert data["headline"]["co2_emissions"]["year"] == 2019


def test_store_observations_and_tier_override(capsys, tmp_path, small_activity):
    db = db_location(tmp_path / "s.duckdb")
    obs = [str(f) for f in demo_files("observations")]
    assert main(["observations", "import", *obs, "--db", str(db), "--format", "json"]) == 0
    capsys.readouterr()
    rows = _json(capsys, ["dualcontrol", "--year", "2023", "--db", str(db), "--format", "json"])
    gd = next(r for r in rows if r["region"] == "GD")
    assert gd["co2_emissions_10kt"] is None  # no activity in the store: no inventory, no emissions
    tiers = tmp_path / "tiers.csv"
    tiers.write_text("code,tier\nGD-ZJ,leading\n", encoding="utf-8")
    base = ["--db", str(db), "--tiers", str(tiers), "--format", "json"]
    for f in small_activity:
        base += ["--activity", str(f)]
    d = _json(capsys, ["decompose-target", "co2_intensity_14fyp_national", "--method", "optimise", *base])
    zj = next(c for c in d["decompositions"][0]["cities"] if c["region"] == "GD-ZJ")
    assert zj["tier"] == "leading"
    bad = tmp_path / "bad.csv"
    bad.write_text("code,tier\nGD-ZJ,fast\n", encoding="utf-8")
    assert main(["decompose-target", "--tiers", str(bad), "--db", str(db)]) == 2


def test_assess_lists_activity_sources(capsys, small_activity):
    args = ["assess", "--year", "2019", "--no-outlook", "--format", "json"]
    for f in small_activity:
        args += ["--activity", str(f)]
    for f in demo_files("observations"):
        args += ["--observations", str(f)]
    a = _json(capsys, args)
    kinds = {s["kind"] for s in a["sources"]}
    assert kinds == {"activity", "observations"}
    assert any(s["kind"] == "activity" and s["status"] == "estimate" for s in a["sources"])


def test_assess_save_is_idempotent(capsys, tmp_path):
    db = db_location(tmp_path / "a.duckdb")
    args = ["assess", "--year", "2023", "--no-outlook", "--db", str(db), "--save", "--format", "json"]
    for f in demo_files("observations"):
        args += ["--observations", str(f)]
    a1 = _json(capsys, args)
    a2 = _json(capsys, args)
    assert a1["assessment_id"] == a2["assessment_id"]
    from carbonpeak.store import Store

    with Store(db) as s:
        assert s.con.execute("select count(*) from assessments").fetchone()[0] == 1
