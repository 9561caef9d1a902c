"""Issue 12: alert explanations and engine warnings are message keys with typed parameters, rendered
in zh or en from the message catalogs (catalog/data/messages/*.yaml).

The walk imports every module that emits messages, then checks each declared key (and each alert
kind's explanation and label) against both catalogs: non-empty, and the ``{placeholders}`` of zh
and en are exactly the declared parameters.  Every message is then rendered in both languages
with sample values of the declared types, so that a format spec that does not fit its type fails
here rather than on a page.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import pkgutil
import re

import pandas as pd
import pytest

import carbonpeak.monitoring.checks
from carbonpeak.errors import CarbonpeakError
from carbonpeak.i18n import (
    DECLARED,
    Msg,
    alert_text,
    load_messages,
    message_record,
    placeholders,
    render,
    render_dict,
    with_messages,
)

EMITTERS = (
    "carbonpeak.monitoring.alerts",
    "carbonpeak.monitoring.quality",
    "carbonpeak.accounting.engine",
    "carbonpeak.accounting.notation",
    "carbonpeak.accounting.methods.energy",
    "carbonpeak.scenarios.model",
    "carbonpeak.scenarios.scenario",
    "carbonpeak.markets.compliance",
    "carbonpeak.reports.scheduled",
    "carbonpeak.io.tables",
    "carbonpeak.io.aliases",
    "carbonpeak.io.validate",
    "carbonpeak.model.activity",
    "carbonpeak.model.observation",
    "carbonpeak.monitoring.registry",
    "carbonpeak.store.monitoring",
    "carbonpeak.api.uploads",
    "carbonpeak.api.inputs",
    "carbonpeak.workflows.schedule",
)


def _import_all() -> None:
    for name in EMITTERS:
        importlib.import_module(name)
    for m in pkgutil.iter_modules(carbonpeak.monitoring.checks.__path__):
        importlib.import_module(f"carbonpeak.monitoring.checks.{m.name}")


_import_all()
SAMPLE = {str: "x", int: 3, float: 0.125, object: dt.date(2025, 1, 2), list: ["a", "b"]}


def _sample(t: type) -> object:
    if t is Msg:
        return Msg("alert_obs.grain_month")
    return SAMPLE[t]


def test_emitting_modules_declare_messages() -> None:
    prefixes = {k.split(".")[0] for k in DECLARED}
    assert {"alert_obs", "warning", "notation", "scenario", "markets", "notify", "io"} <= prefixes
    assert len(DECLARED) > 60


@pytest.mark.parametrize("key", sorted(DECLARED))
def test_declared_message_in_both_catalogs_with_its_parameters(key: str) -> None:
    m = load_messages().get(key)
    assert m is not None, f"{key} is not in catalog/data/messages/"
    for lang in ("zh", "en"):
        assert m[lang].strip(), (key, lang)
        assert placeholders(m[lang]) == set(DECLARED[key]), (key, lang, placeholders(m[lang]), DECLARED[key])
    params = {p: _sample(t) for p, t in DECLARED[key].items()}
    zh, en = render(key, params, "zh"), render(key, params, "en")
    assert zh
    assert en
    assert "{" not in zh.replace("{{", "")
    assert "{" not in en.replace("{{", "")
    # a zh message says something in Chinese unless it is only a frame of its parameters
    literal = "".join(t for t, *_ in __import__("string").Formatter().parse(m["zh"]))
    if any(c.isalpha() and c.isascii() for c in literal.replace("PUE", "").replace("IT", "")):
        assert any("\u4e00" <= c <= "\u9fff" for c in zh), (key, zh)


def test_every_alert_kind_has_an_explanation_and_a_label_in_both_languages() -> None:
    from carbonpeak.monitoring.alerts import ALERT_KINDS, KINDS, why
    from carbonpeak.monitoring.rulebase import registered_rules

    msgs = load_messages()
    registered = {k for r in registered_rules().values() for k in r.kinds}
    assert registered
    assert registered <= set(ALERT_KINDS)
    for kind in ALERT_KINDS:
        for prefix in ("alert_why.", "alert."):
            entry = msgs.get(prefix + kind)
            assert entry, prefix + kind
            for lang in ("zh", "en"):
                assert entry[lang].strip(), prefix + kind
                assert not placeholders(entry[lang]), prefix + kind
        assert KINDS[kind] == why(kind, "en") != why(kind, "zh")


def test_no_key_in_two_files_and_every_key_has_both_languages(tmp_path, monkeypatch) -> None:
    import carbonpeak.i18n as i18n

    (tmp_path / "messages").mkdir()
    (tmp_path / "messages" / "a.yaml").write_text('k.x: {zh: "甲", en: "a"}\n', encoding="utf-8")
    (tmp_path / "messages" / "b.yaml").write_text('k.x: {zh: "乙", en: "b"}\n', encoding="utf-8")
    monkeypatch.setattr(i18n, "DATA_DIR", tmp_path)
    i18n.load_messages.cache_clear()
    try:
        with pytest.raises(CarbonpeakError, match=r"defined in a\.yaml and b\.yaml"):
            i18n.load_messages()
    finally:
        monkeypatch.undo()
        i18n.load_messages.cache_clear()
    assert len(i18n.load_messages()) > 500


def test_msg_is_data_and_its_str_is_english() -> None:
    span = Msg("alert_obs.span_days", first="2025-01-01", last="2025-01-03", days=3)
    m = Msg("alert_obs.gap_partial", mean=0.5, low=0.25, span=span)
    assert str(m) == "completeness 50% (lowest 25%) from 2025-01-01 to 2025-01-03 (3 days)"
    assert m.render("zh") == "完整率50%(最低25%),2025-01-01至2025-01-03(共3天)"
    d = m.to_dict()
    assert d["message_key"] == "alert_obs.gap_partial"
    assert d["params"]["span"] == {"message_key": "alert_obs.span_days",
                                   "params": {"first": "2025-01-01", "last": "2025-01-03", "days": 3}}
    # stored as JSON text and read back: the same sentence in each language
    stored = {"message_key": d["message_key"], "params": json.dumps(d["params"])}
    assert render_dict(stored, "zh") == m.render("zh")
    assert render_dict(stored, "en") == str(m)
    assert json.dumps([m]) == json.dumps([str(m)])  # a machine reading the old field sees the same text
    rec = message_record(m, "zh")
    assert rec["message"] == m.render("zh")
    assert rec["message_key"] == "alert_obs.gap_partial"
    assert message_record("free text", "zh") == {"message": "free text", "message_key": None, "params": {}}


def test_msg_refuses_undeclared_keys_and_wrong_parameters() -> None:
    with pytest.raises(CarbonpeakError, match="not declared"):
        Msg("alert_obs.nonexistent")
    with pytest.raises(CarbonpeakError, match="takes"):
        Msg("alert_obs.gap_none", span="x", extra=1)


def test_alert_text_renders_stored_alerts_and_keeps_old_ones() -> None:
    m = Msg("alert_obs.negative_value", n=4, span=Msg("alert_obs.span_day", day="2025-01-05"))
    row = {"kind": "negative_value", "observed": str(m), "why": "old english", **m.to_dict()}
    row["params"] = json.dumps(row["params"])
    zh = alert_text(row, "zh")
    assert zh.startswith("4个负读数,2025-01-05 — ")
    assert "物理上" in zh
    assert alert_text(row, "en").startswith("4 negative readings on 2025-01-05 — Negative energy readings")
    old = {"kind": "negative_value", "observed": "3 negative readings", "why": "w", "message_key": None, "params": None}
    assert alert_text(old, "zh").startswith("3 negative readings — ")


def test_inventory_warnings_keep_english_and_carry_keys() -> None:
    """The engine's summary warnings are messages: English in ``warnings`` (unchanged JSON), each
    language and the key through :func:`with_messages` (what the API answers)."""
    from carbonpeak.accounting.notation import describe

    keys = describe(pd.DataFrame({"category": ["4.A.1"], "gas": ["CO2"], "key": ["NE"]}))
    w = Msg("warning.incomplete_total", region="GD", year=2020, keys=keys)
    out = with_messages({"warnings": [w, "a plain warning"], "by_year": {"2020": {"warnings": [w]}}}, "zh")
    assert out["warnings"][0] == "the GD 2020 total is incomplete: 4.A.1 CO2 NE (not estimated) — not zero; " \
                                 "a change against another year leaves these categories out (Inventory.change)"
    assert type(out["warnings"][0]) is str
    rec = out["warning_messages"][0]
    assert rec["message_key"] == "warning.incomplete_total"
    assert "未估算" in rec["message"]
    assert rec["params"]["keys"][0]["params"]["key"] == "NE"
    assert out["warning_messages"][1]["message_key"] is None
    assert out["by_year"]["2020"]["warning_messages"][0]["message"] == rec["message"]


def test_offset_refusals_are_messages_in_both_languages() -> None:
    """The surrender check says why offsets are refused as messages: the English text as before, the
    Chinese from the catalog, the rule's figures as parameters."""
    from carbonpeak.catalog.markets import load_ruleset
    from carbonpeak.markets.compliance import OffsetLot, check_surrender

    gd = load_ruleset("guangdong-2024")
    lots = [OffsetLot("A", amount_t=12_000, unit_type="CCER", vintage=2022, project_type="wind",
                      origin_province="guangdong"),
            OffsetLot("H", amount_t=100, unit_type="CCER", vintage=2022, project_type="hydro",
                      origin_province="guangdong")]
    r = check_surrender(lots, gd, year=2024, obligation_t=100_000, last_year_emissions_t=100_000,
                        pool_remaining_t=1e6)
    by = {x.lot_id: x.detail for x in r.refusals}
    limit = by["A"]
    assert isinstance(limit, Msg)
    assert limit.key == "markets.refusal.limit"
    assert str(limit) == "over 10% of last year's emissions 100,000 t (limit 10,000 t)"
    assert limit.render("zh") == "超过上年度排放量100,000 t的10%(上限10,000 t)"
    assert by["H"].render("zh").startswith("项目类型“hydro”不予抵销 [")
    # the JSON a machine reads is unchanged: the English text
    assert json.loads(json.dumps(r.to_dict()))["refusals"][1]["detail"] == str(limit)


