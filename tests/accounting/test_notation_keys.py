"""Missing is not zero (issue 13 §1): IPCC notation keys NE/NO in results, totals, changes,
key categories and exports.

The case of the issue: the forest sink is a stock difference (IPCC 2006 Vol 4 Ch 2 Eq 2.8), so
the first year of stock data (2015) has no estimate.  2015 must read NE, not 0: its total is
flagged incomplete and the 2015→2016 change of net emissions leaves the forest out instead of
inventing a drop; the forest does not become a trend key category.
"""

from __future__ import annotations

import pandas as pd
import pytest
from tests.accounting.aw_helpers import act, factors, ov

from carbonpeak.accounting.engine import compile_inventory
from carbonpeak.accounting.keycategory import key_categories
from carbonpeak.accounting.notation import declared, infer_not_estimated
from carbonpeak.errors import ValidationError

ROWS = [
    (2015, "GD", "3.A.1", "swine", 1_000_000.0, "head"),
    (2016, "GD", "3.A.1", "swine", 1_000_000.0, "head"),
    (2015, "GD", "3.B.1.a", "chinese_fir", 1_000_000.0, "m3"),
    (2016, "GD", "3.B.1.a", "chinese_fir", 1_010_000.0, "m3"),
]


def _inv(**kw):  # type: ignore[no-untyped-def]
    fs = factors([ov("land_forest", "biomass_c_stock", 50.0, "t/ha", category="3.B")])
    return compile_inventory(act(ROWS), fs, **kw)


def test_forest_2015_is_ne_and_the_total_is_flagged() -> None:
    inv = _inv()
    keys = inv.notation_keys(2015)
    forest = keys[keys.category == "3.B.1.a"]
    assert len(forest) == 1
    assert forest.iloc[0]["key"] == "NE"
    s15 = inv.summary(year=2015)
    assert s15["complete"] is False
    assert s15["total_flag"] == "NE"
    assert any("incomplete" in w and "3.B.1.a" in w for w in s15["warnings"])
    s16 = inv.summary(year=2016)
    assert s16["complete"] is True
    assert s16["total_flag"] is None
    t = inv.totals(by=("year", "region"))
    assert t.set_index("year").loc[2015, "notation"] == "NE"
    assert t.set_index("year").loc[2016, "notation"] == ""
    by_cat = inv.totals(by=("year", "category")).set_index(["year", "category"])
    assert by_cat.loc[(2015, "3.B.1.a"), "notation"] == "NE"
    assert pd.isna(by_cat.loc[(2015, "3.B.1.a"), "co2e_t"])  # not 0


def test_change_2015_2016_is_not_invented() -> None:
    inv = _inv()
    ch = inv.change(2015, 2016, region="GD")
    assert ch["complete"] is False
    assert [e["category"] for e in ch["excluded"]] == ["3.B.1.a"]
    # swine CH4 is the same in both years: the comparable change is zero ...
    assert ch["change_co2e_t"] == pytest.approx(0.0, abs=1e-9)
    # ... whereas reading NE as 0 would have made the 2016 sink a drop in net emissions
    assert ch["reported_co2e_t"] < ch["reported_base_co2e_t"]


def test_ne_year_makes_no_trend_key_category() -> None:
    inv = _inv()
    kc = key_categories(inv.results, 2016, 2015, notation=inv.notation_keys()).set_index("category")
    assert kc.loc["3.B.1.a", "notation"] == "NE 2015"
    assert not kc.loc["3.B.1.a", "key_trend"]


def test_declared_no_counts_as_zero_and_wins_over_inferred() -> None:
    inv = _inv(notation_keys=[{"year": 2015, "region": "GD", "category": "3.B.1.a", "key": "NO"}])
    keys = inv.notation_keys(2015)
    assert keys.set_index("category").loc["3.B.1.a", "key"] == "NO"
    assert inv.summary(year=2015)["complete"] is True
    ch = inv.change(2015, 2016, region="GD")
    assert ch["complete"] is True
    assert ch["change_co2e_t"] < 0  # a real new sink


def test_bad_declared_key_names_row_and_field() -> None:
    with pytest.raises(ValidationError, match="key"):
        declared([{"year": 2015, "region": "GD", "category": "3.B.1.a", "key": "ZERO"}])


