"""Catalog consistency of the AFOLU and waste items and factors, and engine-level invariants."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.accounting.aw_helpers import act, factors

from carbonpeak.accounting.engine import compile_inventory
from carbonpeak.catalog.factors import read_factor_table
from carbonpeak.catalog.items import get_items
from carbonpeak.catalog.loader import DATA_DIR

FILES = ("agriculture.csv", "lulucf.csv", "waste.csv")


@pytest.mark.parametrize("name", FILES)
def test_every_factor_names_a_catalog_item_and_has_source_and_status(name: str) -> None:
    items = get_items()
    rows = read_factor_table(DATA_DIR / "factors" / name)
    assert rows
    for fv in rows:
        assert fv.item in items, f"{name}: {fv.item} is not in the items catalog"
        assert fv.source.strip()
        assert fv.status in ("verified", "derived", "consistent", "unverified", "estimate")
        if fv.status == "estimate":
            assert fv.note or "estimate" in fv.source, f"{name}: estimate {fv.item}.{fv.parameter} without method"


def _has(item: str, parameter: str, category: str, gas: str = "") -> bool:
    return factors().lookup(item, parameter, category=category, gas=gas) is not None


def _needs(it: str, kind: str, group: str) -> list[tuple[str, str, str]]:
    """(parameter, category, gas) that an activity item of this kind needs by default."""
    if kind == "livestock":
        need = [("ef", "3.A.2", "CH4"), ("nex", "3.A.2", ""), ("ef4", "3.C.6", "N2O")]
        return need if it == "poultry" else [("ef", "3.A.1", "CH4"), *need]
    if kind == "manure_system":
        return [] if it in ("mms_pasture", "mms_burned_fuel") else [("ef3", "3.A.2", "N2O")]
    if kind == "rice_season":
        return [("ef_season", "3.C.7", "CH4")]
    if kind == "nitrogen_input":
        return [("ef_direct", "3.C.4", "N2O"), ("frac_gas", "3.C.5", ""), ("frac_leach", "3.C.5", "")]
    if kind == "forest_type":
        return [(p, "3.B.1.a", "") for p in ("svd", "bef", "r", "cf")]
    if kind == "coastal_wetland":
        return [("soil_c_accumulation", "3.B.4.a", "")]
    if kind == "solid_waste" and group == "msw_component":
        return [("doc", "4.A.1", ""), ("dm", "4.C.1", ""), ("cf", "4.C.1", ""), ("fcf", "4.C.1", "")]
    if kind in ("wastewater_bod", "wastewater_cod"):
        cat = "4.D.1" if kind == "wastewater_bod" else "4.D.2"
        return [("mcf", cat, ""), ("bo", cat, "CH4")]
    return []


def test_every_activity_item_has_its_default_factors() -> None:
    missing = [
        (it, p, cat, gas)
        for it, v in get_items().items()
        for p, cat, gas in _needs(it, v.kind, v.group)
        if not _has(it, p, cat, gas)
    ]
    assert missing == []


def test_item_references_resolve() -> None:
    items = get_items()
    for it, v in items.items():
        refs = [v.extra.get(k) for k in ("forest_type", "from_land", "to_land") if k in v.extra]
        for ref in refs:
            assert ref in items, f"{it} names unknown item {ref}"


MIXED = [
    (2019, "GD", "3.B.1.a", "masson_pine", 2.0e6, "m3"),
    (2020, "GD", "3.B.1.a", "masson_pine", 2.1e6, "m3"),
    (2020, "GD", "3.B.4.a.i", "mangrove", 500.0, "ha"),
    (2020, "GD", "3.A.1", "buffalo", 1000.0, "head"),
    (2020, "GD", "3.A.2", "poultry", 1.0e6, "head"),
    (2020, "GD", "3.C.7", "rice_late", 1000.0, "ha"),
    (2020, "GD", "3.C.4", "manure_n_applied", 100.0, "t"),
    (2018, "GD", "4.A.3", "msw_bulk", 1.0e5, "t"),
    (2019, "GD", "4.A.3", "msw_bulk", 1.0e5, "t"),
    (2020, "GD", "4.A.3", "msw_bulk", 1.0e5, "t"),
    (2020, "GD", "4.B", "composting", 1000.0, "t"),
    (2020, "GD", "4.C.1", "msw_bulk", 1.0e5, "t"),
    (2020, "GD", "4.D.1", "domestic_bod_septic", 100.0, "t"),
    (2020, "GD", "4.D.2", "industrial_cod_anaerobic_reactor", 100.0, "t"),
]


def test_every_result_row_is_explained_and_keyed() -> None:
    r = compile_inventory(act(MIXED), factors()).results
    assert r["factor_key"].str.len().gt(0).all()
    for text in r["explain"]:
        ex = json.loads(text)
        assert "method" in ex or "parts" in ex


@settings(max_examples=10, deadline=None)
@given(perm=st.permutations(list(range(len(MIXED)))))
def test_row_order_does_not_change_the_inventory(perm: list[int]) -> None:
    base = compile_inventory(act(MIXED), factors()).totals(by=("year", "category", "gas"))
    shuffled = compile_inventory(act([MIXED[i] for i in perm]), factors()).totals(by=("year", "category", "gas"))
    pd.testing.assert_frame_equal(base.reset_index(drop=True), shuffled.reset_index(drop=True), rtol=1e-12)


def test_default_manure_shares_have_their_system_factors() -> None:
    """Every (livestock, system) of the default shares has EF3 (3.A.2) and FracGasMS (3.C.6)."""
    rows = read_factor_table(DATA_DIR / "factors" / "agriculture.csv")
    pairs = [(fv.item, fv.parameter.split(".", 1)[1]) for fv in rows if fv.parameter.startswith("ms_share.")]
    assert pairs
    missing = [
        (it, s) for it, s in pairs
        if not (_has(s, "ef3", "3.A.2", "N2O") and _has(it, f"frac_gas_ms.{s}", "3.C.6"))
    ]
    assert missing == []
