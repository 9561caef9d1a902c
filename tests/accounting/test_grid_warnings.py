"""Grid factors used for years they do not cover are flagged (issue 13 §1).

Imported electricity of 2015 with the packaged catalog: no average factor of the southern grid is
published for 2015, so the closest published year is used and the inventory says so, in the
summary's ``warnings`` / ``data_warnings`` and in ``explain``.  A covered year (2021, MEE & NBS
公告2024年第12号: 南方 0.4326) raises no warning.
"""

from __future__ import annotations

import pandas as pd
import pytest

from carbonpeak.accounting.engine import compile_inventory
from carbonpeak.model.activity import validate_activity


def _act() -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "year": ["2015", "2021"],
            "region": ["GD", "GD"],
            "category": ["M.ELEC", "M.ELEC"],
            "item": ["electricity", "electricity"],
            "amount": ["1000", "1000"],
            "unit": ["MWh", "MWh"],
        }
    )
    df["__file__"] = "elec.csv"
    df["__row__"] = [2, 3]
    return validate_activity(df)


def test_uncovered_year_warns_in_summary_and_explain() -> None:
    inv = compile_inventory(_act())
    s15 = inv.summary(year=2015)
    codes = [w["code"] for w in s15["data_warnings"]]
    assert codes == ["grid_factor_year_not_covered"]
    assert s15["data_warnings"][0]["factor_year"] == 2012
    assert any("2015" in w and "China Southern Grid" in w for w in s15["warnings"])
    # the zh text names the grid, the factor series and the category by their catalog names (issue 12)
    zh = s15["warnings"][0].render("zh")
    assert zh.startswith("南方区域电网没有公布2015年的排放因子(生态环境部、国家统计局电力平均二氧化碳排放因子)")
    assert "净调入电力间接排放" in zh
    assert "south" not in zh
    assert "mee_nbs" not in zh
    assert s15["data_warnings"][0]["grid"] == "south"  # the id stays for machines
    ex = inv.explain("M.ELEC", year=2015)
    assert "2012" in ex["rows"][0]["explain"]["warning"]
    r = inv.results
    mass15 = float(r.loc[r.year == 2015, "mass_t"].sum())
    assert mass15 == pytest.approx(1000 * 0.5271)


def test_covered_year_has_no_warning() -> None:
    inv = compile_inventory(_act())
    s21 = inv.summary(year=2021)
    assert s21["data_warnings"] == []
    assert inv.explain("M.ELEC", year=2021)["rows"][0]["explain"]["warning"] is None
    assert float(inv.results.loc[inv.results.year == 2021, "mass_t"].sum()) == pytest.approx(432.6)


def test_warning_reaches_the_report_table() -> None:
    from carbonpeak.reports.assessment import _inventory

    act = pd.concat([_act(), _act().assign(category="1.A.4.b", item="raw_coal", unit="t", __row__=[4, 5])])
    inv = compile_inventory(validate_activity(act.reset_index(drop=True)))
    frame = inv.select(explain=False)
    assert frame.attrs["data_warnings"][0]["year"] == 2015
    assert inv.export(year=2015).attrs["data_warnings"][0]["code"] == "grid_factor_year_not_covered"
    tab = _inventory(frame, "GD", "AR5")
    assert len(tab["warnings"]) == 1
    assert "2015" in tab["warnings"][0]
