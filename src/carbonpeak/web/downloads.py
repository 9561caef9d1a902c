"""Excel (and CSV) downloads of the dashboard's tables: ``GET /download/{table}?format=xlsx|csv``.

Each table is the one the page shows, built by the same scoped query (a city officer's or an
enterprise's download holds only its own rows, through :class:`~carbonpeak.store.access.DataAccess`),
written by :mod:`carbonpeak.io.export`: formatted numbers, headers in the reader's language with
units (``?headers=ids`` for the column ids; an xlsx also lists the ids in a hidden ``columns``
sheet), a sources sheet; CSV with a UTF-8 BOM; formulas neutralised.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd
from fastapi import FastAPI, Query, Request
from fastapi.responses import RedirectResponse, Response

from carbonpeak.errors import NotFound, PermissionDenied
from carbonpeak.store.access import PROVINCE_ROLES, DataAccess
from carbonpeak.store.users import AuthError, Principal, resolve_session

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ALL = ("admin", "province_analyst", "city_officer", "enterprise", "verifier")


@dataclass(frozen=True)
class Table:
    """A downloadable table: who may download it and how it is built."""

    roles: tuple[str, ...]
    build: Callable[[DataAccess, str], list[dict[str, Any]] | pd.DataFrame]
    units: dict[str, str] = field(default_factory=dict)
    source: str = ""


def _targets(dal: DataAccess, lang: str) -> list[dict[str, Any]]:
    from carbonpeak.web.integrations import target_lights

    return target_lights(dal.store, lang)


def _cities(dal: DataAccess, lang: str) -> list[dict[str, Any]]:
    from carbonpeak.web.data import city_tiles

    rows = city_tiles(dal.store, lang)
    return [r for r in rows if dal.p.role != "city_officer" or r["code"] == dal.p.city]


def _mv(name: str, *args: Any) -> Callable[[DataAccess, str], list[dict[str, Any]]]:
    def build(dal: DataAccess, _lang: str) -> list[dict[str, Any]]:
        from carbonpeak.store import monitoring_views as mv

        return getattr(mv, name)(dal, *args)  # type: ignore[no-any-return]

    return build


def _my_alerts(dal: DataAccess, lang: str) -> list[dict[str, Any]]:
    """The enterprise's open alerts: the kind, where (unit, meter) and the message in the reader's language."""
    from carbonpeak.i18n import alert_location
    from carbonpeak.store import monitoring_views as mv
    from carbonpeak.web.monitoring_views import alert_message

    return [{"kind": a["kind"], "location": alert_location(a, lang), "message": alert_message(a, lang)}
            for a in mv.open_alert_messages(dal)]  # fmt: skip


def _peak(part: str) -> Callable[[DataAccess, str], pd.DataFrame]:
    """A table of the markets' peak-link page (the latest allocated year; scoped by the principal)."""
    def build(dal: DataAccess, _lang: str) -> pd.DataFrame:
        from carbonpeak.web.markets_pages import latest_allocation_year
        from carbonpeak.workflows import markets as wm

        year = latest_allocation_year(dal.store)
        if year is None:
            raise NotFound("no allocation issued from the store yet")
        v = wm.peak_link_view(dal.store, dal.p, year=year)
        if part not in v:
            raise PermissionDenied(f"the table '{part}' is the province's")
        return v[part]  # type: ignore[no-any-return]

    return build


_GOV = (*PROVINCE_ROLES, "city_officer")
_PEAK_SOURCE = "carbonpeak markets peak-link (mk_allocations, mk_verified_emissions, mk_caps, scenario run)"

