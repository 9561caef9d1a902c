"""The carbon-sink account (forest, blue carbon) and ``carbonpeak sinks``."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.accounting.aw_helpers import act, factors
from typer.testing import CliRunner

from carbonpeak.accounting.engine import compile_inventory
from carbonpeak.accounting.sinks import ACCOUNT_COLUMNS, sink_account, sink_summary
from carbonpeak.cli import app

C2CO2 = 44 / 12

ROWS = [
    (2019, "GD", "3.B.1.a", "chinese_fir", 1_000_000.0, "m3"),
    (2020, "GD", "3.B.1.a", "chinese_fir", 1_010_000.0, "m3"),
    (2020, "GD", "3.B.4.a.i", "mangrove", 1000.0, "ha"),
    (2020, "GD-ZJ", "3.B.4.a.iii", "seagrass", 500.0, "ha"),
    (2020, "GD", "3.B.2.b", "forest_to_cropland", 10.0, "ha"),
    (2020, "GD", "3.A.1", "swine", 1000.0, "head"),
]
FOREST_2020 = 10_000 * 0.307 * 1.634 * 1.246 * 0.5 * C2CO2


def _results() -> pd.DataFrame:
    from tests.accounting.aw_helpers import ov

    fs = factors([ov("land_forest", "biomass_c_stock", 50.0, "t/ha", category="3.B")])
    return compile_inventory(act(ROWS), fs).results


def test_account_by_ecosystem_positive_removals() -> None:
    acc = sink_account(_results())
    assert tuple(acc.columns) == ACCOUNT_COLUMNS
    get = acc.set_index(["year", "region", "ecosystem"])["removals_tco2"]
    assert get[(2020, "GD", "forest")] == pytest.approx(FOREST_2020)
    assert get[(2020, "GD", "mangrove")] == pytest.approx(1000 * 1.62 * C2CO2)
    assert get[(2020, "GD-ZJ", "seagrass")] == pytest.approx(500 * 0.43 * C2CO2)
    # deforestation is a net source: negative removal, counted as gross emission
    luc = acc[acc.ecosystem == "land_use_change"].iloc[0]
    assert luc.removals_tco2 == pytest.approx(-10 * (50 - 5) * C2CO2)
    assert luc.gross_emissions_tco2 == pytest.approx(10 * (50 - 5) * C2CO2)
    assert luc.gross_removals_tco2 == 0
    assert set(acc.loc[acc.blue_carbon, "ecosystem"]) == {"mangrove", "seagrass"}
    assert "swine" not in set(acc.ecosystem)  # agriculture is no sink


def test_summary_json_keys_and_consistency() -> None:
    res = _results()
    s = sink_summary(res, year=2020)
    assert s["total_removals_tco2"] == pytest.approx(s["forest_tco2"] + s["blue_carbon_tco2"] + s["other_tco2"])
    assert s["blue_carbon_tco2"] == pytest.approx((1000 * 1.62 + 500 * 0.43) * C2CO2)
    assert s["by_region"]["GD-ZJ"] == pytest.approx(500 * 0.43 * C2CO2)
    assert s["by_year"]["2020"]["total"] == pytest.approx(s["total_removals_tco2"])
    # the engine's own removals equal the gross removals of the account (same rows, opposite sign)
    acc = sink_account(res)
    terr = res[(res.scope == "territorial") & res.category.str.startswith("3.B") & (res.mass_t < 0)]
    assert acc.gross_removals_tco2.sum() == pytest.approx(-terr.mass_t.sum())


@settings(max_examples=12, deadline=None)
@given(areas=st.lists(st.floats(0, 1e5), min_size=1, max_size=6))
def test_account_is_invariant_to_row_order_and_additive(areas: list[float]) -> None:
    rows = [(2020, "GD", "3.B.4.a.ii", "salt_marsh", a, "ha") if i % 2 else (2020, "GD", "3.B.4.a.iii", "seagrass", a, "ha")
            for i, a in enumerate(areas)]
    rows = [(y, f"GD-{c}", cat, it, a, u) for (y, _r, cat, it, a, u), c in zip(rows, ["GZ", "SZ", "ZH", "ST", "FS", "SG"], strict=False)]
    fwd = sink_summary(compile_inventory(act(rows), factors()).results)
    rev = sink_summary(compile_inventory(act(rows[::-1]), factors()).results)
    assert fwd["total_removals_tco2"] == pytest.approx(rev["total_removals_tco2"], abs=1e-6)
    expected = sum(a * (0.91 if i % 2 else 0.43) for i, a in enumerate(areas)) * C2CO2
    assert fwd["total_removals_tco2"] == pytest.approx(expected, rel=1e-9, abs=1e-6)


def test_empty_and_bad_input() -> None:
    empty = sink_account(_results().iloc[0:0])
    assert list(empty.columns) == list(ACCOUNT_COLUMNS)
    assert len(empty) == 0
    assert sink_summary(_results().iloc[0:0])["total_removals_tco2"] == 0.0
    with pytest.raises(ValueError, match="lack columns"):
        sink_account(pd.DataFrame({"year": [2020]}))


def _write(tmp_path: Path) -> tuple[Path, Path]:
    f = tmp_path / "act.csv"
    act(ROWS).to_csv(f, index=False)
    fac = tmp_path / "forest.csv"
    fac.write_text("item,parameter,value,unit,category,source,status\n"
                   "land_forest,biomass_c_stock,50,t/ha,3.B,test fixture,synthetic\n", encoding="utf-8")
    return f, fac


def test_cli_sinks_json_and_csv(tmp_path: Path) -> None:
    f, fac = _write(tmp_path)
    runner = CliRunner()
    r = runner.invoke(app, ["sinks", str(f), "--factors", str(fac), "--year", "2020", "--format", "json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["by_ecosystem"]["forest"] == pytest.approx(FOREST_2020)
    r2 = runner.invoke(app, ["inventory", "sinks", str(f), "--factors", str(fac), "--format", "csv"])
    assert r2.exit_code == 0, r2.output
    assert r2.stdout.splitlines()[0] == ",".join(ACCOUNT_COLUMNS)
    r3 = runner.invoke(app, ["sinks", str(f), "--factors", str(fac)])
    assert r3.exit_code == 0
    assert "mangrove" in r3.stdout


def test_cli_sinks_reports_missing_factor_as_error(tmp_path: Path) -> None:
    from carbonpeak.cli import main

    f, _ = _write(tmp_path)
    assert main(["sinks", str(f)]) == 2  # land_forest biomass is not shipped: clean error, exit 2
