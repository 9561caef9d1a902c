"""The target catalog covers every quantitative target sentence of the plan."""

from __future__ import annotations

import re

import pytest

from carbonpeak.catalog.loader import data_path
from carbonpeak.catalog.regions import GROUPS, TIERS, cities, load_regions
from carbonpeak.catalog.targets import load_target_sentences, load_targets
from carbonpeak.errors import CatalogError

PLAN_CANDIDATES = [data_path("plan/guangdong-carbon-peak-plan.zh.txt")]
# A number with a unit of a target (%, 万千瓦, 亿, 万吨, 万亩, 个), a "before 2030" clause, PUE, or a dated
# commitment (到20xx年 / 十四五 / 十五五 periods) with a quantified outcome word (全面, 全部, 全覆盖).
QUANT = re.compile(r"\d+(?:\.\d+)?\s*(?:%|萬千瓦|億|萬噸|萬畝|個)|\d{4}年前|PUE")
DATED = re.compile(r"到20\d\d年|“十[四五]五”期間")
QUALIFIED = re.compile(r"全面|全部|全覆蓋|達峰|國際先進")


def _plan_text() -> str:
    return PLAN_CANDIDATES[0].read_text(encoding="utf-8")


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[。;；])|\n", text) if s.strip()]


def test_every_quantitative_sentence_is_mapped():
    listed = {s["text"].strip(): s for s in load_target_sentences()}
    missing = []
    for s in _sentences(_plan_text()):
        quantitative = QUANT.search(s) or (DATED.search(s) and QUALIFIED.search(s)) or s.startswith("“十")
        if quantitative and s not in listed:
            missing.append(s)
    assert not missing, "plan sentences with a target but not in target_sentences.yaml:\n" + "\n".join(missing)


def test_sentence_map_consistent_with_catalog():
    cat = load_targets()
    text = _plan_text()
    mapped: set[str] = set()
    for s in load_target_sentences():
        assert s["text"] in text, f"sentence not in the plan: {s['text'][:40]}"
        assert ("targets" in s) != ("non_target" in s)
        for tid in s.get("targets", []):
            t = cat.get(tid)
            assert t.sentence == s["text"], tid
            mapped.add(tid)
    in_plan = {k for k, t in cat.targets.items() if t.in_plan}
    assert mapped == in_plan, in_plan - mapped
    assert all(cat.get(k).value_source for k in set(cat.targets) - in_plan)


def test_issue_named_targets_present():
    cat = load_targets()
    expect = {
        "nonfossil_share_2025": 32, "nonfossil_share_2030": 35, "wind_solar_capacity_2030": 7400,
        "west_east_transmission_2030": 5500, "new_gas_power_14fyp": 3600, "new_type_storage_2025": 200,
        "pumped_storage_2030": 1500, "peak_load_response_2030": 5, "data_centre_pue_new_large": 1.3,
        "data_centre_pue_hub": 1.25, "steel_bf_bof_intensity_2030": -8, "refining_intensity_2030": -4,
        "ethylene_intensity_2030": -5, "clinker_intensity_2030": -8, "cement_gen2_line_share_2025": 50,
        "forest_coverage_2030": 59, "forest_stock_2030": 6.6, "mangrove_2025": 12,
        "co2_intensity_14fyp_national": -18, "energy_intensity_14fyp_national": -13.5,
    }
    for tid, v in expect.items():
        assert cat.get(tid).target_value == pytest.approx(v), tid
    assert cat.get("peak_before_2030").kind == "peak"
    assert cat.get("co2_intensity_14fyp_gd").status == "unverified"


def test_unknown_target_raises():
    with pytest.raises(CatalogError, match="unknown target"):
        load_targets().get("nope")


def test_about_tolerances():
    cat = load_targets()
    assert cat.tolerance(cat.get("nonfossil_share_2030")) == pytest.approx(1.0)
    assert cat.tolerance(cat.get("new_gas_power_14fyp")) == pytest.approx(180.0)
    assert cat.tolerance(cat.get("forest_coverage_2030")) == pytest.approx(0.2)
    assert cat.tolerance(cat.get("wind_solar_capacity_2030")) == 0.0


def test_regions():
    regs = load_regions()
    assert regs["GD"].adcode == "440000"
    cs = cities()
    assert len(cs) == 21
    assert len({c.adcode for c in cs}) == 21
    assert all(c.adcode.startswith("44") and c.adcode.endswith("00") for c in cs)
    assert {c.group for c in cs} == set(GROUPS)
    assert [sum(c.group == g for c in cs) for g in GROUPS] == [9, 4, 3, 5]
    assert all(c.tier in TIERS and c.tier_status == "estimate" and c.tier_rationale for c in cs)
    assert regs["GD-GZ"].adcode == "440100"
    assert regs["GD-SZ"].name_zh == "深圳市"


def test_tier_override():
    regs = load_regions({"GD-ZJ": "growing"})
    assert regs["GD-ZJ"].tier == "growing"
    assert regs["GD-ZJ"].tier_status == "user"
    with pytest.raises(CatalogError, match="tier"):
        load_regions({"GD-ZJ": "fast"})
    with pytest.raises(CatalogError, match="unknown city"):
        load_regions({"GD-XX": "leading"})
