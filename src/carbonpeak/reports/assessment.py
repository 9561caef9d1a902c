"""The annual assessment report: HTML (Jinja2) with SVG charts, JSON, and PDF via headless Chromium."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
import pandas as pd

from carbonpeak import __version__
from carbonpeak.accounting.notation import infer_not_estimated
from carbonpeak.catalog.categories import sector_of
from carbonpeak.catalog.regions import load_regions
from carbonpeak.catalog.targets import load_indicators, load_targets
from carbonpeak.errors import CarbonpeakError
from carbonpeak.i18n import Messages, render_dict
from carbonpeak.jsonutil import to_json
from carbonpeak.reports import charts
from carbonpeak.reports.pdf import find_chromium, html_to_pdf
from carbonpeak.targets.progress import STATUSES, path_value

TEMPLATES = Path(__file__).with_name("templates")
SECTIONS = ("headline", "targets", "trajectories", "cities", "inventory", "outlook", "gaps", "sources")


@dataclass
class ReportFiles:
    html: Path
    json: Path
    pdf: Path | None
    pdf_error: str | None = None


def fmt(v: Any, digits: int = 4) -> str:
    if v is None or (isinstance(v, float) and (math.isnan(v) or math.isinf(v))):
        return "–"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return f"{v:,d}"
    if isinstance(v, float):
        x = float(v)
        ax = abs(x)
        if ax >= 1000:
            return f"{x:,.0f}"
        if ax >= 100:
            return f"{x:,.1f}"
        if ax >= 1:
            return f"{x:.2f}"
        return f"{x:.{digits}g}" if x else "0"
    return str(v)


def local_time(now: datetime | None = None, tz: str | None = None) -> str:
    """``now`` (default: the current time) in the report's time zone (setting ``CARBONPEAK_TIMEZONE``,
    default Asia/Shanghai), as ``YYYY-MM-DD HH:MM`` with the zone's name and UTC offset."""
    if tz is None:
        from carbonpeak.config import get_settings

        tz = get_settings().timezone
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CarbonpeakError(f"unknown time zone '{tz}' (setting CARBONPEAK_TIMEZONE): use an IANA name") from exc
    local = (now or datetime.now(UTC)).astimezone(zone)
    off = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} {tz} (UTC{off[:3]}:{off[3:]})"


def _lenient(t: Messages, prefix: str) -> Any:
    """``t(prefix + x)``, or ``x`` itself when the catalog has no such key (an unforeseen code)."""
    def look(x: Any) -> str:
        if x in (None, ""):
            return ""
        try:
            return t(prefix + str(x))
        except CarbonpeakError:
            return str(x)
    return look


def _num(v: float) -> str:
    """A factor as a person writes it: 1.2, 0.8, 1 (no trailing zeros)."""
    return f"{v:.3f}".rstrip("0").rstrip(".")


def _decomposition_text(t: Messages, lang: str) -> tuple[Any, Any]:
    """The sentences under the city decomposition: indicator weights; tier factors and bounds."""
    inds = load_indicators()
    tier = _lenient(t, "tier.")
    sep = "、" if lang == "zh" else ", "

    def weights(d: Mapping[str, Any]) -> str:
        ind = _lenient(t, "decomp.ind.")
        names = [(inds[k].name(lang) if k in inds else ind(k)) for k in d["weights"]]
        w = sep.join(f"{n} {v:.1%}" for n, v in zip(names, d["weights"].values(), strict=True))
        return t("city.weights", weights=w, floor=_num(float(d["params"].get("index_floor", 0.0))))

    def tiers(d: Mapping[str, Any]) -> str:
        p = d["params"]
        pref = sep.join(f"{tier(k)} ×{_num(float(v))}" for k, v in (p.get("tier_preference") or {}).items())
        bounds = sep.join(f"{tier(k)} {_num(float(lo))}–{_num(float(hi))}" for k, (lo, hi) in p["tier_bounds"].items())
        return t("city.tier_rule", pref=pref, bounds=bounds, mean=float(d["required_mean_pct"]))

    return weights, tiers


