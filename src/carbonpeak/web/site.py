"""Dashboard routes."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from carbonpeak.api.app import SESSION_COOKIE, create_app
from carbonpeak.errors import NotFound
from carbonpeak.i18n import LANGS, t
from carbonpeak.store.access import PROVINCE_ROLES, DataAccess
from carbonpeak.store.duck import Store
from carbonpeak.store.users import AuthError, Principal, end_session, resolve_session
from carbonpeak.web import data
from carbonpeak.workflows.demo import data_status
from carbonpeak.workflows.views import cached_view

HERE = Path(__file__).parent
LANG_COOKIE = "cp_lang"

_env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))


def _plotly_js() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def create_site(store: Store | str | Path, *, map_boundaries: str | Path | None = None, **kw: Any) -> FastAPI:
    """The API plus the dashboard, on one store.  ``map_boundaries``: the city map's boundary file
    (default: the setting ``map_boundaries``, else the package's file; docs/dashboard.md)."""
    app = create_app(store, **kw)
    mount_dashboard(app, map_boundaries=map_boundaries)
    return app


def mount_dashboard(app: FastAPI, *, map_boundaries: str | Path | None = None) -> None:
    if map_boundaries is None:
        from carbonpeak.config import get_settings

        map_boundaries = get_settings().map_boundaries
    app.state.map_boundaries = map_boundaries
    app.mount("/static/app", StaticFiles(directory=HERE / "static"), name="static")
    from carbonpeak.web.downloads import mount_downloads

    mount_downloads(app)  # GET /download/{table}: Excel/CSV of each dashboard table

    def store_of(request: Request) -> Store:
        return request.app.state.cp.store  # type: ignore[no-any-return]

    def lang_of(request: Request) -> str:
        q = request.query_params.get("lang")
        if q in LANGS:
            return q
        c = request.cookies.get(LANG_COOKIE)
        return c if c in LANGS else "zh"

    def principal_of(request: Request) -> Principal | None:
        tok = request.cookies.get(SESSION_COOKIE)
        if not tok:
            return None
        try:
            return resolve_session(store_of(request), tok)
        except AuthError:
            return None

    def render(
        request: Request,
        template: str,
        title_key: str,
        user: Principal | None,
        title: str | None = None,
        *,
        inventory_page: bool = False,
        **ctx: Any,
    ) -> HTMLResponse:
        return respond(request, html_of(request, template, title_key, user, title, inventory_page=inventory_page, **ctx))

    def html_of(
        request: Request,
        template: str,
        title_key: str,
        user: Principal | None,
        title: str | None = None,
        *,
        inventory_page: bool = False,
        **ctx: Any,
    ) -> str:
        lang = lang_of(request)
        # every signed-in page says when it shows demo data; the pages of inventory figures say
        # "no data yet" on a store without inventory data (workflows/demo.py)
        status = data_status(store_of(request)) if user is not None else None
        if status is not None and status.empty and not inventory_page:
            status = None
        html = _env.get_template(template).render(
            lang=lang,
            t=lambda k, **kw: t(k, lang, **kw),
            title=title or t(title_key, lang),
            user=user,
            city_label=lambda code: data.region_name(code, lang),
            when=data.local_ts,
            data_state=status.state if status else None,
            data_message=status.message(lang) if status else None,
            **ctx,
        )
        return str(html)

    def respond(request: Request, html: str) -> HTMLResponse:
        resp = HTMLResponse(html)
        if request.query_params.get("lang") in LANGS:
            resp.set_cookie(
                LANG_COOKIE, lang_of(request), samesite="lax", secure=request.app.state.cp.tls, max_age=365 * 86400
            )
        return resp

    def page(request: Request, roles: tuple[str, ...] | None = None) -> Principal | Response:
        user = principal_of(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        if roles is not None and user.role not in roles:
            return _forbidden(request, user)
        return user

    def _forbidden(request: Request, user: Principal) -> Response:
        resp = render(request, "error.html", "app.title", user, message="403")
        resp.status_code = 403
        return resp

    @app.get("/static/vendor/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(_plotly_js(), media_type="application/javascript")

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> FileResponse:
        p = (HERE / "static" / name).resolve()
        if p.parent != (HERE / "static").resolve() or not p.exists():
            raise NotFound(name)
        return FileResponse(p)

    @app.get("/", include_in_schema=False)
    def home(request: Request) -> Response:
        user = principal_of(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        return RedirectResponse("/enterprise" if user.role == "enterprise" else "/province", status_code=303)

    @app.get("/login", include_in_schema=False)
    def login_page(request: Request) -> Response:
        return render(request, "login.html", "login.title", None)

    @app.get("/logout", include_in_schema=False)
    def logout_page(request: Request) -> Response:
        tok = request.cookies.get(SESSION_COOKIE)
        if tok:
            end_session(store_of(request), tok)
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(SESSION_COOKIE)
        return resp

    @app.get("/province", include_in_schema=False)
    def province(request: Request) -> Response:
        user = page(request, ("admin", "province_analyst", "city_officer", "verifier"))
        if isinstance(user, Response):
            return user
        lang = lang_of(request)
        region = user.city if user.role == "city_officer" else None
        st = store_of(request)

        def build() -> str:
            ctx = cached_view(
                st, ("province", lang, region), lambda: data.province_overview(st, lang, region=region)
            )
            # a city officer's overview is its city's, and says so in the title (广州市概览)
            title = t("province.city_title", lang, city=data.region_name(region, lang)) if region else None
            return html_of(
                request, "province.html", "nav.province", user, title=title, inventory_page=True,
                city_view=bool(region), **ctx,
            )

        return respond(request, cached_view(st, ("page", "province", lang, user), build))

    @app.get("/cities", include_in_schema=False)
    def cities(request: Request) -> Response:
        user = page(request, ("admin", "province_analyst", "city_officer"))
        if isinstance(user, Response):
            return user
        st, lang = store_of(request), lang_of(request)

        def build() -> str:
            rows = cached_view(st, ("cities", lang), lambda: data.city_tiles(st, lang))
            if user.role == "city_officer":
                rows = [r for r in rows if r["code"] == user.city]
            return html_of(request, "cities.html", "cities.title", user, inventory_page=True, cities=rows)

        return respond(request, cached_view(st, ("page", "cities", lang, user), build))

    @app.get("/cities/{code}", include_in_schema=False)
    def city(request: Request, code: str) -> Response:
        user = page(request, ("admin", "province_analyst", "city_officer"))
        if isinstance(user, Response):
            return user
        if user.role == "city_officer" and code != user.city:
            return _forbidden(request, user)
        lang = lang_of(request)
        tiles = {r["code"]: r for r in data.city_tiles(store_of(request), lang)}
        if code not in tiles:
            resp = render(request, "error.html", "app.title", user, message=f"unknown city {code[:40]}")
            resp.status_code = 404
            return resp
        ctx = data.province_overview(store_of(request), lang, region=code)
        return render(
            request, "city.html", "cities.title", user, title=tiles[code]["name"], inventory_page=True, city=tiles[code],
            charts=ctx["charts"], inventory=ctx["inventory"],
        )

    @app.get("/map", include_in_schema=False)
    def city_map(request: Request) -> Response:
        """The 21 cities coloured by an indicator (status, emissions, intensity), with a legend."""
        user = page(request, ("admin", "province_analyst", "city_officer"))
        if isinstance(user, Response):
            return user
        st, lang = store_of(request), lang_of(request)
        indicator = request.query_params.get("indicator", "status")
        geo = request.app.state.map_boundaries
        ctx = cached_view(st, ("map", lang, indicator, str(geo)), lambda: data.city_map(st, lang, indicator, geo))
        return render(request, "map.html", "map.title", user, own_city=user.city, **ctx)

    @app.get("/levers", include_in_schema=False)
    def levers_page(request: Request) -> Response:
        user = page(request, ("admin", "province_analyst", "city_officer"))
        if isinstance(user, Response):
            return user
        from carbonpeak.scenarios.levers import lever_table

        return render(request, "levers.html", "levers.title", user, inventory_page=True, levers=lever_table("plan"))

    @app.get("/monitoring", include_in_schema=False)
    def monitoring(request: Request) -> Response:
        user = page(request)
        if isinstance(user, Response):
            return user
        st = store_of(request)
        scope = (user.role, user.city, user.enterprise_id, user.assigned)
        lang = lang_of(request)
        ctx = cached_view(
            st, ("monitoring", lang, scope), lambda: data.monitoring_overview(DataAccess(st, user), lang)
        )
        return render(request, "monitoring.html", "monitoring.title", user, **ctx)

    @app.get("/enterprise", include_in_schema=False)
    def enterprise(request: Request) -> Response:
        user = page(request, ("admin", "enterprise"))
        if isinstance(user, Response):
            return user
        lang = lang_of(request)
        dal = DataAccess(store_of(request), user)
        subs = dal.submission_records()
        ctx = data.enterprise_overview(dal, lang)
        msgs = {k: t(f"enterprise.{k}", lang) for k in ("ok", "same", "errors")}
        return render(
            request,
            "enterprise.html",
            "enterprise.title",
            user,
            submissions=subs,
            msgs=msgs,
            default_period=date.today().strftime("%Y-%m"),
            **ctx,
        )

    @app.get("/account/password", include_in_schema=False)
    def password_page(request: Request) -> Response:
        """Change one's own password (form posts to /api/auth/password; see static/password.js)."""
        user = page(request)
        if isinstance(user, Response):
            return user
        lang = lang_of(request)
        msgs = {k: t(f"password.{k}", lang) for k in ("changed", "refused", "differ")}
        return render(request, "password.html", "password.title", user, msgs=msgs)

    from carbonpeak.web import markets_pages

    markets_pages.mount(app, render=render, page=page, store_of=store_of, lang_of=lang_of)

    @app.get("/audit", include_in_schema=False)
    def audit_page(request: Request) -> Response:
        user = page(request, (*PROVINCE_ROLES, "verifier"))
        if isinstance(user, Response):
            return user
        from carbonpeak.store import audit

        dal = DataAccess(store_of(request), user)
        entries = dal.audit_entries(200).to_dict(orient="records")
        chain = audit.verify_chain(store_of(request))
        return render(request, "audit.html", "audit.title", user, entries=entries, chain=chain)

    @app.get("/admin/schedule", include_in_schema=False)
    def schedule_page(request: Request) -> Response:
        """The schedule of unattended work and its recent runs (admin; data of /api/admin/schedule)."""
        user = page(request, ("admin",))
        if isinstance(user, Response):
            return user
        from carbonpeak.workflows.schedule import history

        overview = request.app.state.cp.scheduler.overview()
        try:
            runs = history(store_of(request), 50)
        except Exception:  # a store without the jobs table yet: nothing ran
            runs = []
        return render(request, "schedule.html", "schedule.title", user, s=overview, runs=runs)

