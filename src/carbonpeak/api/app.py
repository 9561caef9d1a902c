"""FastAPI application factory and endpoints."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from fastapi import Depends, FastAPI, File, Form, Header, HTTPException, Query, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field, model_validator

from carbonpeak import __version__
from carbonpeak.api.checkpointer import Checkpointer
from carbonpeak.api.docs_gate import install_docs
from carbonpeak.api.inputs import PERIOD_FORMATS, CityCode, EnterpriseId, SafeText, check_period
from carbonpeak.api.jobs import JobRunner
from carbonpeak.api.ratelimit import LoginGuard, client_address, parse_networks
from carbonpeak.api.security_headers import install_security_headers
from carbonpeak.api.uploads import (
    BodyLimitMiddleware,
    Upload,
    UploadTooLarge,
    client_names,
    new_upload_folder,
    save_uploads,
    uploaded,
)
from carbonpeak.config import get_settings
from carbonpeak.errors import CarbonpeakError, Problem, ValidationError
from carbonpeak.io import TableSpec, read_table, validate_table
from carbonpeak.io.validate import Column
from carbonpeak.jsonutil import to_json
from carbonpeak.store.access import PROVINCE_ROLES, DataAccess
from carbonpeak.store.duck import Store
from carbonpeak.store.users import (
    AuthError,
    PermissionDenied,
    Principal,
    add_user,
    authenticate,
    change_password,
    create_session,
    end_session,
    list_users,
    record_login,
    resolve_session,
    set_disabled,
)

SESSION_COOKIE = "cp_session"
_INGEST_GATE = threading.Lock()


def _not_future(ts: pd.Series) -> tuple[pd.Series, str]:
    """Readings may not lie in the future (beyond the clock allowance of plausible_ranges.yaml)."""
    from carbonpeak.io.validate import clock_allowance_minutes

    limit = pd.Timestamp.now(tz="UTC") + pd.Timedelta(minutes=clock_allowance_minutes())
    return pd.Series(pd.to_datetime(ts, utc=True) > limit, index=ts.index), "lies in the future"


#: What an enterprise may upload through the service (a readings or an output file).
UPLOAD_SPECS: dict[str, TableSpec] = {
    "readings": TableSpec(
        "readings",
        (
            Column("meter_id"),
            Column("ts", "timestamp", check=_not_future),
            Column("value", "float", nonnegative=True),
        ),
        unique=("meter_id", "ts"),
    ),
    "output": TableSpec(
        "output",
        (
            Column("unit_id"),
            Column("product"),
            Column("period"),
            Column("amount", "float", nonnegative=True),
            Column("unit"),
        ),
        unique=("unit_id", "product", "period"),
    ),
}


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class PasswordIn(BaseModel):
    old_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


class LoginOut(BaseModel):
    token: str
    expires_at: str
    user: dict[str, Any]


class UserIn(BaseModel):
    username: str = Field(min_length=3, max_length=64)
    password: str = Field(min_length=12, max_length=256)
    role: str = Field(max_length=32)
    city: CityCode | None = None
    enterprise_id: EnterpriseId | None = None
    #: each assigned enterprise id is validated on its own (no comma-joined lists)
    assigned: list[EnterpriseId] = Field(default_factory=list, max_length=1000)


class CreditIn(BaseModel):
    enterprise_id: EnterpriseId
    kind: str = Field(max_length=64)
    detail: SafeText
    period: str | None = Field(default=None, pattern=r"^[0-9]{4}(-(0[1-9]|1[0-2]))?$")


class ScenarioIn(BaseModel):
    scenario: str = Field(default="plan", pattern="^[a-z0-9_-]{1,64}$")


class MonteCarloIn(ScenarioIn):
    draws: int = Field(default=2000, ge=10, le=100_000)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)


class LeversIn(ScenarioIn):
    settings: dict[str, float] = Field(default_factory=dict, max_length=32)
    draws: int = Field(default=300, ge=10, le=2000)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)


class ReportIn(BaseModel):
    year: int | None = Field(default=None, ge=2000, le=2100)
    lang: str = Field(default="zh", pattern="^(zh|en)$")
    pdf: bool = True


class ReviewIn(BaseModel):
    comment: SafeText
    outcome: str = Field(default="noted", pattern="^(noted|dismissed|confirmed_falsification)$")


class DeadlineIn(BaseModel):
    kind: str = Field(pattern="^(readings|output)$")
    period: str = Field(min_length=1, max_length=32)
    due: date

    @model_validator(mode="after")
    def _period_format(self) -> DeadlineIn:
        fmt = PERIOD_FORMATS[self.kind]
        if not fmt[0].fullmatch(self.period):
            raise ValueError(f"period must be {fmt[1]}")
        return self


class CompileIn(BaseModel):
    gwp: str = Field(default="AR5", pattern="^(AR4|AR5|AR6)$")
    year: int | None = Field(default=None, ge=1990, le=2100)
    region: str | None = Field(default=None, max_length=8)
    uncertainty: str = Field(default="none", pattern="^(none|approach1|mc)$")
    draws: int = Field(default=10_000, ge=100, le=1_000_000)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)


class AppState:
    def __init__(
        self,
        store: Store,
        *,
        session_ttl: timedelta,
        guard: LoginGuard,
        trusted_proxies: tuple[str, ...] = (),
        tls: bool = False,
        max_upload_bytes: int | None = None,
    ) -> None:
        self.store = store
        self.jobs = JobRunner(store)
        self.guard = guard
        self.proxies = parse_networks(trusted_proxies)
        self.tls = tls
        self.session_ttl = session_ttl
        self.max_upload_bytes = max_upload_bytes or get_settings().max_upload_bytes

    def client(self, request: Request) -> str:
        """The real client address (X-Forwarded-For only from trusted proxies)."""
        return client_address(request.client.host if request.client else None, request.headers, self.proxies)

    def set_session_cookie(self, response: Response, token: str) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=self.tls,
            max_age=int(self.session_ttl.total_seconds()),
        )


def _state(request: Request) -> AppState:
    return request.app.state.cp  # type: ignore[no-any-return]


def current_principal(
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
) -> Principal:
    token = None
    if authorization and authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
    elif request.cookies.get(SESSION_COOKIE):
        token = request.cookies[SESSION_COOKIE]
    if not token:
        raise AuthError("log in first (POST /api/auth/login)")
    return resolve_session(_state(request).store, token)


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def access(request: Request, p: PrincipalDep) -> DataAccess:
    return DataAccess(_state(request).store, p)


AccessDep = Annotated[DataAccess, Depends(access)]


def _government(p: Principal) -> None:
    if p.role not in (*PROVINCE_ROLES, "city_officer"):
        raise PermissionDenied("projections are for province and city roles")


def _packaged_scenario(name: str) -> str:
    from carbonpeak.scenarios.scenario import available_scenarios

    if name not in available_scenarios():
        raise KeyError(f"scenario {name}")
    return name


_KIND_ORDER = ("units", "meters", "output", "budgets", "reported", "readings")


def _parquet_rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    """Run ``sql`` (a code constant with one ``read_parquet(?)``) on a saved upload; the path is bound."""
    import duckdb

    try:
        with duckdb.connect(":memory:") as con:
            return con.execute(sql, [str(path)]).fetchall()
    except duckdb.Error as exc:
        raise ValidationError([Problem(str(path), None, None, f"cannot read the Parquet file: {exc}")]) from None


def _columns(path: Path) -> list[str]:
    """Column names of a saved upload (``path`` is a server-generated name; bound, never spliced)."""
    if path.suffix.lower() in (".parquet", ".pq"):
        from carbonpeak.io.tables import check_parquet_size

        check_parquet_size(path, str(path))  # before DuckDB decodes anything (renamed for the client)
        return [str(r[0]) for r in _parquet_rows(path, "DESCRIBE SELECT * FROM read_parquet(?)")]
    return [c for c in read_table(path).columns if not str(c).startswith("__")]


def _ingest_plan(store: Store, p: Principal, uploads: list[Upload]) -> list[tuple[Upload, str]]:
    """Detect each file's kind, check the principal may send it, order registry before readings."""
    from carbonpeak.monitoring.registry import detect_kind

    plan = []
    for up in uploads:
        kind = detect_kind(_columns(up.path), up.name)
        if p.role == "enterprise":
            if kind != "readings":
                raise PermissionDenied(
                    f"{up.name}: an enterprise may send readings only (registry data come from the province)"
                )
            _check_own_meters(store, p, up)
        plan.append((up, kind))
    return sorted(plan, key=lambda pk: _KIND_ORDER.index(pk[1]) if pk[1] in _KIND_ORDER else 99)


