"""Dashboard pages of the markets (issue 11 §6): the province's market overview and an
enterprise's accounts and obligations, with surrender.

Data through :mod:`carbonpeak.workflows.markets` (scope from the principal); the surrender form
posts to ``/api/markets/surrender`` from ``static/markets.js`` (no inline script: CSP).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from carbonpeak.i18n import t
from carbonpeak.store import markets as sm
from carbonpeak.workflows import markets as wm

GOVERNMENT = ("admin", "province_analyst", "city_officer")


def _bar(x: list[str], ys: dict[str, list[float]], title: str, unit: str) -> dict[str, Any]:
    return {"data": [{"type": "bar", "name": k, "x": x, "y": v} for k, v in ys.items()],
            "layout": {"title": {"text": title}, "barmode": "group", "yaxis": {"title": {"text": unit}},
                       "margin": {"t": 40, "l": 60, "r": 10, "b": 80}, "height": 340}}


def market_overview(store: Any, user: Any, lang: str, year: int) -> dict[str, Any]:
    ov = wm.overview(store, user)
    pos = ov["positions"]
    ob = wm.obligations(store, user, year)
    totals = sm.totals(store) if user.role != "city_officer" else None
    charts: dict[str, Any] = {}
    if totals is not None and len(totals):
        wide = totals.pivot_table(index="unit_type", columns="kind", values="quantity", aggfunc="sum", fill_value=0)
        charts["chart-market-units"] = _bar(
            list(wide.index), {t(f"markets.kind.{k}", lang): [int(x) for x in wide[k]] for k in wide.columns},
            t("markets.units_chart", lang), "t / tce")
    if len(ob):
        held = pos.set_index("enterprise_id")["GDEA"] if len(pos) else None
        ents = list(ob["enterprise_id"])
        surplus = [float((held.get(e, 0) if held is not None else 0) + s - (o or 0))
                   for e, s, o in zip(ents, ob["surrendered_allowances_t"] + ob["surrendered_offsets_t"],
                                      ob["obligation_t"].fillna(0), strict=True)]
        charts["chart-market-surplus"] = _bar(ents, {t("markets.surplus", lang): surplus},
                                              t("markets.surplus_chart", lang, year=year), "t CO2")
    return {"applications": _applications(store, user),
            "totals": totals.to_dict("records") if totals is not None else None,
            "positions": pos.to_dict("records"), "obligations": ob.to_dict("records"),
            "integrity": ov.get("integrity"), "charts": charts, "year": year}


def _line(x: list[int], ys: dict[str, list[float | None]], title: str, unit: str) -> dict[str, Any]:
    return {"data": [{"type": "scatter", "mode": "lines+markers", "name": k, "x": x, "y": v} for k, v in ys.items()],
            "layout": {"title": {"text": title}, "yaxis": {"title": {"text": unit}, "rangemode": "tozero"},
                       "margin": {"t": 40, "l": 60, "r": 10, "b": 40}, "height": 340}}


def _records(df: Any) -> list[dict[str, Any]]:
    """Rows for a template: NaN as None."""
    return [{k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()} for r in df.to_dict("records")]


def latest_allocation_year(store: Any) -> int | None:
    a = sm.allocations(store)
    return int(a["year"].max()) if len(a) else None


def _labels(lang: str, year: int) -> tuple[dict[str, str], dict[str, str]]:
    """Display names of the sectors (the rule set's sectors.csv) and cities (the regions catalog)."""
    from carbonpeak.catalog.regions import load_regions

    sectors: dict[str, str] = {}
    if lang == "zh":
        rs = wm._gd_ruleset(year)
        sectors = {x.sector: x.name_zh for x in rs.sectors if x.name_zh}
    cities = {code: r.name(lang) for code, r in load_regions().items()}
    return sectors, cities


def peak_view(store: Any, user: Any, lang: str, year: int) -> dict[str, Any]:
    """The page's data: :func:`carbonpeak.workflows.markets.peak_link_view` with its charts (Mt CO2)."""
    v = wm.peak_link_view(store, user, year=year)
    sec_names, city_names = _labels(lang, year)
    v["by_sector"] = v["by_sector"].assign(sector=[f"{sec_names[x]} {x}" if x in sec_names else x
                                                   for x in v["by_sector"]["sector"]])
    v["by_city"] = v["by_city"].assign(city=[f"{city_names.get(x, x)} {x}" if x in city_names else x
                                             for x in v["by_city"]["city"]])
    charts: dict[str, Any] = {}
    mt = 1e-6
    if "path" in v and len(v["path"]):
        path = v["path"]
        charts["chart-peak-path"] = _line(
            [int(y) for y in path["year"]],
            {t("markets.peak.cap", lang): [float(x) * mt for x in path["cap_t"]],
             t("markets.peak.projection", lang): [float(x) * mt for x in path["projection_t"]],
             t("markets.peak.uncovered", lang): [float(x) * mt for x in path["uncovered_t"]]},
            t("markets.peak.path_chart", lang, peak_by=v["peak_by"]), "Mt CO2")
    for key, col in (("by_sector", "sector"), ("by_city", "city")):
        df = v[key]
        if len(df):
            charts[f"chart-peak-{col}"] = _bar(
                [str(x) for x in df[col]],
                {t("markets.peak.allocation", lang): [float(x) for x in df["allocation_t"]],
                 t("markets.peak.emissions", lang): [float(x) for x in df["emissions_t"]],
                 t("markets.surplus", lang): [float(x) for x in df["balance_t"]]},
                t(f"markets.peak.{key}_chart", lang, year=year), "t CO2")
    return {"view": v, "charts": charts, "year": year, "entities": _records(v["entities"]),
            "by_sector": _records(v["by_sector"]), "by_city": _records(v["by_city"]),
            "balance_values": _records(v["balance_values"]),
            "path": _records(v["path"]) if "path" in v else None}


def mount(app: FastAPI, *, render: Callable[..., Response], page: Callable[..., Any],
          store_of: Callable[[Request], Any], lang_of: Callable[[Request], str]) -> None:
    @app.get("/markets/peak", include_in_schema=False)
    def markets_peak(request: Request) -> Response:
        """The cap against the peak plan (province) / the city's covered entities (city officer)."""
        user = page(request, GOVERNMENT)
        if isinstance(user, Response):
            return user
        st = store_of(request)
        q = request.query_params.get("year", "")
        year = _year(request) if q else (latest_allocation_year(st) or _year(request))
        ctx = peak_view(st, user, lang_of(request), year)
        return render(request, "markets_peak.html", "markets.peak.title", user, **ctx)

    @app.get("/markets", include_in_schema=False)
    def markets_page(request: Request) -> Response:
        user = page(request, GOVERNMENT)
        if isinstance(user, Response):
            return user
        year = _year(request)
        ctx = market_overview(store_of(request), user, lang_of(request), year)
        return render(request, "markets.html", "markets.title", user, **ctx)

    @app.get("/markets/enterprise", include_in_schema=False)
    def markets_enterprise(request: Request) -> Response:
        user = page(request, ("admin", "enterprise"))
        if isinstance(user, Response):
            return user
        st, lang, year = store_of(request), lang_of(request), _year(request)
        accounts = wm.visible_accounts(st, user)
        if user.role == "enterprise":
            accounts = accounts[accounts["owner"] == user.enterprise_id]
        rows = []
        for acc in accounts.to_dict("records"):
            if acc["kind"] not in ("holding", "bank"):
                continue
            for b in sm.balance(st, acc["account_id"]).to_dict("records"):
                rows.append({**acc, **b})
        ob = wm.obligations(st, user, year)
        if user.role == "enterprise":
            ob = ob[ob["enterprise_id"] == user.enterprise_id]
        msgs = {k: t(f"markets.msg.{k}", lang) for k in ("done", "refused")}
        return render(request, "markets_enterprise.html", "markets.enterprise_title", user, balances=rows,
                      applications=_applications(st, user),
                      obligations=ob.to_dict("records"), year=year, msgs=msgs,
                      enterprise_id=user.enterprise_id or "")

    _mount_verifier(app, render=render, page=page, store_of=store_of)


def verifier_view(store: Any, user: Any, year: int) -> dict[str, Any]:
    """What a verifier must do: the emissions of its enterprises to sign off (those without a
    sign-off first) and the PHCER applications of its enterprises whose notice is running or over."""
    ob = wm.obligations(store, user, year)
    ob = ob.assign(_signed=ob["verified_t"].notna()).sort_values(["_signed", "enterprise_id"]).drop(columns="_signed")
    rows = [{k: (None if not isinstance(v, str) and v is not None and v != v else v) for k, v in r.items()}
            for r in ob.to_dict("records")]
    apps = [a for a in _applications(store, user) if a["state"] == "noticed"
            and (user.role == "admin" or a["owner"] in user.assigned)]
    return {"to_sign": rows, "to_verify": apps, "year": year}


def _applications(store: Any, user: Any) -> list[dict[str, Any]]:
    """PHCER applications in the user's scope, with state and (when rejected) the reason."""
    df = wm.phcer_applications(store, user)
    recs = df.to_dict("records")
    for r in recs:
        for k in ("verified_t", "rejected_reason", "rejected_by", "resubmission_of"):
            if not isinstance(r.get(k), str) and (r.get(k) is None or r[k] != r[k]):
                r[k] = None
    return recs


def _mount_verifier(app: FastAPI, *, render: Callable[..., Response], page: Callable[..., Any],
                    store_of: Callable[[Request], Any]) -> None:
    @app.get("/markets/verifier", include_in_schema=False)
    def markets_verifier(request: Request) -> Response:
        user = page(request, ("admin", "verifier"))
        if isinstance(user, Response):
            return user
        ctx = verifier_view(store_of(request), user, _year(request))
        return render(request, "markets_verifier.html", "markets.verifier_title", user, **ctx)


def _year(request: Request) -> int:
    q = request.query_params.get("year", "")
    return int(q) if q.isdigit() and 2000 <= int(q) <= 2100 else date.today().year - 1
