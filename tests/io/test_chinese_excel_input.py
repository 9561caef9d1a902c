"""Excel and Chinese input (issue 12): templates, Chinese headers and names, encodings, Excel/CSV out."""

from __future__ import annotations

import io
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from carbonpeak.cli import app
from carbonpeak.errors import ValidationError
from carbonpeak.io import read_table
from carbonpeak.io.aliases import canonical_header, lookup
from carbonpeak.io.export import BOM, csv_bytes, workbook
from carbonpeak.io.templates import kinds, template_xlsx
from carbonpeak.model.activity import load_activity
from carbonpeak.model.observation import load_observations

runner = CliRunner()

ZH_ACT = "年份,地区,部门,品种,数量,单位,来源\n2019,广州市,1.A.1.a,原煤,12.5,万吨,统计年鉴\n2019,深圳,1.A.2,焦炭,3,吨,x\n"


def test_chinese_headers_and_names_map_to_ids(tmp_path: Path) -> None:
    p = tmp_path / "a.csv"
    p.write_text(ZH_ACT, encoding="utf-8")
    df = load_activity(p)
    assert list(df["region"]) == ["GD-GZ", "GD-SZ"]
    assert list(df["item"]) == ["raw_coal", "coke"]
    assert list(df["year"]) == [2019, 2019]


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-8"])
def test_encodings_detected(tmp_path: Path, encoding: str) -> None:
    p = tmp_path / "a.csv"
    p.write_bytes(ZH_ACT.encode(encoding))
    df = load_activity(p)
    assert list(df["item"]) == ["raw_coal", "coke"]
    assert df["source"].iloc[0] == "统计年鉴"


def test_bad_bytes_named_by_row_and_field(tmp_path: Path) -> None:
    p = tmp_path / "bad.csv"
    # valid UTF-8 Chinese, then a byte sequence that is neither UTF-8 nor GB18030 in row 3, field "unit"
    p.write_bytes(ZH_ACT.encode("utf-8") + b"2019,GD,1.A.2,coke,3,\xff\xff\x00,y\n")
    with pytest.raises(ValidationError) as ei:
        load_activity(p)
    prob = ei.value.problems[0]
    assert prob.row == 4
    assert prob.field == "单位"
    assert "UTF-8" in prob.message
    assert "offset" not in prob.message


def test_unknown_chinese_name_is_reported_with_row_and_field(tmp_path: Path) -> None:
    p = tmp_path / "a.csv"
    p.write_text("年份,地区,部门,品种,数量,单位\n2019,广州市,1.A.1.a,不存在的煤,1,吨\n", encoding="gbk")
    with pytest.raises(ValidationError) as ei:
        load_activity(p)
    (prob,) = ei.value.problems
    assert (prob.row, prob.field) == (2, "item")
    assert "不存在的煤" in prob.message


