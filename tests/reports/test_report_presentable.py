"""The report an official can present (issue 12): no Python structures or raw codes in the text,
every status word in the report's language, local time, formatted axes, tables of nothing collapse."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from tests.reports.test_assessment_report import OUTLOOK
from tests.targets.test_indicators_assess import _obs, _results

from carbonpeak.errors import CarbonpeakError
from carbonpeak.i18n import Messages
from carbonpeak.reports import charts
from carbonpeak.reports.assessment import all_empty, local_time, render_html
from carbonpeak.targets.assess import assess
from carbonpeak.targets.indicators import compute_indicators

DATA_STATUS = ("verified", "derived", "consistent", "unverified", "estimate", "synthetic", "projection")


@pytest.fixture(scope="module")
def assessment():
    ind = compute_indicators(_obs(), _results(), base_year=2020)
    return assess(2023, ind, inventory_results=_results(), outlook=OUTLOOK)


def _text(html: str) -> str:
    """The report's visible text: no tags, styles or charts."""
    html = re.sub(r"<(style|svg)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_python_structures_or_long_decimals(assessment, lang):
    text = _text(render_html(assessment, lang=lang, inventory_results=_results(), outlook=OUTLOOK))
    assert not re.search(r"\{'|'\}|\[\d+\.\d+, \d", text), re.findall(r".{30}\{'.{30}", text)[:3]
    # no padded decimals such as "20.5000%" (a value printed with more zeros than it has digits)
    assert not re.search(r"\d\.\d*000\s*%", text), re.findall(r".{20}\d\.\d*000\s*%", text)[:3]
    assert "tier preference" not in text
    assert "index_floor" not in text


def test_zh_report_has_no_english_status_words(assessment):
    text = _text(render_html(assessment, lang="zh", inventory_results=_results(), outlook=OUTLOOK))
    # the data-status legend (sources.status) names the codes on purpose; everything else is Chinese
    legend = Messages("zh")("sources.status")
    text = text.replace(legend, "")
    for word in (*DATA_STATUS, "on track", "off track", "at risk", "no data", "achieved"):
        assert not re.search(rf"(?<![\w_]){word}(?![\w_])", text), word


def test_local_time_zone_in_the_timestamp(monkeypatch):
    noon_utc = datetime(2026, 3, 1, 4, 30, tzinfo=UTC)
    assert local_time(noon_utc, "Asia/Shanghai") == "2026-03-01 12:30 Asia/Shanghai (UTC+08:00)"
    assert local_time(noon_utc, "UTC") == "2026-03-01 04:30 UTC (UTC+00:00)"
    with pytest.raises(CarbonpeakError, match="CARBONPEAK_TIMEZONE"):
        local_time(noon_utc, "Mars/Olympus")


def test_report_timestamp_uses_the_setting(assessment, monkeypatch):
    from carbonpeak.config import get_settings

    monkeypatch.setenv("CARBONPEAK_TIMEZONE", "Europe/Berlin")
    get_settings.cache_clear() if hasattr(get_settings, "cache_clear") else None
    try:
        html = render_html(assessment, lang="en", inventory_results=_results(), outlook=OUTLOOK)
    finally:
        monkeypatch.delenv("CARBONPEAK_TIMEZONE")
        get_settings.cache_clear() if hasattr(get_settings, "cache_clear") else None
    assert "Europe/Berlin (UTC+01:00)" in html or "Europe/Berlin (UTC+02:00)" in html


def test_all_no_data_table_collapses(assessment):
    a = dict(assessment)
    cities = dict(a["cities"])
    cities["dual_control"] = [
        {**r, "co2_emissions_10kt": None, "co2_intensity_t_per_10k_yuan": None,
         "energy_intensity_tce_per_10k_yuan": None}
        for r in cities["dual_control"]
    ]
    a["cities"] = cities
    html = render_html(a, lang="zh", inventory_results=_results(), outlook=OUTLOOK)
    assert 'id="dual-control-empty"' in html
    assert Messages("zh")("table.all_no_data", n=len(cities["dual_control"])) in html
    assert all_empty([{"x": None}], ["x"])
    assert not all_empty([{"x": 1.0}], ["x"])
    assert not all_empty([], ["x"])


def test_axis_ticks_have_thousands_separators():
    assert charts.tick(56911.95) == "56,912"
    assert charts.tick(0.525) == "0.525"
    assert charts.tick(12.5) == "12.5"
    assert charts.tick(0) == "0"


def test_peak_chart_joins_history_and_projection():
    fan = [{"year": y, "p05": 5e8, "p50": 5.5e8 + y, "p95": 6e8} for y in range(2021, 2031)]
    svg = charts.fan_chart(fan, "t", "10⁴ t", [(2018, 50000.0), (2019, 51000.0)],
                           {"history": "HIST", "median": "MED", "band": "BAND"}, zero_note="NOT-ZERO")
    for label in ("HIST", "MED", "BAND"):
        assert label in svg
    # 50,000-60,000: zero would squash the lines, so the chart says it does not start there
    assert "NOT-ZERO" in svg
    assert "50,000" in svg
    # a dotted segment joins the last observed year (2019) to the first projected one (2021)
    assert svg.count("stroke-dasharray") >= 2
    low = charts.fan_chart(fan, "t", "u", [(2019, 30000.0)], zero_note="NOT-ZERO")
    assert "NOT-ZERO" not in low
    assert re.search(r">\s*0\s*</text>", low)


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_pdf_fonts_are_real_and_pages_render(assessment, lang, tmp_path):
    """Both languages embed TrueType (CID) fonts only, and every page renders to PNG (pdftoppm) under
    test-artifacts/screenshots/report/ for a person to look at."""
    import shutil
    import subprocess
    from pathlib import Path

    from carbonpeak.reports.assessment import write_report
    from carbonpeak.reports.pdf import find_chromium

    assert find_chromium(), "Chromium missing: run `make system-deps`"
    assert shutil.which("pdffonts"), "poppler-utils missing: run `make system-deps`"
    assert shutil.which("pdftoppm"), "poppler-utils missing: run `make system-deps`"
    rf = write_report(assessment, tmp_path, lang=lang, inventory_results=_results(), outlook=OUTLOOK, pdf=True)
    assert rf.pdf is not None
    fonts = subprocess.run(["pdffonts", str(rf.pdf)], capture_output=True, text=True, check=True).stdout
    rows = fonts.splitlines()[2:]
    assert rows, fonts
    assert all("CID TrueType" in r for r in rows), fonts
    out = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots" / "report"
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(rf.pdf), str(out / f"report-{lang}")], check=True)
    assert len(list(out.glob(f"report-{lang}-*.png"))) >= 3