def _meter_ids(path: Path) -> list[str]:
    if path.suffix.lower() in (".parquet", ".pq"):
        rows = _parquet_rows(path, "SELECT DISTINCT CAST(meter_id AS VARCHAR) FROM read_parquet(?)")
        return [str(r[0]) for r in rows if r[0] is not None]
    df = read_table(path)
    if "meter_id" not in df.columns:
        return []
    return df["meter_id"].astype(str).str.strip().unique().tolist()


def _check_own_meters(store: Store, p: Principal, up: Upload) -> None:
    """Every meter of an enterprise's readings file must be registered to that enterprise."""
    ids = _meter_ids(up.path)
    own = DataAccess(store, p).own_meter_ids()
    foreign = sorted(set(ids) - own)
    if foreign:
        raise PermissionDenied(
            f"{up.name}: meters not registered to your enterprise: {', '.join(foreign[:10])}"
        )


def _province(p: Principal) -> None:
    if p.role not in PROVINCE_ROLES:
        raise PermissionDenied("province roles only")


def create_app(
    store: Store | str | Path,
    *,
    session_ttl: timedelta = timedelta(hours=8),
    login_limit: int | None = None,
    login_window: float | None = None,
    login_limit_address: int | None = None,
    trusted_proxies: list[str] | None = None,
    tls: bool | None = None,
    docs_require_login: bool | None = None,
    max_upload_bytes: int | None = None,
    max_request_bytes: int | None = None,
) -> FastAPI:
    """Build the service on ``store`` (a Store or a DuckDB path).

    The security options default to the settings (docs/operations.md): ``login_limit`` failed
    logins per user and ``login_limit_address`` per client address lock them for
    ``login_window`` seconds; ``trusted_proxies`` may set X-Forwarded-For; ``tls`` adds HSTS and
    Secure cookies; ``docs_require_login`` puts /docs and /openapi.json behind login.
    Upload limits default to the settings ``max_upload_bytes``/``max_request_bytes``.
    """
    st = store if isinstance(store, Store) else Store(store)
    cfg = get_settings()
    guard = LoginGuard(
        per_user=login_limit if login_limit is not None else cfg.login_limit_user,
        per_address=login_limit_address if login_limit_address is not None else cfg.login_limit_address,
        lockout=login_window if login_window is not None else cfg.login_lockout_seconds,
        store=st,  # failures kept in the store: a restart does not reset a lock-out
    )
    tls = cfg.tls if tls is None else tls

    checkpointer = Checkpointer(st, cfg.checkpoint_interval_minutes * 60)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        checkpointer.start()
        yield
        checkpointer.stop()
        _app.state.cp.jobs.shutdown()

    app = FastAPI(
        lifespan=lifespan,
        title="carbonpeak",
        version=__version__,
        description="Carbon-peak accounting, assessment, projection and monitoring service.",
        openapi_url=None,  # served by install_docs (public, or behind login by a setting)
        docs_url=None,
        redoc_url=None,
    )
    app.state.cp = AppState(
        st,
        session_ttl=session_ttl,
        guard=guard,
        trusted_proxies=tuple(trusted_proxies if trusted_proxies is not None else cfg.trusted_proxies),
        tls=tls,
        max_upload_bytes=max_upload_bytes,
    )
    install_security_headers(app, tls=tls)  # outermost: wraps even the 500 handler and the 413s
    install_docs(
        app,
        require_login=cfg.docs_require_login if docs_require_login is None else docs_require_login,
        principal=current_principal,
    )
    app.add_middleware(BodyLimitMiddleware, limit=max_request_bytes or get_settings().max_request_bytes)
    app.state.cp.jobs.recover()  # jobs left running by a previous process are marked failed

    @app.exception_handler(UploadTooLarge)
    async def _too_large(_: Request, exc: UploadTooLarge) -> JSONResponse:
        return JSONResponse(status_code=413, content={"error": "too_large", "message": str(exc)})

    # -- errors: every carbonpeak error becomes a clear 4xx -----------------------------------------
    @app.exception_handler(ValidationError)
    async def _validation(_: Request, exc: ValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content=exc.to_dict())

    @app.exception_handler(AuthError)
    async def _auth(_: Request, exc: AuthError) -> JSONResponse:
        return JSONResponse(status_code=401, content={"error": "auth", "message": str(exc)})

    @app.exception_handler(PermissionDenied)
    async def _denied(_: Request, exc: PermissionDenied) -> JSONResponse:
        return JSONResponse(status_code=403, content={"error": "forbidden", "message": str(exc)})

    @app.exception_handler(KeyError)
    async def _missing(_: Request, exc: KeyError) -> JSONResponse:
        return JSONResponse(status_code=404, content={"error": "not_found", "message": f"not found: {exc}"})

    @app.exception_handler(CarbonpeakError)
    async def _cp(_: Request, exc: CarbonpeakError) -> JSONResponse:
        return JSONResponse(status_code=400, content={"error": "bad_request", "message": str(exc)})

    @app.exception_handler(ValueError)
    async def _value(_: Request, exc: ValueError) -> JSONResponse:
        return JSONResponse(status_code=400, content={"error": "bad_request", "message": str(exc)})

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        """A bug: logged with its traceback; the client gets a reference, never the traceback or a path."""
        import logging
        import uuid

        ref = uuid.uuid4().hex[:12]
        logging.getLogger("carbonpeak.api").error(
            "internal error %s on %s %s", ref, request.method, request.url.path, exc_info=exc
        )
        return JSONResponse(
            status_code=500,
            content={"error": "internal", "message": f"internal error (reference {ref}); the operator can look it up"},
        )

    # -- health and auth ---------------------------------------------------------------------------
    @app.get("/api/health", tags=["service"])
    def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__}

    @app.post("/api/auth/login", response_model=LoginOut, tags=["auth"])
    def login(body: LoginIn, request: Request, response: Response) -> LoginOut:
        """Log in; failed logins are limited per user and per client address (429 while locked)."""
        state = _state(request)
        p = _checked_login(state, state.client(request), body.username, body.password)
        token, expires = create_session(state.store, p, state.session_ttl)
        state.set_session_cookie(response, token)
        return LoginOut(token=token, expires_at=expires.isoformat(), user=p.to_dict())

    @app.post("/api/auth/password", response_model=LoginOut, tags=["auth"])
    def password(body: PasswordIn, p: PrincipalDep, request: Request, response: Response) -> LoginOut:
        """Change one's own password: every session of the user ends; a new one is returned."""
        state = _state(request)
        addr = state.client(request)
        if not state.guard.check(p.username, addr).allowed:
            raise HTTPException(status_code=429, detail="too many failed attempts; try again later")
        try:
            change_password(state.store, p.username, body.old_password, body.new_password)
        except AuthError:
            state.guard.failed(p.username, addr)
            record_login(state.store, p.username, ok=False, address=addr, reason="wrong_old_password")
            raise CarbonpeakError("the current password is wrong") from None
        token, expires = create_session(state.store, p, state.session_ttl)
        state.set_session_cookie(response, token)
        return LoginOut(token=token, expires_at=expires.isoformat(), user=p.to_dict())

    @app.post("/api/auth/logout", tags=["auth"])
    def logout(
        request: Request,
        p: PrincipalDep,
        response: Response,
        authorization: Annotated[str | None, Header()] = None,
    ) -> dict[str, str]:
        token = (authorization or "")[7:].strip() or request.cookies.get(SESSION_COOKIE, "")
        end_session(_state(request).store, token)
        response.delete_cookie(SESSION_COOKIE)
        return {"status": "logged_out", "username": p.username}

    @app.get("/api/me", tags=["auth"])
    def me(p: PrincipalDep) -> dict[str, Any]:
        return p.to_dict()

    # -- users (admin) -----------------------------------------------------------------------------
    @app.get("/api/users", tags=["users"])
    def users(p: PrincipalDep, request: Request) -> list[dict[str, Any]]:
        if p.role != "admin":
            raise PermissionDenied("admin only")
        return list_users(_state(request).store)

    @app.post("/api/users", tags=["users"], status_code=201)
    def create_user(body: UserIn, p: PrincipalDep, request: Request) -> dict[str, Any]:
        if p.role != "admin":
            raise PermissionDenied("admin only")
        u = add_user(
            _state(request).store,
            body.username,
            body.password,
            body.role,
            city=body.city,
            enterprise_id=body.enterprise_id,
            assigned=body.assigned,
            actor=p.username,
        )
        return u.to_dict()

    @app.post("/api/users/{username}/disable", tags=["users"])
    def disable_user(username: str, p: PrincipalDep, request: Request) -> dict[str, str]:
        if p.role != "admin":
            raise PermissionDenied("admin only")
        set_disabled(_state(request).store, username, True, actor=p.username)
        return {"username": username, "status": "disabled"}

    # -- reference data ----------------------------------------------------------------------------
    @app.get("/api/factors", tags=["catalog"])
    def factors(
        p: PrincipalDep, item: str | None = None, parameter: str | None = None
    ) -> list[dict[str, Any]]:
        from carbonpeak.catalog.factors import FactorSet

        rows = FactorSet.default().rows()
        return [
            r.to_dict()
            for r in rows
            if (item is None or r.item == item) and (parameter is None or r.parameter == parameter)
        ]

    @app.get("/api/targets", tags=["targets"])
    def targets(p: PrincipalDep) -> Any:
        from carbonpeak.catalog.loader import DATA_DIR, load_yaml

        if not (DATA_DIR / "targets.yaml").exists():
            raise KeyError("targets catalog")
        return load_yaml("targets.yaml")

    # -- inventory (province and city roles) ---------------------------------------------------------
    @app.post("/api/inventory/compile", tags=["inventory"])
    def inventory_compile(body: CompileIn, p: PrincipalDep, request: Request) -> dict[str, Any]:
        """Compile the inventory of the stored activity data (or the bundled demo if none is stored).

        Without uncertainty the answer comes at once; with uncertainty it is a background job.
        City officers may only ask for their own city.
        """
        if p.role in ("enterprise", "verifier"):
            raise PermissionDenied("inventories are for province and city roles")
        region = body.region
        if p.role == "city_officer":
            if region not in (None, p.city):
                raise PermissionDenied("a city officer sees only its own city")
            region = p.city
        state = _state(request)

        def run(progress: Any) -> dict[str, Any]:
            return _compile(state.store, body, region, progress)

        if body.uncertainty == "none":
            return run(lambda _f: None)
        job_id = state.jobs.submit("inventory.compile", p.username, run)
        return {"job_id": job_id, "status": "queued"}

    @app.post("/api/activity", tags=["inventory"], status_code=201)
    def activity_import(
        p: PrincipalDep,
        request: Request,
        files: Annotated[list[UploadFile], File()],
    ) -> dict[str, Any]:
        """Import activity-data files (province roles): validated together, stored as one batch.

        This is how operators load data while the service owns the store (docs/operations.md).
        """
        _province(p)
        from carbonpeak.model.activity import load_activity

        state = _state(request)
        with uploaded(files, max_bytes=state.max_upload_bytes) as ups:
            act = load_activity([u.path for u in ups])
            act["__file__"] = act["__file__"].map({str(u.path): u.name for u in ups})
        names = ", ".join(u.name for u in ups)
        res = state.store.import_frame("activity", act, kind="activity", source=names, submitter=p.username)
        return {"batch_id": res.batch_id, "rows": res.rows, "created": res.created}

    # -- submissions (enterprise uploads; versioned) ---------------------------------------------------
    @app.post("/api/submissions", tags=["submissions"], status_code=201)
    def submit(
        dal: AccessDep,
        request: Request,
        kind: Annotated[str, Form(max_length=16)],
        period: Annotated[str, Form(min_length=1, max_length=32)],
        file: Annotated[UploadFile, File()],
        enterprise_id: Annotated[str | None, Form(max_length=64)] = None,
        city: Annotated[str | None, Form(max_length=16)] = None,
    ) -> dict[str, Any]:
        """Upload a readings or output file. Row-by-row validation errors come back as 422.

        The enterprise and city are those of the account (and of the registry), never the form's:
        ``enterprise_id``/``city`` may be sent, but a value that disagrees is refused (403).
        """
        check_period(kind, period)
        ent, city_ = dal.submission_scope(enterprise_id, city)
        # A sync endpoint: FastAPI runs it in its thread pool, not on the event loop.  One ingest
        # at a time: writes are serialised by the store anyway, and parsing them in parallel
        # would only take the interpreter away from the dashboard's reads.
        with _INGEST_GATE, uploaded([file], max_bytes=_state(request).max_upload_bytes) as ups:
            df = read_table(ups[0].path)
            df["__file__"] = ups[0].name
            rows = validate_table(df, UPLOAD_SPECS[kind])
            dal.check_owned(rows, kind, ent)
            return dal.submit(
                submission_id=f"{ent}/{kind}/{period}", kind=kind, rows=rows, enterprise_id=ent, city=city_
            )

    @app.get("/api/submissions", tags=["submissions"])
    def submissions(dal: AccessDep, enterprise_id: str | None = None) -> list[dict[str, Any]]:
        return dal.list_submissions(enterprise_id=enterprise_id).to_dict(orient="records")

    @app.get("/api/submissions/{enterprise_id}/{kind}/{period}", tags=["submissions"])
    def submission(
        enterprise_id: str,
        kind: str,
        period: str,
        dal: AccessDep,
        version: Annotated[int | None, Query(ge=1)] = None,
    ) -> dict[str, Any]:
        return dal.get_submission(f"{enterprise_id}/{kind}/{period}", version)

    @app.post(
        "/api/submissions/{enterprise_id}/{kind}/{period}/versions/{version}/sign-off", tags=["submissions"]
    )
    def sign_off(enterprise_id: str, kind: str, period: str, version: int, dal: AccessDep) -> dict[str, Any]:
        dal.sign_off(f"{enterprise_id}/{kind}/{period}", version)
        return {"status": "signed_off"}

    # -- annual assessment and its report (issue 3) --------------------------------------------------
    @app.get("/api/assessment", tags=["targets"])
    def assessment_json(
        p: PrincipalDep, request: Request, year: Annotated[int | None, Query(ge=2000, le=2100)] = None
    ) -> Any:
        """The annual assessment (stable keys: targets[].id, status, value, target, gap ...)."""
        if p.role in ("enterprise",):
            raise PermissionDenied("the assessment is for government roles and verifiers")
        from carbonpeak.api.services import assessment

        return json.loads(to_json(assessment(_state(request).store, year), indent=None))

    @app.post("/api/reports/assessment", tags=["reports"], status_code=202)
    def report_job(body: ReportIn, p: PrincipalDep, request: Request) -> dict[str, Any]:
        """Write the annual assessment report (HTML, PDF, JSON) as a background job."""
        _province(p)
        state = _state(request)
        out_dir = Path(get_settings().reports_dir)

        def run(progress: Any) -> dict[str, Any]:
            from carbonpeak.api.services import assessment, inventory, outlook
            from carbonpeak.reports.assessment import write_report

            a = assessment(state.store, body.year)
            progress(0.4)
            inv = inventory(state.store)
            try:
                out = outlook()
            except Exception:  # the report has a peak-outlook section only when a projection exists
                out = None
            rf = write_report(
                a,
                out_dir,
                lang=body.lang,
                inventory_results=inv.select(explain=False),
                outlook=out,
                pdf=body.pdf,
                gwp=inv.gwp,
                audit_checkpoint=_latest_checkpoint(state.store),
            )
            progress(1.0)
            return {"files": [x.name for x in (rf.html, rf.json, rf.pdf) if x is not None]}

        job_id = state.jobs.submit("report.assessment", p.username, run)
        return {"job_id": job_id, "status": "queued"}

    @app.get("/api/reports/{name}", tags=["reports"])
    def report_file(name: str, p: PrincipalDep) -> FileResponse:
        """Download a written report file (by the name a report job returned)."""
        if p.role in ("enterprise",):
            raise PermissionDenied("reports are for government roles and verifiers")
        root = Path(get_settings().reports_dir).resolve()
        path = (root / name).resolve()
        if path.parent != root or not path.is_file():
            raise KeyError(name)
        return FileResponse(path)

    # -- projections (issue 4) ------------------------------------------------------------------------
    @app.get("/api/projections/scenarios", tags=["projections"])
    def scenarios(p: PrincipalDep) -> list[str]:
        from carbonpeak.scenarios.scenario import available_scenarios

        return available_scenarios()

    def _observed(request: Request) -> Any:
        """Observed years from the store's observations (else the bundled ones)."""
        from carbonpeak.api.services import observations_source
        from carbonpeak.scenarios.history import load_history

        h = load_history(observations_source(_state(request).store))
        return h if h.last_year is not None else None

    @app.post("/api/projections/run", tags=["projections"])
    def projection_run(body: ScenarioIn, p: PrincipalDep, request: Request) -> Any:
        """One deterministic run of a packaged scenario, labelled as one path (peak, trajectory, ...)."""
        _government(p)
        from carbonpeak.scenarios.runs import run_scenario
        from carbonpeak.scenarios.scenario import load_scenario

        return json.loads(
            to_json(run_scenario(load_scenario(_packaged_scenario(body.scenario)), history=_observed(request)),
                    indent=None)
        )

    @app.get("/api/projections/levers", tags=["projections"])
    def projection_levers(p: PrincipalDep, scenario: str = "plan") -> list[dict[str, Any]]:
        """The sliders of the lever page (range, step, the scenario's nominal value)."""
        _government(p)
        from carbonpeak.scenarios.levers import lever_table

        return lever_table(_packaged_scenario(scenario))

    @app.post("/api/projections/levers", tags=["projections"])
    def projection_levers_run(body: LeversIn, p: PrincipalDep, request: Request) -> Any:
        """Monte Carlo outlook with the sliders set: median, interval, P(peak ≤ 2030) ± its error, fan."""
        _government(p)
        from carbonpeak.scenarios.levers import lever_outlook

        out = lever_outlook(_packaged_scenario(body.scenario), body.settings, body.draws, body.seed,
                            history=_observed(request))
        return json.loads(to_json(out, indent=None))

    @app.post("/api/projections/montecarlo", tags=["projections"], status_code=202)
    def projection_mc(body: MonteCarloIn, p: PrincipalDep, request: Request) -> dict[str, Any]:
        """Monte Carlo of a packaged scenario as a background job (P(peak before 2030), fan, ...)."""
        _government(p)
        name = _packaged_scenario(body.scenario)
        hist = _observed(request)

        def run(progress: Any) -> Any:
            from carbonpeak.scenarios.montecarlo import run_montecarlo, summarise
            from carbonpeak.scenarios.scenario import load_scenario

            sc = load_scenario(name)
            inp, res, _ = run_montecarlo(sc, body.draws, body.seed, history=hist)
            progress(0.8)
            return json.loads(to_json(summarise(sc, inp, res, draws=body.draws, seed=body.seed), indent=None))

        return {
            "job_id": _state(request).jobs.submit("projection.montecarlo", p.username, run),
            "status": "queued",
        }

    # -- monitoring (issue 5) ------------------------------------------------------------------------
    @app.post("/api/monitoring/ingest", tags=["monitoring"], status_code=202)
    def mon_ingest(
        p: PrincipalDep, request: Request, files: Annotated[list[UploadFile], File()]
    ) -> dict[str, Any]:
        """Ingest registry files (units, meters, output, budgets, reported) and readings as a background job.

        Province roles may send anything; an enterprise may send readings of its own meters only.
        Each file is one all-or-nothing, idempotent batch; files are applied registry first.
        """
        import shutil

        if p.role not in (*PROVINCE_ROLES, "enterprise"):
            raise PermissionDenied("monitoring data are sent by the province or by the enterprise itself")
        state = _state(request)
        tmp = new_upload_folder("cp-ingest-")
        try:
            ups = save_uploads(files, tmp, max_bytes=state.max_upload_bytes)
            with client_names(ups, tmp):
                plan = _ingest_plan(state.store, p, ups)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

        def run(progress: Any) -> Any:
            from carbonpeak.monitoring.storage import ingest_path

            try:
                out = []
                with client_names(ups, tmp):
                    for i, (up, kind) in enumerate(plan):
                        res = ingest_path(
                            state.store, up.path, kind=kind, submitter=p.username, source_name=up.name
                        )
                        out.append({**res.to_dict(), "file": up.name})
                        progress((i + 1) / len(plan))
                return out
            finally:
                shutil.rmtree(tmp, ignore_errors=True)

        files_ = [u.name for u in ups]
        return {
            "job_id": state.jobs.submit("monitoring.ingest", p.username, run, files=files_),
            "status": "queued",
        }

    @app.get("/api/monitoring/units", tags=["monitoring"])
    def mon_units(dal: AccessDep) -> list[dict[str, Any]]:
        return _records(dal.monitoring_units())

    @app.get("/api/monitoring/alerts", tags=["monitoring"])
    def mon_alerts(
        dal: AccessDep,
        status: Annotated[str | None, Query(pattern="^(open|reviewed)$")] = "open",
        kind: Annotated[str | None, Query(max_length=64)] = None,
    ) -> list[dict[str, Any]]:
        return _records(dal.monitoring_alerts(status=status, kind=kind))

    @app.post("/api/monitoring/alerts/{alert_id}/review", tags=["monitoring"])
    def mon_review(alert_id: str, body: ReviewIn, dal: AccessDep) -> dict[str, Any]:
        rec = dal.review_alert(alert_id, body.comment, body.outcome)
        return {"alert_id": alert_id, "status": rec["status"], "reviewed_by": rec["reviewed_by"]}

    @app.get("/api/monitoring/pue", tags=["monitoring"])
    def mon_pue(
        dal: AccessDep, grain: Annotated[str, Query(pattern="^(day|month|year)$")] = "month"
    ) -> list[dict[str, Any]]:
        return _records(dal.pue(grain))

    # -- credit records ------------------------------------------------------------------------------
    @app.post("/api/credit", tags=["credit"], status_code=201)
    def credit_add(body: CreditIn, dal: AccessDep) -> dict[str, str]:
        event_id = dal.record_credit_event(
            enterprise_id=body.enterprise_id, kind=body.kind, detail=body.detail, period=body.period
        )
        return {"event_id": event_id}

    @app.post("/api/credit/check-deadlines", tags=["credit"])
    def credit_deadlines(body: DeadlineIn, dal: AccessDep) -> dict[str, Any]:
        """Record a missed deadline for each registered enterprise without a submission by the due date."""
        missed = dal.check_deadlines(kind=body.kind, period=body.period, due=body.due)
        return {"missed": missed, "count": len(missed)}

    @app.get("/api/credit", tags=["credit"])
    def credit(dal: AccessDep) -> list[dict[str, Any]]:
        return dal.credit_records().to_dict(orient="records")

    @app.get("/api/credit/export.csv", tags=["credit"], response_class=PlainTextResponse)
    def credit_export(dal: AccessDep) -> PlainTextResponse:
        _province(dal.p)
        from carbonpeak.io.export import to_csv

        return PlainTextResponse(to_csv(dal.credit_records()), media_type="text/csv")

    # -- audit ---------------------------------------------------------------------------------------
    @app.get("/api/audit", tags=["audit"])
    def audit_list(
        dal: AccessDep, limit: Annotated[int, Query(ge=1, le=10_000)] = 200
    ) -> list[dict[str, Any]]:
        return dal.audit_entries(limit).to_dict(orient="records")

    @app.get("/api/audit/verify", tags=["audit"])
    def audit_verify(p: PrincipalDep, request: Request) -> dict[str, Any]:
        """The keyed chain, and the proof against the newest checkpoint file if there is one."""
        _province(p)
        from carbonpeak.store.checkpoints import verify_store

        return verify_store(_state(request).store)

    # -- jobs ----------------------------------------------------------------------------------------
    @app.get("/api/jobs/{job_id}", tags=["jobs"])
    def job(job_id: str, p: PrincipalDep, request: Request) -> dict[str, Any]:
        rec = _state(request).jobs.get(job_id)
        if rec is None or (rec["owner"] != p.username and p.role not in PROVINCE_ROLES):
            raise KeyError(job_id)
        return rec

    return app


