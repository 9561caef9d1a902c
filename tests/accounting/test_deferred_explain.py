"""Deferred ``explain`` texts (accounting/deferred.py): compiling defers them, reading renders them.

The contract: the texts an inventory shows are exactly those each method returns when called on
its own (eagerly), whether read through ``results``, ``explain()`` before or after ``results``
was read, or ``factor_overrides``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from carbonpeak.accounting.base import MethodContext, registry
from carbonpeak.accounting.deferred import Collector, collecting, current, defer, explain_later
from carbonpeak.accounting.engine import _method_for, compile_inventory
from carbonpeak.catalog.factors import FactorSet
from carbonpeak.model.activity import load_activity

DEMO = Path(__file__).resolve().parents[2] / "src" / "carbonpeak" / "demo" / "data" / "activity"

WASTE_AND_AFOLU = pd.DataFrame(
    {
        "year": [2020, 2020, 2020, 2020, 2020],
        "region": ["GD"] * 5,
        "category": ["3.A.1", "4.C.1", "4.B", "4.D.1", "3.B.4.a.i"],
        "item": ["buffalo", "msw_bulk", "composting", "domestic_bod_septic", "mangrove"],
        "amount": [20_000.0, 5.0e5, 1.0e4, 2_000.0, 500.0],
        "unit": ["head", "t", "t", "t", "ha"],
    }
)


@pytest.fixture(scope="module")
def activity() -> pd.DataFrame:
    demo = load_activity(sorted(DEMO.glob("*.csv")))
    extra = load_activity_frame(WASTE_AND_AFOLU)
    return pd.concat([demo, extra], ignore_index=True)


def load_activity_frame(df: pd.DataFrame) -> pd.DataFrame:
    from carbonpeak.model.activity import validate_activity

    return validate_activity(df.astype({"year": str, "amount": str}))


def _eager(activity: pd.DataFrame, fs: FactorSet) -> pd.DataFrame:
    """Result rows with each method called on its own (outside compile: texts built eagerly)."""
    methods = registry()
    ctx = MethodContext(factors=fs)
    owner = {c: _method_for(c, methods) for c in activity["category"].unique()}
    parts = []
    for name in sorted({m for m in owner.values() if m}):
        sub = activity[activity["category"].isin([c for c, m in owner.items() if m == name])]
        parts.append(methods[name].fn(sub.reset_index(drop=True), ctx))
    return pd.concat(parts, ignore_index=True)


def test_results_texts_equal_eager_method_texts(activity: pd.DataFrame) -> None:
    assert current() is None  # nothing collects outside compile_inventory
    fs = FactorSet.default()
    inv = compile_inventory(activity, fs)
    got = inv.results
    eager = _eager(activity, fs)
    key = ["year", "region", "category", "item", "gas", "scope", "mass_t"]
    assert len(got) == len(eager)
    a = got.sort_values([*key, "explain"]).reset_index(drop=True)
    b = eager.sort_values([*key, "explain"]).reset_index(drop=True)
    assert a["explain"].tolist() == b["explain"].tolist()
    assert all(isinstance(t, str) and t.startswith("{") for t in a["explain"])
    assert got["explain"].dtype == object


def test_explain_before_and_after_results_read(activity: pd.DataFrame) -> None:
    fs = FactorSet.default()
    inv = compile_inventory(activity, fs)
    assert len(inv.results)  # renders every text (one inventory serves every category's "after")
    for category in ("1.A", "2.A.1", "3", "4", "M"):
        before = compile_inventory(activity, fs).explain(category)  # a fresh one: texts still deferred
        after = inv.explain(category)
        assert before == after
        assert before["rows"], category
        for r in before["rows"]:
            assert isinstance(r["explain"], dict), category
            assert r["explain"], category
            json.dumps(r["explain"])


def test_summary_does_not_render_texts(activity: pd.DataFrame) -> None:
    inv = compile_inventory(activity, FactorSet.default())
    assert inv._deferred is not None
    inv.summary()
    inv.totals(by=("category",))
    inv.sinks()
    assert inv._deferred is not None  # still deferred
    assert len(inv.results)
    assert inv._deferred is None


def test_collector_renders_any_order_and_explain_later_is_eager_outside() -> None:
    text = explain_later(method="m", value=1.5)
    assert text == json.dumps({"method": "m", "value": 1.5}, ensure_ascii=False)
    assert defer(3, lambda local: [str(i) for i in local]) is None
    with collecting() as c:
        ids1 = defer(3, lambda local: [f"a{i}" for i in local])
        one = explain_later(method="m")
        ids2 = defer(2, lambda local: [f"b{i}" for i in local])
    assert isinstance(c, Collector)
    assert ids1 is not None
    assert ids2 is not None
    assert isinstance(one, int)
    order = np.array([ids2[1], one, ids1[2], ids1[0], ids2[0]])
    assert c.render(order) == ["b1", '{"method": "m"}', "a2", "a0", "b0"]
    assert c.render(np.zeros(0, dtype=np.int64)) == []