TABLES: dict[str, Table] = {
    "peak_path": Table(PROVINCE_ROLES, _peak("path"), units={"cap_t": "tCO2", "projection_t": "tCO2",
                                                             "uncovered_t": "tCO2", "share": "fraction"},
                       source=_PEAK_SOURCE),
    "peak_by_sector": Table(_GOV, _peak("by_sector"), units={"allocation_t": "tCO2", "emissions_t": "tCO2",
                                                             "balance_t": "tCO2"}, source=_PEAK_SOURCE),
    "peak_by_city": Table(_GOV, _peak("by_city"), units={"allocation_t": "tCO2", "emissions_t": "tCO2",
                                                         "balance_t": "tCO2"}, source=_PEAK_SOURCE),
    "peak_balance_values": Table(_GOV, _peak("balance_values"), units={"emissions_t": "tCO2"}, source=_PEAK_SOURCE),
    "peak_entities": Table(_GOV, _peak("entities"), units={"allocation_t": "tCO2", "free_t": "tCO2",
                                                           "emissions_t": "tCO2", "balance_t": "tCO2"},
                           source=_PEAK_SOURCE),
    "targets": Table(
        (*PROVINCE_ROLES, "city_officer", "verifier"), _targets, source="annual assessment (carbonpeak assess)"
    ),
    "cities": Table((*PROVINCE_ROLES, "city_officer"), _cities, units={"emissions": "tCO2e"}),
    "alerts": Table(ALL, _mv("open_alerts_by_kind")),
    "pue": Table(ALL, _mv("latest_pue"), source="monitoring run (mon_pue)"),
    "budgets": Table(ALL, _mv("budget_use", 0.8), units={"used_share": "fraction", "forecast_share": "fraction"}),
    "my_alerts": Table(("admin", "enterprise"), _my_alerts),
    "submissions": Table(ALL, lambda dal, _l: dal.list_submissions()),
    "audit": Table((*PROVINCE_ROLES, "verifier"), lambda dal, _l: dal.audit_entries(200)),
}


def table_frame(name: str, dal: DataAccess, lang: str) -> pd.DataFrame:
    """The table ``name`` as ``dal``'s principal sees it (403 for a role without it, 404 if unknown)."""
    spec = TABLES.get(name)
    if spec is None:
        raise NotFound(f"no table '{name[:40]}'; one of: {', '.join(TABLES)}")
    if dal.p.role not in spec.roles:
        raise PermissionDenied(f"the table '{name}' is not for role {dal.p.role}")
    try:
        rows = spec.build(dal, lang)
    except (NotFound, PermissionDenied):
        raise
    except Exception as exc:  # the store has no such data yet (e.g. no monitoring run)
        raise NotFound(f"no data yet for '{name}'") from exc
    return rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)


def mount_downloads(app: FastAPI) -> None:
    """Add ``GET /download/{table}`` to the dashboard."""
    from carbonpeak.api.app import SESSION_COOKIE

    @app.get("/download/{table}", include_in_schema=False)
    def download(
        request: Request,
        table: str,
        format: Literal["xlsx", "csv"] = Query("xlsx"),
        headers: Literal["labels", "ids"] = Query("labels"),
    ) -> Response:
        """The table for people (``headers=labels``: column names in the page's language with units;
        an xlsx adds a hidden ``columns`` sheet of the ids) or for programs (``headers=ids``)."""
        tok = request.cookies.get(SESSION_COOKIE)
        store = request.app.state.cp.store
        user: Principal | None = None
        if tok:
            try:
                user = resolve_session(store, tok)
            except AuthError:
                user = None
        if user is None:
            return RedirectResponse("/login", status_code=303)
        lang = request.cookies.get("cp_lang") or "zh"
        dal = DataAccess(store, user)
        df = table_frame(table, dal, lang if lang in ("zh", "en") else "zh")
        spec = TABLES[table]
        from carbonpeak.io.export import csv_bytes, workbook

        hl = (lang if lang in ("zh", "en") else "zh") if headers == "labels" else None
        if format == "csv":
            return Response(
                csv_bytes(df, lang=hl, units=spec.units),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{table}.csv"'},
            )
        sources = [{"what": "dashboard table", "source": f"/download/{table} ({user.username}, {user.role})", "status": ""}]
        if spec.source:
            sources.append({"what": "data", "source": spec.source, "status": ""})
        body = workbook([(table, df)], sources=sources, units=spec.units, origin=f"carbonpeak dashboard /download/{table}",
                        lang=hl)
        return Response(
            body, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{table}.xlsx"'}
        )