def test_alert_location_and_product_words_are_translated() -> None:
    """Issue 12: where an alert is (unit, its name and city, meter) and what product it is about are
    in the page's language, not English words around ids."""
    from carbonpeak.i18n import alert_location
    from carbonpeak.monitoring.checks.products import _whole_site

    a = {"unit_id": "U00005", "meter_id": "U00005-G1", "city": "GD-SW",
         "location": "unit U00005 (合成paper单位00005 (synthetic), GD-SW), meter U00005-G1"}  # fmt: skip
    assert alert_location(a, "zh") == "用能单位 U00005(合成paper单位00005 (synthetic),汕尾市),计量表 U00005-G1"
    assert alert_location(a, "en") == "unit U00005 (合成paper单位00005 (synthetic), Shanwei), meter U00005-G1"
    assert alert_location({"unit_id": "U9", "meter_id": None, "city": None, "location": "unit U9"}, "zh") == "用能单位 U9"
    assert alert_location({"unit_id": None, "location": "all reported figures"}, "zh") == "全部上报数值"
    site = _whole_site("whole site: no product-line meters for clinker, so the site's other consumption is included",
                       "clinker")  # fmt: skip
    obs = Msg("alert_obs.product_below_base", product={"message_key": "product.clinker", "params": {}},
              indicator={"message_key": "sec_indicator.sec", "params": {}}, sec=128.0, sec_unit="kgce/t",
              base=117.0, benchmark=100.0, site=site)  # fmt: skip
    zh = obs.render("zh")
    assert zh.startswith("水泥熟料(单位产品综合能耗):128 kgce/t,劣于基准水平117")
    assert "按全厂计量:水泥熟料没有产品线计量表" in zh
    assert not re.search(r"[a-z]{4,}", zh.replace("kgce", "")), zh
    assert str(obs).startswith("clinker (comprehensive energy per unit of product): 128 kgce/t")


