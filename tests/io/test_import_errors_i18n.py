"""Issue 12: the validation errors of imports carry message keys and are shown in zh or en, keeping
the file, row and field: the API in the request's language (?lang, the dashboard's cookie,
Accept-Language), the CLI in CARBONPEAK_LANG."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from carbonpeak.errors import ValidationError
from carbonpeak.i18n import Msg, load_messages

CJK = re.compile(r"[\u4e00-\u9fff]")
REPO_SRC = Path(__file__).resolve().parents[2] / "src"

BAD_ACTIVITY = (
    "year,region,category,item,amount,unit\n"
    "2021,广州市,1.A.1.a,原煤,12x,万吨\n"  # row 2: not a number
    "1850,GD-XX,1.A.1.a,raw_coal,1,t\n"  # row 3: year out of range, unknown region
    "2021,GD,1.A.1.a,raw_coal,,t\n"  # row 4: empty amount
    "2021,GD,1.A.1.b,raw_coal,5,bogus_unit\n"  # row 5: unknown unit
)


def _problems(tmp_path: Path, text: str = BAD_ACTIVITY, name: str = "活动数据.csv") -> ValidationError:
    from carbonpeak.model.activity import load_activity

    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError) as ei:
        load_activity([f])
    return ei.value


def test_every_problem_of_a_bad_table_has_a_key_and_both_languages(tmp_path: Path) -> None:
    err = _problems(tmp_path)
    got = {(p.row, p.field): p for p in err.problems}
    assert {(2, "amount"), (3, "year"), (3, "region"), (4, "amount"), (5, "unit")} <= set(got)
    for p in err.problems:
        assert isinstance(p.message, Msg), p
        assert p.message.key in load_messages()
        zh, en = p.text("zh"), p.text("en")
        assert CJK.search(zh), zh
        assert not CJK.search(en.replace("活动数据", "")) or "'" in en, en  # values typed in Chinese aside
    assert got[(2, "amount")].render("zh").endswith("活动数据.csv 第2行 字段“amount”:不是数字:“12x”")
    assert str(got[(2, "amount")]).endswith("活动数据.csv, row 2, field 'amount': not a number: '12x'")
    assert got[(3, "year")].text("zh") == "年份超出1900–2100的范围:“1850”"
    assert got[(3, "region")].text("zh").startswith("未知的值“GD-XX”;请使用GD或")
    assert got[(4, "amount")].text("zh") == "不能为空"
    assert got[(5, "unit")].text("zh") == "未知的单位:“bogus_unit”"


def test_error_as_a_whole_in_both_languages(tmp_path: Path) -> None:
    err = _problems(tmp_path)
    n = len(err.problems)
    assert err.render("zh").startswith(f"发现{n}个问题;未导入任何数据:\n  - ")
    assert str(err).startswith(f"{n} problems found; nothing was imported:\n  - ")  # English stays the str
    d = err.to_dict("zh")
    assert d["message"] == f"发现{n}个问题;未导入任何数据"
    p = next(x for x in d["problems"] if x["row"] == 2)
    assert p == {"file": str(tmp_path / "活动数据.csv"), "row": 2, "field": "amount", "message": "不是数字:“12x”",
                 "message_key": "io.not_number", "params": {"value": "12x"}}  # fmt: skip


def test_file_level_problems_and_duplicates(tmp_path: Path) -> None:
    from carbonpeak.io import read_table

    with pytest.raises(ValidationError) as ei:
        read_table(tmp_path / "missing.csv")
    assert ei.value.problems[0].render("zh").endswith("missing.csv:文件不存在")
    (tmp_path / "x.ods").write_text("x")
    with pytest.raises(ValidationError) as ei:
        read_table(tmp_path / "x.ods")
    assert ei.value.problems[0].text("zh").startswith("不支持的文件类型“.ods”;请使用")
    dup = "year,region,category,item,amount,unit\n2021,GD,1.A.1.a,raw_coal,1,t\n2021,GD,1.A.1.a,raw_coal,2,t\n"
    err = _problems(tmp_path, dup, "dup.csv")
    assert [p.text("zh") for p in err.problems] == ["与第2行重复(year, region, category, item, unit相同)"] or all(
        p.text("zh").startswith("与第2行重复") for p in err.problems
    )


def test_monitoring_registry_problems_are_keyed(tmp_path: Path) -> None:
    from carbonpeak.monitoring.registry import detect_kind, validate_kind

    with pytest.raises(ValidationError) as ei:
        detect_kind(["foo", "bar"], "x.csv")
    assert ei.value.problems[0].text("zh").startswith("无法根据列判断文件类型")
    df = pd.DataFrame({"meter_id": ["M1"], "ts": ["2025-01-01T00:15"], "value": [1.0]})
    with pytest.raises(ValidationError) as ei:
        validate_kind(df, "readings")
    assert any(p.text("zh").startswith("时间缺少UTC时差:“2025-01-01T00:15”") for p in ei.value.problems)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_cli_prints_the_problems_in_carbonpeak_lang(tmp_path: Path, lang: str) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(BAD_ACTIVITY, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_SRC), *(p for p in sys.path if p)]),
           "CARBONPEAK_LANG": lang, "COLUMNS": "200", "NO_COLOR": "1"}  # fmt: skip
    code = "import sys\nfrom carbonpeak.cli import main\nsys.exit(main())\n"
    r = subprocess.run([sys.executable, "-c", code, "inventory", "import", str(f), "--db", str(tmp_path / "c.duckdb")],
                       capture_output=True, text=True, env=env, timeout=300)  # fmt: skip
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    text = " ".join(r.stderr.split())  # rich may wrap
    if lang == "zh":
        assert "未导入任何数据" in text
        assert "bad.csv 第2行 字段“amount”:不是数字:“12x”" in text
    else:
        assert "nothing was imported" in text
        assert "bad.csv, row 2, field 'amount': not a number: '12x'" in text


def test_factor_file_problems_are_keyed(tmp_path: Path) -> None:
    from carbonpeak.catalog.factors import read_factor_table

    f = tmp_path / "my_factors.csv"
    f.write_text("item,parameter,value,unit,source,status\nraw_coal,ef_co2,abc,t/t,own,verified\n"
                 "raw_coal,ncv,1,GJ/t,own,guessed\n", encoding="utf-8")  # fmt: skip
    with pytest.raises(ValidationError) as ei:
        read_factor_table(f)
    got = {(p.row, p.field): p for p in ei.value.problems}
    assert got[(2, "value")].render("zh").endswith("my_factors.csv 第2行 字段“value”:不是数字:“abc”")
    assert got[(3, "status")].text("zh").startswith("未知的值“guessed”;允许的值:")
    assert all(isinstance(p.message, Msg) for p in ei.value.problems)
