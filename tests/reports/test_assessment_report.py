"""The annual assessment report: both languages, all sections, one message catalog, PDF via Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from tests.stores import db_location
from tests.targets.test_indicators_assess import _obs, _results

from carbonpeak.i18n import LANGS, Messages, load_messages
from carbonpeak.reports.assessment import SECTIONS, render_html, write_report
from carbonpeak.reports.pdf import find_chromium
from carbonpeak.targets.assess import assess
from carbonpeak.targets.indicators import compute_indicators

OUTLOOK = {"scenario": "plan", "peak_year": 2029, "peak_co2_t": 6e8, "p_peak_before_2030": 0.55, "draws": 10, "seed": 0,
           "fan": [{"year": y, "p05": 5e8, "p50": 5.5e8, "p95": 6e8} for y in range(2020, 2036)],
           "top_levers": [{"lever": "wind_solar_delivery", "sobol_total": 0.2, "rank": 1}]}


@pytest.fixture(scope="module")
def assessment():
    ind = compute_indicators(_obs(), _results(), base_year=2020)
    return assess(2023, ind, inventory_results=_results(), outlook=OUTLOOK)


def test_message_catalog_complete():
    msgs = load_messages()
    for key, v in msgs.items():
        assert all(v[la].strip() for la in LANGS), key
    # every key the template and builder use exists
    from pathlib import Path

    import carbonpeak.reports as rp

    root = Path(rp.__file__).parent
    text = (root / "templates" / "assessment.html.j2").read_text(encoding="utf-8") + (root / "assessment.py").read_text()
    used = set(re.findall(r"\bt\('([a-z_.]+)'", text)) | set(re.findall(r'\bt\("([a-z_.]+)"', text))
    used = {u for u in used if not u.endswith(".")}
    assert used - set(msgs) == set()
    from carbonpeak.targets.progress import REASONS, STATUSES

    assert {f"reason.{k}" for k in REASONS} <= set(msgs)
    assert {f"status.{s}" for s in STATUSES} <= set(msgs)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_has_all_sections(assessment, lang):
    html = render_html(assessment, lang=lang, inventory_results=_results(), outlook=OUTLOOK)
    for s in SECTIONS:
        assert f'<section id="{s}">' in html, s
    t = Messages(lang)
    for key in ("report.title", "sec.headline", "sec.targets", "sec.cities", "city.missed", "sec.gaps", "sec.sources"):
        assert t(key) in html
    assert html.count("<svg") >= 8  # trajectories + inventory + fan + cities
    assert "wind_solar_capacity_2030" in html
    assert ("广州市" if lang == "zh" else "Guangzhou") in html
    assert "{{" not in html


def test_write_report_html_and_json(assessment, tmp_path):
    rf = write_report(assessment, tmp_path, lang="en", inventory_results=_results(), outlook=OUTLOOK, pdf=False)
    assert rf.html.exists()
    import json

    data = json.loads(rf.json.read_text(encoding="utf-8"))
    assert {"year", "summary", "headline", "targets", "cities", "data_gaps", "sources"} <= set(data)
    assert rf.pdf is None


@pytest.mark.browser
@pytest.mark.skipif(find_chromium() is None, reason="Chromium not installed (make system-deps)")
def test_pdf_in_chinese(assessment, tmp_path):
    rf = write_report(assessment, tmp_path, lang="zh", inventory_results=_results(), outlook=OUTLOOK, pdf=True)
    assert rf.pdf is not None
    assert rf.pdf.read_bytes()[:5] == b"%PDF-"
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(rf.pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert "广东省碳达峰目标任务年度评估报告" in text
        assert "进度正常" in text
    if shutil.which("pdffonts"):
        fonts = subprocess.run(["pdffonts", str(rf.pdf)], capture_output=True, text=True, check=True).stdout
        assert "CJK" in fonts or "Type 3" in fonts  # Chromium embeds the CJK font (Type 3 subsets on Linux)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_prints_the_latest_audit_checkpoint(assessment, lang, tmp_path):
    """The report names the signed chain head its data were read under (issue 9)."""
    from carbonpeak.store import Store, checkpoints
    from carbonpeak.store.users import add_user

    with Store(db_location(tmp_path / "r.duckdb")) as store:
        add_user(store, "analyst", "correct horse battery", "province_analyst")
        cp, _ = checkpoints.create(store)
        latest = checkpoints.latest(store)
    assert latest is not None
    assert latest.summary() == cp.summary()
    html = render_html(assessment, lang=lang, inventory_results=_results(), outlook=OUTLOOK,
                       audit_checkpoint=latest.summary())
    block = re.search(r'<p class="small" id="audit-checkpoint">(.*?)</p>', html, re.S)
    assert block is not None
    for part in (str(cp.seq), cp.head, cp.time, cp.key_id):
        assert part in block.group(1)
    none = render_html(assessment, lang=lang, inventory_results=_results(), outlook=OUTLOOK)
    assert Messages(lang)("sources.audit_none") in none
