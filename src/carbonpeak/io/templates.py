"""Excel input templates: the workbook a statistics office fills in and uploads.

:func:`template_xlsx` writes, for one kind of input (``catalog/data/io/templates.yaml``):

* an instructions sheet (说明 / instructions): what the file is for, each column, how to upload;
* the data sheet(s) — for activity data one per inventory sector — with headers in Chinese and
  English (``年份 (year)``) and drop-down lists (Excel data validation) of the catalog's items,
  categories, regions, indicators, statuses and units, and whole-number/decimal checks;
* a hidden ``_lists`` sheet holding the lists.

Everything a template offers is read back by :func:`carbonpeak.io.tables.read_table` (every data
sheet; instructions and lists skipped; Chinese names mapped to ids by :mod:`carbonpeak.io.aliases`).
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from carbonpeak.errors import CarbonpeakError

Lang = Literal["zh", "en"]

#: rows of the data sheets that carry the drop-down lists and checks
ROWS = 5000

#: units offered in the drop-down (others may be typed: the list only warns)
COMMON_UNITS = (
    "t", "万吨", "kg", "10^4 t", "10^4 Nm3", "万立方米", "亿立方米", "m**3", "kWh", "MWh", "万千瓦时", "亿千瓦时",
    "GJ", "TJ", "tce", "万吨标准煤", "head", "万头", "ha", "公顷", "person", "万人", "亿元", "万元", "%",
)


@lru_cache(maxsize=1)
def _spec() -> dict[str, Any]:
    from carbonpeak.catalog.loader import load_yaml

    return load_yaml("io/templates.yaml")  # type: ignore[no-any-return]


def kinds() -> tuple[str, ...]:
    """The kinds of template (``activity``, ``observations``, ``readings``, ``output``)."""
    return tuple(_spec()["kinds"])


def header(column: str, lang: Lang) -> str:
    """``年份 (year)`` (zh) or ``year (年份)`` (en): the first Chinese alias of the column."""
    from carbonpeak.catalog.loader import load_yaml

    zh = next(iter(load_yaml("io/header_aliases.yaml").get(column) or [column]))
    return f"{zh} ({column})" if lang == "zh" else f"{column} ({zh})"


def _lists(lang: Lang) -> dict[str, list[str]]:
    """The drop-down lists: name → values (ids in en; Chinese names where they round-trip in zh)."""
    from carbonpeak.catalog.categories import get_categories
    from carbonpeak.catalog.items import get_items
    from carbonpeak.catalog.loader import STATUSES
    from carbonpeak.catalog.regions import load_regions
    from carbonpeak.catalog.targets import load_indicators
    from carbonpeak.io.aliases import lookup

    out: dict[str, list[str]] = {}
    regions = load_regions()
    out["regions"] = [r.name_zh if lang == "zh" else code for code, r in regions.items()]
    inds = load_indicators()
    out["indicators"] = [
        (v.name_zh if lang == "zh" and lookup(v.name_zh, "indicator") == k else k)
        for k, v in inds.items()
        if not v.computed
    ]
    out["statuses"] = list(STATUSES)
    items = get_items()
    units = list(COMMON_UNITS) + sorted({i.unit for i in items.values() if i.unit} - set(COMMON_UNITS))
    out["units"] = units
    cats = get_categories()
    for sector, meta in _spec()["sectors"].items():
        out[f"categories:{sector}"] = [
            f"{c.code} {c.name_zh if lang == 'zh' else c.name_en}" for c in cats.values() if c.sector == sector
        ]
        out[f"items:{sector}"] = [
            (it.name_zh if lang == "zh" and lookup(it.name_zh, "item") == iid else iid)
            for iid, it in items.items()
            if it.file == meta["items_file"]
        ]
    return out


def _validation(ws: Any, col_letter: str, kind: str, ref: str | None) -> None:
    from openpyxl.worksheet.datavalidation import DataValidation

    rng = f"{col_letter}2:{col_letter}{ROWS + 1}"
    if kind == "year":
        dv = DataValidation(type="whole", operator="between", formula1="1900", formula2="2100",
                            error="1900–2100", errorTitle="year / 年份", showErrorMessage=True)
    elif kind == "number":
        dv = DataValidation(type="decimal", operator="between", formula1="-1E+15", formula2="1E+15",
                            error="a number / 请填数字", errorTitle="number / 数字", showErrorMessage=True)
    elif ref is not None:
        # a typed value outside the list only warns (units and names have more spellings)
        dv = DataValidation(type="list", formula1=ref, allow_blank=True, showErrorMessage=True,
                            errorStyle="warning", error="not in the list / 不在列表中")
    else:
        return
    ws.add_data_validation(dv)
    dv.add(rng)


def template_xlsx(kind: str, lang: Lang = "zh") -> bytes:
    """The template workbook of ``kind`` in ``lang`` (see the module docstring)."""
    import openpyxl
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter, quote_sheetname

    spec = _spec()
    if kind not in spec["kinds"]:
        raise CarbonpeakError(f"unknown template '{kind}'; one of: {', '.join(spec['kinds'])}")
    if lang not in ("zh", "en"):
        raise CarbonpeakError(f"unknown language '{lang}'; zh or en")
    k = spec["kinds"][kind]
    cols: list[dict[str, Any]] = k["columns"]
    wb = openpyxl.Workbook()
    info = wb.active
    info.title = "说明" if lang == "zh" else "instructions"

    lists = _lists(lang)
    lst = wb.create_sheet("_lists")
    lst.sheet_state = "hidden"
    refs: dict[str, str] = {}
    for j, (name, values) in enumerate(lists.items(), start=1):
        letter = get_column_letter(j)
        lst.cell(row=1, column=j, value=name)
        for i, v in enumerate(values, start=2):
            lst.cell(row=i, column=j, value=v)
        refs[name] = f"{quote_sheetname('_lists')}!${letter}$2:${letter}${max(len(values), 1) + 1}"

    if k.get("sheets") == "sectors":
        sheets = [
            (f"{meta['zh']} {sector}" if lang == "zh" else sector, sector) for sector, meta in spec["sectors"].items()
        ]
    else:
        sheets = [(k["sheet"][lang], None)]
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for title, sector in sheets:
        ws = wb.create_sheet(title[:31])
        ws.freeze_panes = "A2"
        for j, c in enumerate(cols, start=1):
            cell = ws.cell(row=1, column=j, value=header(c["name"], lang))
            cell.font = bold
            cell.fill = fill
            letter = get_column_letter(j)
            ws.column_dimensions[letter].width = max(14, len(str(cell.value)) + 4)
            lname = c.get("list") or ""
            key = f"{lname}:{sector}" if lname in ("categories", "items") and sector else lname
            if lname in ("categories", "items") and not sector:
                key = ""
            _validation(ws, letter, lname if lname in ("year", "number") else "list", refs.get(key))
            if lname in ("categories", "items"):
                ws.column_dimensions[letter].width = 36

    # the instructions sheet
    info.column_dimensions["A"].width = 28
    info.column_dimensions["B"].width = 90
    lines: list[tuple[str, str]] = [
        (k["title"][lang], ""),
        ("", ""),
        ("用法" if lang == "zh" else "How to use", _usage(lang, sheets)),
        ("上传" if lang == "zh" else "Upload", k["upload"][lang]),
        ("", ""),
        ("列" if lang == "zh" else "Column", "填写说明" if lang == "zh" else "What to type"),
    ]
    for c in cols:
        opt = ("（可空）" if lang == "zh" else " (optional)") if c.get("optional") and "可空" not in c[lang] and "optional" not in c[lang] else ""
        lines.append((header(c["name"], lang), c[lang] + opt))
    for i, (a, b) in enumerate(lines, start=1):
        info.cell(row=i, column=1, value=a)
        info.cell(row=i, column=2, value=b).alignment = Alignment(wrap_text=True, vertical="top")
        if i in (1, 6):
            info.cell(row=i, column=1).font = bold
            info.cell(row=i, column=2).font = bold
    info.cell(row=1, column=1).font = Font(bold=True, size=14)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _usage(lang: Lang, sheets: list[tuple[str, str | None]]) -> str:
    names = "、".join(t for t, _ in sheets) if lang == "zh" else ", ".join(t for t, _ in sheets)
    if lang == "zh":
        return (
            f"在工作表 {names} 中从第2行起每行填一条数据；表头可用中文或英文，不要改动；"
            "下拉列表给出目录中的品种、类别、地区和单位（也可填代码）；全空的行会被忽略；"
            "本说明页和隐藏的列表页不会被读取。出错时，错误信息会指出文件、工作表、行和列。"
        )
    return (
        f"Fill one record per row from row 2 in the sheet(s) {names}; headers may be Chinese or English, "
        "do not change them; the drop-downs offer the catalog's items, categories, regions and units "
        "(ids may be typed too); rows left empty are ignored; this sheet and the hidden lists sheet "
        "are not read. An error names the file, sheet, row and column."
    )


def write_template(kind: str, lang: Lang, path: Path) -> Path:
    path.write_bytes(template_xlsx(kind, lang))
    return path