def _checked_login(state: AppState, addr: str, username: str, password: str) -> Principal:
    """Lock-out check *before* the password, then the password; both outcomes audited."""
    import logging

    if not state.guard.check(username, addr).allowed:
        logging.getLogger("carbonpeak.auth").warning("login refused during lock-out: %r from %s", username, addr)
        raise HTTPException(status_code=429, detail="too many failed logins; try again later")
    try:
        p = authenticate(state.store, username, password)
    except AuthError:
        state.guard.failed(username, addr)
        locked = state.guard.check(username, addr)
        reason = "wrong_credentials" if locked.allowed else f"wrong_credentials_now_locked_{locked.reason}"
        record_login(state.store, username, ok=False, address=addr, reason=reason)
        raise
    state.guard.succeeded(username)
    record_login(state.store, p.username, ok=True, address=addr)
    return p


def _latest_checkpoint(store: Store) -> dict[str, Any] | None:
    from carbonpeak.store import checkpoints

    cp = checkpoints.latest(store)
    return None if cp is None else cp.summary()


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-safe records (dates and timestamps as ISO text, NaN as null)."""
    import json

    return json.loads(df.to_json(orient="records", date_format="iso", force_ascii=False))  # type: ignore[no-any-return]


def _compile(store: Store, body: CompileIn, region: str | None, progress: Any) -> dict[str, Any]:
    from carbonpeak.api.services import inventory

    progress(0.1)
    inv = inventory(store, body.gwp)
    if region and region not in set(inv.select(explain=False)["region"]):
        raise KeyError(f"no activity data for region {region}")
    progress(0.5)
    out: dict[str, Any] = inv.summary(year=body.year, region=region)
    if body.uncertainty != "none":
        from carbonpeak.accounting import uncertainty as unc

        res = inv.select(explain=False)
        res = res[res["scope"] == "territorial"]
        if region:
            res = res[res["region"] == region]
        if body.year is not None:
            res = res[res["year"] == body.year]
        u = (
            unc.approach1(res)
            if body.uncertainty == "approach1"
            else unc.monte_carlo(res, body.draws, body.seed)
        )
        out["uncertainty"] = u.to_dict()
    progress(1.0)
    return out