#: words a zh notification or import error may show in Latin letters: names of formats and
#: programs, the carbonpeak command and its arguments (identifiers with _ . / : < > are code anyway)
ZH_LATIN_OK = {"carbonpeak", "factors", "list", "observations", "indicators", "inf", "nan", "utf", "gbk", "csv",
               "excel", "xlsx", "parquet", "iso", "gb", "t", "mee", "nbs"}


@pytest.mark.parametrize("prefix", ["notify.", "io.", "problem.", "alert_loc.", "product.", "sec_indicator."])
def test_zh_notifications_and_import_errors_have_no_english_words(prefix: str) -> None:
    """Issue 12: the untranslated-text check of the pages extended to e-mails/webhooks and import errors:
    the zh text of every such key says its words in Chinese (placeholders and identifiers aside)."""
    import string

    keys = [k for k in load_messages() if k.startswith(prefix)]
    assert keys
    bad = {}
    for k in keys:
        literal = "".join(t for t, *_ in string.Formatter().parse(load_messages()[k]["zh"]))
        words = [w for w in re.findall(r"[A-Za-z][A-Za-z0-9_.:/<>`-]*", literal)
                 if not re.search(r"[_./:<>`]", w) and w.lower() not in ZH_LATIN_OK
                 and not re.fullmatch(r"[A-Z0-9-]+", w)]  # fmt: skip
        if words:
            bad[k] = words
    assert not bad, bad