def _lever_names(lang: str) -> Any:
    try:
        from carbonpeak.scenarios.levers import lever_table

        labels = {r["lever"]: r["label_zh" if lang == "zh" else "label_en"] for r in lever_table("plan")}
    except Exception:  # scenarios not installed: the lever's code is shown
        labels = {}

    def name(code: str) -> str:
        return labels.get(code, code.replace("_", " "))
    return name


def all_empty(rows: list[Mapping[str, Any]], cols: list[str]) -> bool:
    """Every row has no value in any of ``cols`` (the table collapses to one line)."""
    return bool(rows) and all(r.get(c) is None for r in rows for c in cols)


def _unit(t: Messages) -> Any:
    def unit(u: str) -> str:
        try:
            return t("u." + u)
        except CarbonpeakError:
            return u
    return unit


def _goal(t: Messages) -> Any:
    unit_of = _unit(t)

    def goal(d: Mapping[str, Any]) -> str:
        if d["comparator"] == "between":
            g = f"{fmt(d['target_low'])}–{fmt(d['target_high'])}"
        elif d["kind"] == "yes_no":
            g = t("bool.yes")
        elif d["unit"] == "year":
            g = f"{t('cmp.' + d['comparator'])} {d['target']:.0f}"
        else:
            g = f"{t('cmp.' + d['comparator'])} {fmt(d['target'])}"
            if d["comparator"] == "about":
                g += f" ±{fmt(d['tolerance'])}"
        unit = "" if d["unit"] in ("1", "year") else f" {unit_of(d['unit'])}"
        base = f" vs {d['baseline_year']}" if d["kind"] in ("change", "rate") and d.get("baseline_year") else ""
        return f"{g}{unit}{base} ({d['target_year']})"
    return goal


def target_path(tg: Any, d: Mapping[str, Any], s: Mapping[int, float]
                ) -> tuple[list[tuple[int, float]], tuple[int, float] | None]:
    """The planned level of target ``tg`` in each year from its baseline to its target year, and
    the target point (docs/methods/targets.md): change targets as a level path from the baseline
    level; others from the baseline value.  ``d``: the target's assessment row; ``s``: the observed
    series by year.  No path where the baseline level is unknown."""
    path: list[tuple[int, float]] = []
    target_pt: tuple[int, float] | None = None
    b_year = tg.baseline.year if tg.baseline else None
    if tg.kind == "change" and b_year is not None:
        level0 = tg.baseline.value if tg.baseline and tg.baseline.value is not None else s.get(b_year)
        if level0:
            path = [(y, level0 * (1 + (path_value(tg, 0.0, b_year, y) or 0) / 100))
                    for y in range(b_year, tg.target_year + 1)]
            target_pt = (tg.target_year, level0 * (1 + tg.target_value / 100))
    else:
        B = d.get("baseline")
        if B is None and tg.baseline is not None:
            B = tg.baseline.value if tg.baseline.value is not None else s.get(tg.baseline.year)
        if B is not None and b_year is not None:
            path = [(y, path_value(tg, float(B), b_year, y) or 0.0) for y in range(b_year, tg.target_year + 1)]
        target_pt = (tg.target_year, tg.target_value)
    return path, target_pt


def _trajectory_charts(a: Mapping[str, Any], t: Messages, lang: str) -> list[dict[str, Any]]:
    cat = load_targets()
    by_id = {d["id"]: d for d in a["targets"]}
    out = []
    labels = {"path": t("traj.path"), "observed": t("traj.observed"), "target": t("traj.target"),
              "no_path": t("traj.no_path")}
    for tid, tr in a["trajectories"].items():
        tg = cat.get(tid)
        d = by_id.get(tid, {})
        s = {int(p["year"]): float(p["value"]) for p in tr["series"]}
        observed = sorted(s.items())
        path, target_pt = target_path(tg, d, s)
        title = f"{tg.name(lang)}"
        svg = charts.trajectory_chart(title, _unit(t)(tr["unit"]), observed, path, target_pt, labels,
                                      zero_note=t("chart.not_zero"))
        out.append({"id": tid, "svg": svg, "has_data": bool(observed)})
    return out