def test_two_headers_for_one_column_refused(tmp_path: Path) -> None:
    p = tmp_path / "a.csv"
    p.write_text("年份,year,地区,部门,品种,数量,单位\n2019,2019,GD,1.A.1.a,raw_coal,1,t\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="both mean column 'year'"):
        read_table(p)


def test_aliases() -> None:
    assert canonical_header("数量 (amount)") == "amount"
    assert canonical_header(" Year ") == "year"
    assert canonical_header("计量单位") == "unit"
    assert lookup("广东省", "region") == "GD"
    assert lookup("gd-gz", "region") == "GD-GZ"
    assert lookup("1.A.1.a 公用电力与热力生产", "category") == "1.A.1.a"
    assert lookup("原煤 (raw_coal)", "item") == "raw_coal"
    assert lookup("地区生产总值(当年价)", "indicator") == "gdp_current"
    assert lookup("其他", "category") is None  # a name two categories share is ambiguous


def _fill(path: Path, sheet: str, rows: list[list[object]]) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    for r in rows:
        ws.append(r)
    wb.save(path)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_activity_template_round_trip(tmp_path: Path, lang: str) -> None:
    p = tmp_path / f"t_{lang}.xlsx"
    r = runner.invoke(app, ["template", "activity", "--lang", lang, "-o", str(p)])
    assert r.exit_code == 0, r.output
    wb = openpyxl.load_workbook(p)
    energy = "能源活动 energy" if lang == "zh" else "energy"
    ippu = "工业生产过程 ippu" if lang == "zh" else "ippu"
    assert wb.sheetnames[0] == ("说明" if lang == "zh" else "instructions")
    assert wb["_lists"].sheet_state == "hidden"
    heads = [c.value for c in wb[energy][1]]
    assert heads[:2] == (["年份 (year)", "地区 (region)"] if lang == "zh" else ["year (年份)", "region (地区)"])
    dvs = {str(d.sqref).split(":")[0]: d for d in wb[energy].data_validations.dataValidation}
    assert dvs["B2"].type == "list"
    assert dvs["D2"].type == "list"
    assert dvs["A2"].type == "whole"
    # the values the drop-downs offer are accepted as typed
    lists = wb["_lists"]
    col = {c.value: c.column_letter for c in lists[1]}
    region = lists[f"{col['regions']}3"].value
    cat = lists[f"{col['categories:energy']}2"].value
    items = [c.value for c in lists[col["items:energy"]][1:] if c.value]
    coal = next(i for i in items if i in ("原煤", "raw_coal"))
    _fill(p, energy, [[2020, region, "1.A.1.a 公用电力与热力生产", coal, 1234.5, "万吨", None, "src", None]])
    _fill(p, ippu, [[2020, region, "2.A.1", "clinker", 10, "t", 5, "src", "note"]])
    assert cat.startswith("1")
    df = load_activity(p)
    assert len(df) == 2
    assert set(df["item"]) == {"raw_coal", "clinker"}
    assert set(df["region"]) == {"GD-GZ"} or len(set(df["region"])) == 1
    assert any(f.endswith(f"[{ippu}]") for f in df["__file__"])


def test_template_error_names_sheet_row_and_field(tmp_path: Path) -> None:
    p = tmp_path / "t.xlsx"
    p.write_bytes(template_xlsx("activity", "zh"))
    _fill(p, "农业 agriculture", [[2020, "GD", "3.A.1", "dairy_cattle", "=1+1", "head"]])
    with pytest.raises(ValidationError) as ei:
        load_activity(p)
    (prob,) = ei.value.problems
    assert "[农业 agriculture]" in prob.file
    assert prob.row == 2
    assert prob.field == "amount"


@pytest.mark.parametrize("kind", ["observations", "readings", "output"])
def test_other_templates(kind: str) -> None:
    assert kind in kinds()
    wb = openpyxl.load_workbook(io.BytesIO(template_xlsx(kind, "en")))
    assert wb.sheetnames[0] == "instructions"
    data = [ws for ws in wb.worksheets if ws.sheet_state == "visible" and ws.title != "instructions"]
    assert len(data) == 1
    assert data[0].max_column >= 3


def test_observations_template_round_trip(tmp_path: Path) -> None:
    p = tmp_path / "o.xlsx"
    p.write_bytes(template_xlsx("observations", "zh"))
    _fill(p, "观测值", [["地区生产总值(当年价)", "广州市", 2022, 28839, "亿元", "广州统计年鉴2023", "verified", None]])
    obs = load_observations([p])
    assert obs.iloc[0][["indicator", "region", "year"]].tolist() == ["gdp_current", "GD-GZ", 2022]


def test_unknown_template_is_a_usage_error(tmp_path: Path) -> None:
    r = runner.invoke(app, ["template", "nosuch", "-o", str(tmp_path / "x.xlsx")])
    assert r.exit_code == 2
    assert "not a template" in r.output


def test_csv_download_has_bom_and_neutralised_formulas(tmp_path: Path) -> None:
    df = pd.DataFrame({"名称": ["=cmd|' /C calc'!A0", "原煤"], "amount": [1.0, -2.0]})
    raw = csv_bytes(df)
    assert raw.startswith(BOM.encode("utf-8"))
    back = pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig")
    assert list(back.columns) == ["名称", "amount"]
    assert back["名称"][0].startswith("'=")
    assert back["amount"][1] == -2.0


def test_workbook_formats_units_and_sources() -> None:
    df = pd.DataFrame({"year": [2030], "co2e_t": [1234567.891], "source": ["doc A"], "status": ["verified"]})
    wb = openpyxl.load_workbook(io.BytesIO(workbook([("main", df)])))
    ws = wb["main"]
    assert [c.value for c in ws[1]] == ["year", "co2e_t (tCO2e)", "source", "status"]
    assert ws["A2"].value == 2030
    assert ws["A2"].number_format == "0"
    assert ws["B2"].number_format == "#,##0.00"
    src = [[c.value for c in r] for r in wb["sources"].iter_rows(min_row=2)]
    assert ["main: source", "doc A", "verified"] in src
    assert src[0][0] == "generated_by"


ACT_2Y = (
    "year,region,category,item,amount,unit\n"
    "2019,GD,1.A.1.a,raw_coal,100,万吨\n2020,GD,1.A.1.a,raw_coal,110,万吨\n"
)


def test_compile_several_years_by_year(tmp_path: Path) -> None:
    p = tmp_path / "a.csv"
    p.write_text(ACT_2Y, encoding="utf-8")
    one = json.loads(runner.invoke(app, ["inventory", "compile", str(p), "--year", "2019", "-f", "json"]).stdout)
    r = runner.invoke(app, ["inventory", "compile", str(p), "-f", "json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["years"] == [2019, 2020]
    assert "total_co2e_t" not in d
    assert d["by_year"]["2019"]["total_co2e_t"] == pytest.approx(one["total_co2e_t"])
    r = runner.invoke(app, ["inventory", "compile", str(p), "-f", "csv"])
    csv = pd.read_csv(io.StringIO(r.stdout))
    assert list(csv.columns) == ["category", "name", "2019", "2020"]
    r = runner.invoke(app, ["inventory", "compile", str(p)])
    assert "2019" in r.stdout
    assert "2,019" not in r.stdout
    r = runner.invoke(app, ["inventory", "compile", str(p), "--uncertainty", "approach1"])
    assert r.exit_code != 0


def test_compile_xlsx_and_csv_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "a.csv"
    p.write_text(ACT_2Y, encoding="utf-8")
    out = tmp_path / "inv.xlsx"
    r = runner.invoke(app, ["inventory", "compile", str(p), "-f", "xlsx", "-o", str(out)])
    assert r.exit_code == 0, r.output
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0].startswith("Categories")
    assert "sources" in wb.sheetnames
    assert any(s.startswith("Detail") for s in wb.sheetnames)
    ws = wb.worksheets[0]
    # a workbook is for people: headers in CARBONPEAK_LANG (default en) with units; ids in 'columns'
    assert [c.value for c in ws[1]] == ["Category", "Name", "2019 (tCO2e)", "2020 (tCO2e)"]
    assert wb["columns"].sheet_state == "hidden"
    assert ws["C2"].number_format == "#,##0.00"
    from carbonpeak.config import get_settings

    monkeypatch.setenv("CARBONPEAK_LANG", "zh")
    get_settings.cache_clear()
    try:
        r = runner.invoke(app, ["inventory", "compile", str(p), "-f", "xlsx", "-o", str(out)])
    finally:
        monkeypatch.delenv("CARBONPEAK_LANG")
        get_settings.cache_clear()
    assert r.exit_code == 0, r.output
    assert [c.value for c in openpyxl.load_workbook(out).worksheets[0][1]][:2] == ["类别", "名称"]
    r = runner.invoke(app, ["inventory", "compile", str(p), "-f", "xlsx", "-o", str(out), "--headers", "ids"])
    assert r.exit_code == 0, r.output
    assert [c.value for c in openpyxl.load_workbook(out).worksheets[0][1]][:2] == ["category", "name"]
    src = [r[1].value for r in wb["sources"].iter_rows(min_row=2)]
    assert str(p) in src
    r = runner.invoke(app, ["inventory", "compile", str(p), "-f", "xlsx"])
    assert r.exit_code == 2
    assert "-o" in r.output
    csvf = tmp_path / "detail.csv"
    r = runner.invoke(app, ["inventory", "compile", str(p), "-f", "csv", "--detail", "-o", str(csvf)])
    assert r.exit_code == 0, r.output
    raw = csvf.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw[3:].decode().startswith("year,region,category,item,gas")


def test_every_format_command_takes_output(tmp_path: Path) -> None:
    out = tmp_path / "cats.xlsx"
    r = runner.invoke(app, ["inventory", "categories", "--sector", "ippu", "-f", "xlsx", "-o", str(out)])
    assert r.exit_code == 0, r.output
    ws = openpyxl.load_workbook(out).worksheets[0]
    assert ws["A1"].value == "Code"
    assert ws.max_row > 5


def test_hostile_workbook_sheet_refused(tmp_path: Path) -> None:
    p = tmp_path / "bomb.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["year", "region"])
    for i in range(20_000):
        ws.append([2019, "x" * 50 + str(i)])
    wb.save(p)
    from carbonpeak.io.tables import check_zip_size

    with pytest.raises(ValidationError, match="inflates"):
        check_zip_size(p, "bomb.xlsx", limit=100_000)


def test_not_a_workbook(tmp_path: Path) -> None:
    p = tmp_path / "fake.xlsx"
    p.write_bytes(b"year,region\n2019,GD\n")
    with pytest.raises(ValidationError, match="not an Excel"):
        read_table(p)


@pytest.mark.parametrize("kind", ["item", "region", "category", "indicator"])
def test_every_id_and_unambiguous_name_maps_back(kind: str) -> None:
    """Invariant of the alias table: an id maps to itself; a name maps to the one entry that has it."""
    from collections import Counter

    from carbonpeak.catalog.categories import get_categories
    from carbonpeak.catalog.items import get_items
    from carbonpeak.catalog.regions import load_regions
    from carbonpeak.catalog.targets import load_indicators

    entries = {
        "item": get_items,
        "region": load_regions,
        "category": get_categories,
        "indicator": load_indicators,
    }[kind]()
    names = Counter(v.name_zh for v in entries.values())
    for key, v in entries.items():
        assert lookup(key, kind) == key
        if names[v.name_zh] == 1 and v.name_zh not in entries:
            assert lookup(v.name_zh, kind) == key, v.name_zh


def test_upload_templates_match_the_service_specs() -> None:
    """The readings/output templates have the columns the service's submission upload expects."""
    from carbonpeak.api.routes.submissions import UPLOAD_SPECS
    from carbonpeak.io.templates import _spec

    for kind in ("readings", "output"):
        cols = [c["name"] for c in _spec()["kinds"][kind]["columns"]]
        assert cols == UPLOAD_SPECS[kind].column_names()
    from carbonpeak.model.activity import activity_spec
    from carbonpeak.model.observation import observation_spec

    assert [c["name"] for c in _spec()["kinds"]["activity"]["columns"]] == activity_spec().column_names()
    assert [c["name"] for c in _spec()["kinds"]["observations"]["columns"]] == observation_spec().column_names()


@pytest.mark.parametrize("kind", ["readings", "output"])
def test_upload_template_round_trip(tmp_path: Path, kind: str) -> None:
    from carbonpeak.api.routes.submissions import UPLOAD_SPECS
    from carbonpeak.io import validate_table

    p = tmp_path / f"{kind}.xlsx"
    p.write_bytes(template_xlsx(kind, "zh"))
    sheet = {"readings": "读数", "output": "产量"}[kind]
    row = (["M1", "2025-01-01T08:00:00+08:00", 12.5] if kind == "readings"
           else ["U-A", "clinker", "2025-01", 100, "t"])
    _fill(p, sheet, [row])
    typed = validate_table(read_table(p), UPLOAD_SPECS[kind])
    assert len(typed) == 1


def test_notes_sheet_beside_the_data_is_skipped(tmp_path: Path) -> None:
    p = tmp_path / "a.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "数据"
    for r in (["年份", "地区", "部门", "品种", "数量", "单位"], [2019, "GD", "1.A.1.a", "原煤", 1, "万吨"]):
        wb.active.append(r)
    notes = wb.create_sheet("备注页")
    notes.append(["填报人", "张三"])
    wb.save(p)
    df = load_activity(p)
    assert len(df) == 1
    assert df["__file__"].iloc[0] == f"{p} [数据]"
