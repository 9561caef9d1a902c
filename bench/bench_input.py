"""Reading activity files: UTF-8 ids, GBK with Chinese headers and names, and Excel (issue 12).

Prints one table: seconds for ``load_activity`` (read + header/name aliases + validation) of the
same rows written three ways, beside the floor of a plain ``pd.read_csv(dtype=str)`` of the UTF-8
file. Run by hand:

    PYTHONPATH=src .venv/bin/python bench/bench_input.py [ROWS]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from bench_inventory import build  # bench/ is on sys.path when the script runs

from carbonpeak.catalog.items import get_items
from carbonpeak.catalog.regions import load_regions
from carbonpeak.model.activity import load_activity

ZH_HEADERS = {"year": "年份", "region": "地区", "category": "部门", "item": "品种", "amount": "数量", "unit": "单位"}


def _time(fn) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    act = build(max(1, rows // (22 * 10)), range(2010, 2020))
    act = act[["year", "region", "category", "item", "amount", "unit"]].head(rows)
    items, regions = get_items(), load_regions()
    zh = act.rename(columns=ZH_HEADERS)
    zh["品种"] = zh["品种"].map(lambda i: items[i].name_zh)
    zh["地区"] = zh["地区"].map(lambda r: regions[r].name_zh)
    with tempfile.TemporaryDirectory() as d:
        utf8, gbk, xlsx = Path(d) / "a.csv", Path(d) / "zh.csv", Path(d) / "a.xlsx"
        act.to_csv(utf8, index=False)
        zh.to_csv(gbk, index=False, encoding="gb18030")
        n_x = min(len(act), 20_000)
        act.head(n_x).to_excel(xlsx, index=False)
        out = [
            ("floor: pd.read_csv(dtype=str), UTF-8", len(act), _time(lambda: pd.read_csv(utf8, dtype=str))),
            ("load_activity, UTF-8, ids", len(act), _time(lambda: load_activity(utf8))),
            ("load_activity, GB18030, Chinese headers and names", len(zh), _time(lambda: load_activity(gbk))),
            ("load_activity, .xlsx, ids", n_x, _time(lambda: load_activity(xlsx))),
        ]
    print(f"{'case':52} {'rows':>8} {'best of 3 (s)':>14}")
    for name, n, s in out:
        print(f"{name:52} {n:>8,} {s:>14.3f}")


if __name__ == "__main__":
    main()