def _inventory(results: pd.DataFrame | None, region: str, gwp: str, lang: str = "en") -> dict[str, Any]:
    if results is None or len(results) == 0:
        return {"years": [], "rows": {}, "total": [], "gwp": gwp, "flags": {}, "total_flags": [],
                "not_estimated": {}, "warnings": []}
    r = results[(results["scope"] == "territorial") & (results["region"] == region)]
    if len(r) == 0:
        return {"years": [], "rows": {}, "total": [], "gwp": gwp, "flags": {}, "total_flags": [],
                "not_estimated": {}, "warnings": []}
    sec = r["category"].map({c: sector_of(c) for c in r["category"].unique()})
    # missing is not zero: a sector-year without results stays NaN (shown "NE"), and a year
    # whose categories are not all estimated is flagged (IPCC notation key NE)
    tab = r.assign(sector=sec).groupby(["sector", "year"])["co2e_t"].sum().unstack("year") / 1e4
    order = [s for s in ("energy", "ippu", "agriculture", "lulucf", "waste") if s in tab.index]
    tab = tab.loc[order]
    years = [int(y) for y in tab.columns]
    ne = infer_not_estimated(r)
    ne_by_year: dict[int, list[str]] = {}
    for y, grp in ne.groupby("year"):
        ne_by_year[int(y)] = sorted(set(grp["category"]))
    ne_cells = {(sector_of(c), y) for y, cs in ne_by_year.items() for c in cs}
    rows = {s: [None if pd.isna(v) else float(v) for v in tab.loc[s]] for s in order}
    flags = {s: [(s, y) in ne_cells for y in years] for s in order}
    warnings = [render_dict(w, lang, default=str(w.get("message", w))) for w in results.attrs.get("data_warnings", [])
                if w.get("region") in (None, region)]
    return {"years": years, "rows": rows, "flags": flags,
            "total": [float(v) for v in tab.sum(axis=0, min_count=1).fillna(0.0)],
            "total_flags": [y in ne_by_year for y in years],
            "not_estimated": {y: ne_by_year[y] for y in years if y in ne_by_year},
            "warnings": warnings, "gwp": gwp}


def render_html(assessment: Mapping[str, Any], *, lang: str = "zh", inventory_results: pd.DataFrame | None = None,
                outlook: Mapping[str, Any] | None = None, demo: bool | Mapping[str, Any] = False, gwp: str = "AR5",
                audit_checkpoint: Mapping[str, Any] | None = None) -> str:
    """The report as one self-contained HTML page.

    ``demo`` marks demo data on the title page and in the footer of every printed page: ``True``
    for a report of the bundled demo files, or the store's data origin
    (:meth:`carbonpeak.workflows.demo.DataStatus.to_dict`; a mixed store names the demo figures).

    ``audit_checkpoint`` is the latest signed checkpoint of the audit chain (``seq``, ``head``,
    ``time``, ``key_id``; :func:`carbonpeak.store.checkpoints.latest`), printed in the sources
    section so that a reader can check the report's data against the published chain head.
    """
    t = Messages(lang)
    a = assessment
    regions = load_regions()
    inv = _inventory(inventory_results, a["region"], gwp, lang)
    ch: dict[str, Any] = {"trajectories": _trajectory_charts(a, t, lang)}
    if inv["years"]:
        ch["inventory"] = charts.stacked_sector_chart(
            inv["years"],
            {t("sector." + s): [x or 0.0 for x in v] for s, v in inv["rows"].items() if any((x or 0) > 0 for x in v)},
            t("unit.10kt") + " CO2e", "")
    if outlook and outlook.get("fan"):
        hist = [(int(p["year"]), float(p["value"])) for p in a.get("emissions_series", [])]
        ch["fan"] = charts.fan_chart(
            outlook["fan"], t("outlook.fan"), t("unit.10kt") + " CO2", hist,
            {"history": t("outlook.history"), "median": t("outlook.median"), "band": t("outlook.band")},
            zero_note=t("chart.not_zero"))
    decs = a["cities"].get("decompositions") or []
    city_rows = []
    if decs:
        base = {r["region"]: r for r in decs[0]["cities"]}
        for code, r in base.items():
            city_rows.append({
                "name": regions[code].name(lang) if code in regions else code, "tier": r.get("tier", ""),
                "base_intensity": r.get("base_intensity"),
                "reductions": [next((c["reduction_pct"] for c in d["cities"] if c["region"] == code), None) for d in decs],
            })
        opt = next((d for d in decs if d["method"] == "optimise"), decs[0])
        order = [c["region"] for c in sorted(opt["cities"], key=lambda c: -c["reduction_pct"])]
        series = {t("city.method." + d["method"]): [next(c["reduction_pct"] for c in d["cities"] if c["region"] == code)
                                                   for code in order] for d in decs}
        ch["city"] = charts.city_bar_chart(
            [regions[c].name(lang) if c in regions else c for c in order], series, t("city.chart"),
            t("col.reduction") + " %")
    levers = list((outlook or {}).get("top_levers") or [])
    inds = load_indicators()

    def reason(d: Mapping[str, Any]) -> str:
        code = d.get("reason_code")
        if not code:
            return str(d.get("reason", ""))
        args = dict(d.get("reason_args") or {})
        if args.get("indicator") in inds:
            args["indicator"] = inds[args["indicator"]].name(lang)
        try:
            return t("reason." + code, **args)
        except (KeyError, ValueError, IndexError):
            return str(d.get("reason", ""))

    weights, tiers = _decomposition_text(t, lang)
    note = _demo_note(demo, t, lang)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=jinja2.select_autoescape(["html", "j2"]),
                             undefined=jinja2.StrictUndefined)
    tpl = env.get_template("assessment.html.j2")
    return tpl.render(
        a=a, t=t, lang=lang, fmt=fmt, goal=_goal(t), statuses=STATUSES, charts=ch, inventory=inv,
        city_rows=city_rows, levers=levers, demo=note, demo_short=t("data.demo_short"),
        demo_css=_css_string(f"{t('data.demo_short')} · {note}") if note else "",
        version=__version__,
        date=local_time(), font_stack=charts.FONT_STACK, dstatus=_lenient(t, "dstatus."),
        scenario_name=_lenient(t, "scenario."),
        decomp_weights=weights, decomp_tiers=tiers, lever_name=_lever_names(lang), all_empty=all_empty,
        about_rule=lambda ab: t("rules.about", share=_num(float(ab.get("share", 0))), level=float(ab.get("level_rel", 0))),
        reason=reason, unit=_unit(t), audit_checkpoint=audit_checkpoint,
        rate_unit=lambda ru: "%/yr" if ru == "%/yr" else (_unit(t)(ru[:-3]) + "/yr" if ru.endswith("/yr") else ru), region_name=lambda c: regions[c].name(lang) if c in regions else c,
    )