def test_inference_needs_another_year() -> None:
    one = pd.DataFrame([{"year": 2015, "region": "GD", "category": "1.A.1", "gas": "CO2"}])
    assert infer_not_estimated(one).empty


def test_export_has_notation_rows_not_zeros() -> None:
    inv = _inv()
    ex = inv.export(year=2015)
    ne = ex[ex.notation == "NE"]
    assert list(ne.category) == ["3.B.1.a"]
    assert ne["co2e_t"].isna().all()
    assert (ex.loc[ex.notation == "", "co2e_t"].notna()).all()


def test_report_shows_ne_instead_of_zero() -> None:
    from carbonpeak.reports.assessment import _inventory

    inv = _inv()
    tab = _inventory(inv.select(explain=False), "GD", "AR5")
    y = tab["years"].index(2015)
    assert tab["rows"]["lulucf"][y] is None  # rendered "NE", not 0
    assert tab["total_flags"][y] is True
    assert tab["not_estimated"][2015] == ["3.B.1.a"]
    assert tab["total_flags"][tab["years"].index(2016)] is False


FOREST_CSV = (
    "year,region,category,item,amount,unit\n"
    "2015,GD,3.A.1,swine,1000000,head\n"
    "2016,GD,3.A.1,swine,1000000,head\n"
    "2016,GD,3.B.4.a.i,mangrove,1000,ha\n"
)


def test_cli_notation_file_and_csv_export(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import io
    import json

    from typer.testing import CliRunner

    from carbonpeak.cli import app

    act_file = tmp_path / "act.csv"
    act_file.write_text(FOREST_CSV, encoding="utf-8")
    runner = CliRunner()
    r = runner.invoke(app, ["inventory", "compile", str(act_file), "--year", "2015", "-f", "json"])
    assert r.exit_code == 0, r.output
    s = json.loads(r.output)
    assert s["total_flag"] == "NE"
    r = runner.invoke(app, ["inventory", "compile", str(act_file), "-f", "csv", "--detail"])
    assert r.exit_code == 0, r.output
    csv = pd.read_csv(io.StringIO(r.output), keep_default_na=False)
    ne = csv[csv.notation == "NE"]
    assert list(ne.category) == ["3.B.4.a.i"]
    assert (ne.co2e_t == "").all()  # exported empty, not 0
    keys = tmp_path / "keys.csv"
    keys.write_text("year,region,category,key,note\n2015,GD,3.B.4.a.i,NO,no mangrove restoration yet\n")
    r = runner.invoke(
        app, ["inventory", "compile", str(act_file), "--year", "2015", "--notation", str(keys), "-f", "json"]
    )
    assert r.exit_code == 0, r.output
    s = json.loads(r.output)
    assert s["complete"] is True
    assert s["notation_keys"][0]["key"] == "NO"
    bad = tmp_path / "bad.csv"
    bad.write_text("year,region,category,key\n2015,GD,3.B.4.a.i,ZERO\n")
    r = runner.invoke(app, ["inventory", "compile", str(act_file), "--notation", str(bad)])
    assert r.exit_code != 0
    assert isinstance(r.exception, ValidationError)
    (p,) = r.exception.problems
    assert (p.file.endswith("bad.csv"), p.row, p.field) == (True, 2, "key")


def test_trend_uncertainty_leaves_ne_out() -> None:
    """IPCC 2006 Vol 1 Ch 3 Table 3.2 trend over comparable categories: the NE forest of 2015 is
    neither a −100 % drop nor counted; swine CH4 is constant, so the trend is 0 %."""
    from carbonpeak.accounting.uncertainty import approach1_trend

    inv = _inv()
    tu = approach1_trend(inv.results, 2015, 2016, region="GD", notation=inv.notation_keys(region="GD"))
    assert tu.trend_pct == pytest.approx(0.0, abs=1e-9)
    ne = tu.table[tu.table.notation != ""]
    assert list(ne.category) == ["3.B.1.a"]
    assert list(ne.notation) == ["NE 2015"]
    # declared NO: the sink is a real change and enters the trend
    no = pd.DataFrame([{"year": 2015, "region": "GD", "category": "3.B.1.a", "gas": "", "key": "NO"}])
    assert approach1_trend(inv.results, 2015, 2016, region="GD", notation=no).trend_pct < 0
