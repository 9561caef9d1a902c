"""Who may call each endpoint: the one declaration of the role × endpoint matrix.

Every route of the service (API and dashboard) is listed here with the roles that may call it,
or :data:`PUBLIC`.  ``tests/security/test_route_matrix.py`` reads the app's own route table and
fails for a route missing here (so a new endpoint must declare its rule), and calls every route
as every role: the roles listed succeed, the others are refused (401/403, or a redirect to the
login page for a dashboard page), never a 500.

The endpoints enforce these rules themselves (and finer, per-resource scope through
:class:`carbonpeak.store.access.DataAccess`: a listed role may still see only its own rows, and
a resource outside its scope answers 404 as if it did not exist).
"""

from __future__ import annotations

from typing import Final

from carbonpeak.store.users import ROLES

PUBLIC: Final = "public"

ALL = frozenset(ROLES)
PROVINCE = frozenset({"admin", "province_analyst"})
GOVERNMENT = PROVINCE | {"city_officer"}
GOVERNMENT_AND_VERIFIER = GOVERNMENT | {"verifier"}
ADMIN = frozenset({"admin"})

#: (method, path) -> the roles that may call it, or PUBLIC.
ROUTE_ROLES: dict[tuple[str, str], frozenset[str] | str] = {
    # service and auth
    ("GET", "/api/health"): PUBLIC,
    ("POST", "/api/auth/login"): PUBLIC,
    ("POST", "/api/auth/logout"): ALL,
    ("GET", "/api/me"): ALL,
    ("POST", "/api/auth/password"): ALL,
    # users
    ("GET", "/api/users"): ADMIN,
    ("POST", "/api/users"): ADMIN,
    ("POST", "/api/users/{username}/disable"): ADMIN,
    # reference data
    ("GET", "/api/factors"): ALL,
    ("GET", "/api/targets"): ALL,
    # inventory and activity data
    ("POST", "/api/inventory/compile"): GOVERNMENT,
    ("POST", "/api/activity"): PROVINCE,
    ("POST", "/api/observations"): GOVERNMENT,  # a city officer: its own city's rows only
    ("GET", "/api/templates/{kind}"): ALL,
    # submissions (rows scoped by DataAccess)
    ("POST", "/api/submissions"): frozenset({"admin", "enterprise"}),
    ("GET", "/api/submissions"): ALL,
    ("GET", "/api/submissions/{enterprise_id}/{kind}/{period}"): ALL,
    ("POST", "/api/submissions/{enterprise_id}/{kind}/{period}/versions/{version}/sign-off"): frozenset(
        {"admin", "verifier"}
    ),
    # assessment and reports
    ("GET", "/api/assessment"): GOVERNMENT_AND_VERIFIER,
    ("POST", "/api/reports/assessment"): PROVINCE,
    ("GET", "/api/reports/{name}"): GOVERNMENT_AND_VERIFIER,
    # projections
    ("GET", "/api/projections/scenarios"): ALL,
    ("POST", "/api/projections/run"): GOVERNMENT,
    ("POST", "/api/projections/montecarlo"): GOVERNMENT,
    ("GET", "/api/projections/levers"): GOVERNMENT,
    ("POST", "/api/projections/levers"): GOVERNMENT,
    # monitoring (rows scoped by DataAccess)
    ("POST", "/api/monitoring/ingest"): PROVINCE | {"enterprise"},
    ("GET", "/api/enterprise/export"): frozenset({"enterprise"}),
    ("GET", "/api/monitoring/units"): ALL,
    ("GET", "/api/monitoring/alerts"): ALL,
    ("POST", "/api/monitoring/alerts/{alert_id}/review"): PROVINCE | {"verifier"},
    ("GET", "/api/monitoring/pue"): ALL,
    # credit records
    ("POST", "/api/credit"): PROVINCE | {"verifier"},
    ("POST", "/api/credit/check-deadlines"): PROVINCE,
    ("GET", "/api/credit"): ALL,
    ("GET", "/api/credit/export.csv"): PROVINCE,
    # markets (issue 11 §6; accounts scoped by carbonpeak.workflows.markets: an enterprise its own,
    # a city officer its city's; moves only out of the caller's own accounts, registry operations admin)
    ("GET", "/api/markets/accounts"): ALL,
    ("GET", "/api/markets/accounts/{account_id}"): ALL,
    ("GET", "/api/markets/accounts/{account_id}/statement"): ALL,
    ("GET", "/api/markets/serials/{unit_type}/{vintage}/{serial}"): ALL,
    ("GET", "/api/markets/positions"): ALL,
    ("GET", "/api/markets/overview"): GOVERNMENT,
    ("GET", "/api/markets/obligations"): ALL,
    ("POST", "/api/markets/emissions/sign-off"): frozenset({"admin", "verifier"}),
    ("GET", "/api/markets/offset-pool"): GOVERNMENT,
    ("PUT", "/api/markets/offset-pool"): ADMIN,
    ("GET", "/api/markets/peak-link"): GOVERNMENT,
    ("GET", "/api/markets/caps"): GOVERNMENT,
    ("PUT", "/api/markets/caps"): ADMIN,
    ("POST", "/api/markets/allocation"): PROVINCE,
    ("POST", "/api/markets/coverage"): PROVINCE,
    ("GET", "/api/markets/phcer/methodologies"): ALL,
    ("GET", "/api/markets/phcer/applications"): ALL,
    ("POST", "/api/markets/transfer"): frozenset({"admin", "enterprise"}),
    ("POST", "/api/markets/surrender"): frozenset({"admin", "enterprise"}),
    ("POST", "/api/markets/retire"): frozenset({"admin", "enterprise"}),
    ("POST", "/api/markets/allocate"): ADMIN,
    ("POST", "/api/markets/energy-rights/allocate"): ADMIN,
    ("POST", "/api/markets/phcer/applications"): frozenset({"admin", "province_analyst", "enterprise"}),
    ("POST", "/api/markets/phcer/applications/{application_id}/notice"): GOVERNMENT,
    ("POST", "/api/markets/phcer/applications/{application_id}/verify"): frozenset({"admin", "verifier"}),
    ("POST", "/api/markets/phcer/applications/{application_id}/issue"): ADMIN,
    ("POST", "/api/markets/phcer/applications/{application_id}/reject"): PROVINCE,
    # audit
    ("GET", "/api/audit"): PROVINCE | {"verifier"},
    ("GET", "/api/audit/verify"): PROVINCE,
    # jobs (a job of another user answers 404, except to the province)
    ("GET", "/api/jobs/{job_id}"): ALL,
    # the schedule of unattended work (admin)
    ("GET", "/api/admin/schedule"): ADMIN,
    ("GET", "/api/admin/schedule/history"): ADMIN,
    ("POST", "/api/admin/schedule/{name}/run"): ADMIN,
    # API documentation (public by default; `docs_require_login` puts it behind login)
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    # dashboard
    ("GET", "/static/vendor/plotly.min.js"): PUBLIC,
    ("GET", "/static/{name}"): PUBLIC,
    ("GET", "/"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("GET", "/logout"): PUBLIC,
    ("GET", "/province"): GOVERNMENT_AND_VERIFIER,
    ("GET", "/cities"): GOVERNMENT,
    ("GET", "/cities/{code}"): GOVERNMENT,
    ("GET", "/map"): GOVERNMENT,
    ("GET", "/levers"): GOVERNMENT,
    ("GET", "/monitoring"): ALL,
    ("GET", "/enterprise"): frozenset({"admin", "enterprise"}),
    ("GET", "/audit"): PROVINCE | {"verifier"},
    ("GET", "/admin/schedule"): ADMIN,
    ("GET", "/markets"): GOVERNMENT,
    ("GET", "/markets/enterprise"): frozenset({"admin", "enterprise"}),
    ("GET", "/markets/verifier"): frozenset({"admin", "verifier"}),
    ("GET", "/markets/peak"): GOVERNMENT,
    ("GET", "/account/password"): ALL,
    ("GET", "/download/{table}"): ALL,  # each table its own roles (web/downloads.py TABLES), rows scoped
}


def allowed_roles(method: str, path: str) -> frozenset[str] | str | None:
    """The declared rule of a route, or None when it has none."""
    return ROUTE_ROLES.get((method.upper(), path))