def _css_string(text: str) -> str:
    """``text`` as a quoted CSS string, safe inside a ``<style>`` element."""
    clean = "".join(ch for ch in text if ch not in '<>"\\\n\r')
    return f'"{clean}"'


def _demo_note(demo: bool | Mapping[str, Any], t: Messages, lang: str) -> str | None:
    """The demo sentence of the report, ``None`` when its data are not demo data."""
    if isinstance(demo, Mapping):
        if not demo.get("demo"):
            return None
        msg = (demo.get("message") or {}).get(lang)
        return str(msg) if msg else t("report.demo_note")
    return t("report.demo_note") if demo else None


def write_report(
    assessment: Mapping[str, Any],
    out_dir: str | Path,
    *,
    lang: str = "zh",
    inventory_results: pd.DataFrame | None = None,
    outlook: Mapping[str, Any] | None = None,
    pdf: bool = True,
    demo: bool | Mapping[str, Any] = False,
    gwp: str = "AR5",
    audit_checkpoint: Mapping[str, Any] | None = None,
) -> ReportFiles:
    """Write ``assessment-<year>-<lang>.html``, ``.json`` and (with Chromium) ``.pdf`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"assessment-{assessment['year']}-{lang}"
    html = out / f"{stem}.html"
    html.write_text(render_html(assessment, lang=lang, inventory_results=inventory_results, outlook=outlook,
                                demo=demo, gwp=gwp, audit_checkpoint=audit_checkpoint), encoding="utf-8")
    js = out / f"assessment-{assessment['year']}.json"
    js.write_text(to_json(assessment), encoding="utf-8")
    pdf_path: Path | None = None
    err = None
    if pdf:
        if find_chromium() is None:
            err = "Chromium not found (run `make system-deps`); PDF not written"
        else:
            pdf_path = html_to_pdf(html, out / f"{stem}.pdf")
    return ReportFiles(html, js, pdf_path, err)
