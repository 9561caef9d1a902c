"""Write docs/api.md from the service's OpenAPI document.

The endpoint list (method, path, parameters, body, status codes, description) comes from
``create_site(Store(':memory:')).openapi()``.  Two things OpenAPI does not carry are kept here by
hand, read from ``src/carbonpeak/api/routes/`` and ``src/carbonpeak/store/access.py``: who may call
each endpoint (:data:`WHO`) and what it returns in words (:data:`RETURNS`).  An endpoint missing
from either table is printed with "?" and the script warns, so a new endpoint is not silently
undocumented.

    .venv/bin/python scripts/gen_api_docs.py            # rewrite docs/api.md
    .venv/bin/python scripts/gen_api_docs.py --check    # exit 1 if docs/api.md is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from _gendoc import write_or_check  # scripts/_gendoc.py (the script's folder is on sys.path)

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "api.md"

ANY = "any logged-in user"
PROV = "admin, province_analyst"
GOV = "admin, province_analyst, city_officer"

WHO: dict[str, str] = {
    "GET /api/health": "anyone (no login)",
    "POST /api/auth/login": "anyone (failed logins limited per user name and per client address)",
    "POST /api/auth/password": f"{ANY} (its own password; the current one is required)",
    "POST /api/auth/logout": ANY,
    "GET /api/me": ANY,
    "GET /api/users": "admin",
    "POST /api/users": "admin",
    "POST /api/users/{username}/disable": "admin",
    "GET /api/factors": ANY,
    "GET /api/targets": ANY,
    "POST /api/inventory/compile": f"{GOV} (a city officer only for its own city)",
    "POST /api/activity": PROV,
    "POST /api/observations": f"{PROV} (any region); city officer (rows of its own city only; another region refuses the upload)",
    "GET /api/templates/{kind}": ANY,
    "POST /api/submissions": (
        "enterprise (its own: enterprise and city come from the account and the registry; a "
        "disagreeing `enterprise_id`/`city` is refused 403); admin (names `enterprise_id`)"
    ),
    "GET /api/submissions": "scoped: province roles all, city officer its city, enterprise its own, verifier assigned",
    "GET /api/submissions/{enterprise_id}/{kind}/{period}": "scoped as GET /api/submissions",
    "POST /api/submissions/{enterprise_id}/{kind}/{period}/versions/{version}/sign-off": (
        "admin; verifier (assigned enterprises)"
    ),
    "GET /api/assessment": f"{GOV}, verifier",
    "POST /api/reports/assessment": PROV,
    "GET /api/reports/{name}": f"{GOV}, verifier",
    "GET /api/projections/scenarios": ANY,
    "POST /api/projections/run": GOV,
    "POST /api/projections/montecarlo": GOV,
    "GET /api/projections/levers": GOV,
    "POST /api/projections/levers": GOV,
    "POST /api/monitoring/ingest": f"{PROV} (any file); enterprise (readings of its own meters only)",
    "GET /api/monitoring/units": "scoped: province roles all, city officer its city, enterprise its own, verifier assigned",
    "GET /api/monitoring/alerts": "scoped as GET /api/monitoring/units",
    "POST /api/monitoring/alerts/{alert_id}/review": f"{PROV}; verifier (assigned enterprises)",
    "GET /api/monitoring/pue": "scoped as GET /api/monitoring/units",
    "GET /api/enterprise/export": "enterprise (its own data only; the scope is the principal's)",
    "POST /api/credit": f"{PROV}; verifier (assigned enterprises)",
    "GET /api/credit": "scoped as GET /api/monitoring/units",
    "POST /api/credit/check-deadlines": PROV,
    "GET /api/credit/export.csv": PROV,
    "GET /api/audit": f"{PROV}; verifier (its own entries and those of its assigned enterprises)",
    "GET /api/audit/verify": PROV,
    "GET /api/jobs/{job_id}": f"the user who started the job; {PROV}",
    "GET /api/admin/schedule": "admin",
    "GET /api/admin/schedule/history": "admin",
    "POST /api/admin/schedule/{name}/run": "admin",
    # markets (issue 11 §6): accounts scoped by carbonpeak.workflows.markets
    "GET /api/markets/accounts": f"{ANY} (an enterprise its own accounts, a city officer its city's, a verifier its assigned enterprises')",
    "GET /api/markets/accounts/{account_id}": f"{ANY}, within scope (else 404)",
    "GET /api/markets/accounts/{account_id}/statement": f"{ANY}, within scope (else 404)",
    "GET /api/markets/serials/{unit_type}/{vintage}/{serial}": f"{PROV}; others if the serial passed through an account in their scope",
    "GET /api/markets/positions": f"{ANY}, scoped",
    "GET /api/markets/overview": GOV,
    "GET /api/markets/obligations": f"{ANY}, scoped (a verifier: the enterprises it signs off)",
    "POST /api/markets/emissions/sign-off": "admin; verifier (its assigned enterprises)",
    "GET /api/markets/phcer/methodologies": ANY,
    "GET /api/markets/phcer/applications": f"{ANY}, scoped",
    "POST /api/markets/transfer": "admin; enterprise (out of its own accounts only: 403 otherwise, nothing changes)",
    "POST /api/markets/surrender": "admin; enterprise (its own obligation and accounts)",
    "POST /api/markets/retire": "admin; enterprise (its own accounts)",
    "POST /api/markets/allocate": "admin",
    "POST /api/markets/energy-rights/allocate": "admin",
    "POST /api/markets/phcer/applications": f"{PROV}; enterprise (its own projects)",
    "POST /api/markets/phcer/applications/{application_id}/notice": f"{PROV}; city_officer (its city's projects)",
    "POST /api/markets/phcer/applications/{application_id}/verify": "admin; verifier (assigned to the project owner)",
    "POST /api/markets/phcer/applications/{application_id}/issue": "admin",
    "POST /api/markets/phcer/applications/{application_id}/reject": "admin, province_analyst (not the owner, not the verifier)",
    "GET /api/markets/offset-pool": "admin, province_analyst, city_officer",
    "PUT /api/markets/offset-pool": "admin",
    "GET /api/markets/peak-link": "admin, province_analyst; city_officer (its city's covered entities only)",
    "GET /api/markets/caps": "admin, province_analyst, city_officer",
    "PUT /api/markets/caps": "admin",
    "POST /api/markets/allocation": "admin, province_analyst (issue: admin)",
    "POST /api/markets/coverage": "admin, province_analyst",
}

RETURNS: dict[str, str] = {
    "GET /api/health": '`{"status": "ok", "version"}`',
    "POST /api/auth/login": "`{token, expires_at, user}` and a session cookie",
    "POST /api/auth/password": (
        "`{token, expires_at, user}`: a new session; every earlier session of the user ends. "
        "400 with the reason when the password is refused (docs/security.md)"
    ),
    "POST /api/auth/logout": '`{"status": "logged_out", "username"}`; ends the session',
    "GET /api/me": "the caller: username, role, city, enterprise_id, assigned",
    "GET /api/users": "list of users with role and scope",
    "POST /api/users": "201, the new user (password hashed with argon2, never returned)",
    "POST /api/users/{username}/disable": '`{"username", "status": "disabled"}`; ends their sessions',
    "GET /api/factors": "the default factor rows (item, parameter, value, unit, source, status, ...)",
    "GET /api/targets": "the plan's target catalog (`catalog/data/targets.yaml`) as JSON",
    "POST /api/inventory/compile": (
        "the inventory summary (keys in [inventory.md](inventory.md), plus `demo` and `data`: whether it rests on "
        "demo data, [demo-data.md](demo-data.md#the-demo-in-the-store)); several years without `year`: "
        "`{gwp, years, regions, by_year: {year: summary}, warnings}` (years are never added together); "
        "404 \"no data yet\" on an empty store; with "
        "`uncertainty` `approach1`/`mc` it starts a job and answers `{job_id, status: queued}`"
    ),
    "POST /api/activity": "201, `{batch_id, rows, created}` (`created` false when the same batch was stored before)",
    "POST /api/observations": (
        "201, `{batch_id, rows, created}`: indicator observations (GDP, population, capacities …) validated "
        "together and stored as one batch (all-or-nothing, idempotent, audited `observations.import`); 422 "
        "with file, row and field per problem"
    ),
    "GET /api/templates/{kind}": (
        "the Excel input template of `activity`, `observations`, `readings` or `output` (`?lang=zh|en`): "
        "bilingual headers, drop-down lists, instructions sheet ([data-input.md](data-input.md))"
    ),
    "POST /api/submissions": "201, the stored version (a correction becomes a new version)",
    "GET /api/submissions": "list of submissions (latest versions) in scope",
    "GET /api/submissions/{enterprise_id}/{kind}/{period}": "one submission, the latest or `?version=N`",
    "POST /api/submissions/{enterprise_id}/{kind}/{period}/versions/{version}/sign-off": '`{"status": "signed_off"}`',
    "GET /api/assessment": "the annual assessment JSON (`targets[].id, status, value, target, gap, demo`, cities, "
                           "`data`: demo data or not, ...); 404 \"no data yet; … run the demo (carbonpeak demo load)\" "
                           "on an empty store",
    "POST /api/reports/assessment": "202, `{job_id, status}`; the job's result names the files",
    "GET /api/reports/{name}": "the report file (HTML, PDF or JSON)",
    "GET /api/projections/scenarios": "names of the packaged scenarios",
    "POST /api/projections/run": "one deterministic run (`kind` says: one path at nominal values): trajectory, "
                                 "peak (`peak_text`, `already_peaked`), observed years, warnings, indicators",
    "GET /api/projections/levers": "the lever page's sliders: lever, labels, min, max, step, default",
    "POST /api/projections/levers": "Monte Carlo outlook with the sliders set: `headline`, P(peak ≤ 2030) with "
                                    "`p_peak_before_2030_se` and Wilson `p_peak_before_2030_interval`, peak-year "
                                    "quantiles, `fan`, one `path`",
    "POST /api/projections/montecarlo": "202, `{job_id, status}`; the job's result has P(peak before 2030), fan",
    "POST /api/monitoring/ingest": "202, `{job_id, status}`; the job's result lists each file's batch",
    "GET /api/monitoring/units": "registered units in scope",
    "GET /api/monitoring/alerts": "alerts in scope (default `status=open`)",
    "POST /api/monitoring/alerts/{alert_id}/review": "`{alert_id, status, reviewed_by}`",
    "GET /api/monitoring/pue": "PUE per data centre and period (`grain` day, month or year)",
    "GET /api/enterprise/export": "ZIP of UTF-8-BOM CSV files: units, meters, current readings, output, budgets, daily energy, alerts and submissions of the calling enterprise",
    "POST /api/credit": "201, `{event_id}`",
    "GET /api/credit": "credit records in scope (events and derived repeated breaches)",
    "POST /api/credit/check-deadlines": "`{missed: [enterprise ids], count}`; records a missed deadline for each",
    "GET /api/credit/export.csv": "the credit records as CSV (UTF-8 with BOM, formulas neutralised)",
    "GET /api/audit": "newest audit entries (`?limit=`, default 200)",
    "GET /api/audit/verify": "`{ok, entries, first_bad_seq, problem, head}`",
    "GET /api/jobs/{job_id}": "the job: status, progress, result or error",
    "GET /api/admin/schedule": "`{scheduler_running, schedule_file, channels, events, jobs: [{name, task, cron, "
    "timezone, enabled, next_run, last_run, ...}]}` (channel names only, never addresses or keys)",
    "GET /api/admin/schedule/history": "the latest scheduled runs (`?limit=`, default 100) with the notifications each sent",
    "POST /api/admin/schedule/{name}/run": "202, `{job_id}`; poll `GET /api/jobs/{job_id}` (409 if started this minute)",
    "GET /api/markets/accounts": "`[{account_id, kind, owner, city, name}]`",
    "GET /api/markets/accounts/{account_id}": "`{account_id, kind, owner, city, balance: [{unit_type, vintage, balance}], blocks: [{unit_type, vintage, serial_start, serial_end, quantity}]}`",
    "GET /api/markets/accounts/{account_id}/statement": "`{account_id, start, end, opening, entries: [{entry_id, ts, txn_id, kind, unit_type, vintage, serial_start, serial_end, change, debit_account, credit_account, actor, reference}], closing}`",
    "GET /api/markets/serials/{unit_type}/{vintage}/{serial}": "`{unit_type, vintage, serial, entries, holder, final}`",
    "GET /api/markets/positions": "`[{enterprise_id, city, GDEA, CEA, CCER, PHCER, EUR}]` (+ `energy_used_tce`, `eur_surplus_tce` with `?year=`)",
    "GET /api/markets/overview": "`{scope, totals (province), positions, surrendered, integrity (province)}`",
    "GET /api/markets/obligations": "`[{enterprise_id, city, year, verified_t, obligation_t, surrendered_allowances_t, surrendered_offsets_t, shortfall_t, deadline, status, penalty_deduction_t, penalty_fine_cny, penalty_rule}]`",
    "POST /api/markets/emissions/sign-off": "201 `{enterprise_id, year, verified_t, verifier}`; 409 if signed off with another value",
    "GET /api/markets/phcer/methodologies": "`[{methodology_id, version, name_zh, name_en, scope, formula, parameters, source, status, stage, filed_on}]`",
    "GET /api/markets/phcer/applications": "`[{application_id, methodology_id, version, project, owner, city, vintage, claimed_t, notice_start, notice_end, verified_t, verifier, state, issued_txn, updated_at, rejected_reason, rejected_by, rejected_at, resubmission_of}]`",
    "POST /api/markets/phcer/applications/{application_id}/reject": "`{application_id, state: rejected, previous_state, reason, rejected_by, rejected_at}`; 400 once issued or rejected",
    "GET /api/markets/offset-pool": "`{year, ruleset, unit, pool_t, used_t, remaining_t, origin, source, set_by, set_at}`",
    "GET /api/markets/peak-link": "`{scope, year, entities, by_sector, by_city, balance_values, awaiting_sign_off}`; the province also `{scenario, peak_by, cap_basis, cap_sources, consistent, reasons, cap_peak_year, projection_peak_year, uncovered_peak_year, covered, path}`",
    "POST /api/markets/coverage": "`{ruleset, year, decisions: [{enterprise_id, sector, year, city, covered, status, basis, emissions_tco2, energy_tce, data_source}], by_sector, by_city, widening?}`; 422 emissions or energy figures in the request (they come from the store)",
    "GET /api/markets/caps": "`[{year, cap_t, given, source, set_by, set_at}]`",
    "PUT /api/markets/caps": "`{year, cap_t, given, source, set_by, set_at, previous}`; 400 without a source, 422 non-positive/unknown unit",
    "POST /api/markets/allocation": "`{ruleset, year, allocation: [{enterprise_id, city, sector, activity, method, allocation_t, free_t, paid_t, quantity, formula}], provenance: [{enterprise_id, field, year, product, value, unit, source}], override, issued}`; 422 figures in the entity list or an override of an unlisted enterprise; 400 a missing base year or rule parameter; 403 issue by a non-admin",
    "PUT /api/markets/offset-pool": "the same with `previous` (`{value, unit, source}` or null); 400 below the offsets already surrendered, 422 negative/non-finite/unknown unit",
    "POST /api/markets/transfer": "201 `{entries, quantity}`; 403 not the caller's account; 409 serials not (or no longer) held",
    "POST /api/markets/surrender": "201 `{enterprise_id, year, unit_type, vintage, surrendered, entries, total_surrendered}`; 400 an offset rule refused (names rule and tonnes); 409 double spend",
    "POST /api/markets/retire": "201 `{entries, quantity}`",
    "POST /api/markets/allocate": "201 `{year, unit_type, enterprises, issued, entries}`",
    "POST /api/markets/energy-rights/allocate": "201 `{year, unit_type, enterprises, issued, entries, allocation}`",
    "POST /api/markets/phcer/applications": "201 `{application_id, claimed_t, state, resubmission_of[, forest: {R_project, method, by_year, factors, formula}]}`",
    "POST /api/markets/phcer/applications/{application_id}/notice": "`{application_id, state, notice_start, notice_end}`",
    "POST /api/markets/phcer/applications/{application_id}/verify": "`{application_id, state, verified_t}`; 400 before the notice ends",
    "POST /api/markets/phcer/applications/{application_id}/issue": "201 `{application_id, state, issued, serials}`",
}

INTRO = """\
# The carbonpeak web service (HTTP API)

<!-- generated by scripts/gen_api_docs.py from the OpenAPI document; edit the script, not this file -->

`carbonpeak serve` starts one FastAPI process on the store (DuckDB by default, see
[operations.md](operations.md)). It serves the JSON API under `/api/`, its OpenAPI document at
`/openapi.json` (interactive pages at `/docs`), and the dashboard pages (`/province`, `/cities`,
`/map`, `/levers`, `/monitoring`, `/enterprise`, `/audit`; what each shows: [dashboard.md](dashboard.md)).
This file lists the API; roles and scoping rules are in [security.md](security.md).

## Authentication

1. Create the first admin once: `carbonpeak users bootstrap` (prints a random password once), then
   more users with `carbonpeak users add NAME --role ROLE [--city GD-XX | --enterprise ID]`.
2. `POST /api/auth/login` with `{"username": ..., "password": ...}` returns
   `{"token", "expires_at", "user"}` and sets a session cookie. Sessions expire (8 hours by
   default). Failed logins are limited per user name (5) and per client address (20) within
   15 minutes (HTTP 429 while locked; docs/security.md). Change a password with
   `POST /api/auth/password`.
3. Send the token as `Authorization: Bearer <token>` on every other call, or rely on the cookie
   (the dashboard does).

```sh
TOKEN=$(curl -s -X POST localhost:8000/api/auth/login -H 'content-type: application/json' \\
        -d '{"username":"admin","password":"..."}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
curl -s localhost:8000/api/me -H "Authorization: Bearer $TOKEN"
```

`carbonpeak remote login URL USER` does the same from the command line and keeps the token for
the other `carbonpeak remote` commands.

Roles: `admin`, `province_analyst` (the two "province roles"), `city_officer` (one city),
`enterprise` (its own units), `verifier` (the enterprises assigned to it). Scoping is applied in
one place, `carbonpeak.store.access`; "scoped" below means each role sees only its share.

## Errors

| status | body | when |
|---|---|---|
| 400 | `{"error": "bad_request", "message"}` | a request the engine cannot run (bad parameter value) |
| 401 | `{"error": "auth", "message"}` | no token or cookie, expired or ended session, wrong password |
| 403 | `{"error": "forbidden", "message"}` | the role or scope does not allow it |
| 404 | `{"error": "not_found", "message"}` | unknown job, report, scenario, submission, ... |
| 413 | `{"error": "too_large", "message"}` | an uploaded file over `max_upload_bytes`, or a request body over `max_request_bytes` (checked while it streams in; see operations.md) |
| 422 | `{"error": "validation", "message", "problems": [{"file", "row", "field", "message"}]}` | bad input data: every bad cell of every uploaded file, nothing stored (files are named as you sent them); FastAPI's own request-shape errors are also 422 (`{"detail": [...]}`) |
| 429 | `{"detail": "too many login attempts; wait a minute"}` | login rate limit |
| 500 | `{"error": "internal", "message"}` | a bug: the message carries a reference the operator finds in the service log (never a traceback or a server path) |

## Jobs

Long work (uncertainty of an inventory, a Monte Carlo projection, a report, a monitoring ingest)
does not run inside the request. The endpoint answers `202 Accepted` with `{"job_id", "status":
"queued"}`; poll `GET /api/jobs/{job_id}` until `status` is `done` (then `result` holds the
answer) or `failed` (then `error` says why, naming your files as you sent them). Jobs run in the
service process, which is also the only process that writes the DuckDB file. A job that was
queued or running when the service stopped is marked `failed` at the next start, with an error
that says to send the upload again (its `result` lists the files); a batch that was already
stored is recognised and not counted twice. Submission periods are exact months (`YYYY-MM`).

"""


def _params(spec: dict[str, Any], op: dict[str, Any]) -> str:
    out = []
    for p in op.get("parameters", []):
        if p["name"] == "authorization":
            continue
        where = {"query": "?", "path": "", "header": "header "}.get(p["in"], p["in"] + " ")
        if p["in"] == "path":
            continue
        out.append(f"`{where}{p['name']}`")
    body = op.get("requestBody")
    if body:
        content = body.get("content", {})
        kind = "multipart files" if "multipart/form-data" in content else "JSON body"
        schema = next(iter(content.values()), {}).get("schema", {})
        ref = schema.get("$ref", "").rsplit("/", 1)[-1]
        if kind == "multipart files" and ref:
            fields = spec.get("components", {}).get("schemas", {}).get(ref, {}).get("properties", {})
            out.append(f"{kind} ({', '.join(f'`{f}`' for f in fields)})")
        else:
            out.append(f"{kind}{(' ' + ref) if ref else ''}")
    return ", ".join(out)


def _schema_fields(spec: dict[str, Any], name: str) -> str:
    sch = spec.get("components", {}).get("schemas", {}).get(name, {})
    props = sch.get("properties", {})
    req = set(sch.get("required", []))
    parts = []
    for k, v in props.items():
        t = v.get("type") or "/".join(x.get("type", "?") for x in v.get("anyOf", []))
        extra = ""
        if "default" in v:
            extra = f" = {v['default']!r}"
        elif "pattern" in v:
            extra = f" ~ {v['pattern']}"
        parts.append(f"`{k}`{'' if k in req else '?'}: {t}{extra}")
    return "; ".join(parts)


def render(spec: dict[str, Any]) -> tuple[str, list[str]]:
    missing: list[str] = []
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            tag = (op.get("tags") or ["other"])[0]
            by_tag.setdefault(tag, []).append((method.upper(), path, op))
    lines = [INTRO, "## Endpoints", ""]
    lines.append(" · ".join(f"[{t}](#{t})" for t in by_tag))
    lines.append("")
    bodies: set[str] = set()
    for tag, eps in by_tag.items():
        lines += [
            f"### {tag}",
            "",
            "| method | path | who may call | parameters | returns |",
            "|---|---|---|---|---|",
        ]
        for method, path, op in eps:
            key = f"{method} {path}"
            who = WHO.get(key)
            ret = RETURNS.get(key)
            if who is None or ret is None:
                missing.append(key)
            codes = ", ".join(c for c in op.get("responses", {}) if c != "422")
            desc = (op.get("description") or "").strip().split("\n\n")[0].replace("\n", " ")
            ret_text = (ret or "?") + (f" — {desc}" if desc and not ret else "")
            cells = [method, f"`{path}`", who or "?", _params(spec, op), f"{ret_text} ({codes})"]
            lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            ref = body.get("schema", {}).get("$ref", "")
            if ref:
                bodies.add(ref.rsplit("/", 1)[-1])
        lines.append("")
    if bodies:
        lines += [
            "## Request bodies",
            "",
            "`?` marks an optional field; `~` the pattern a string must match.",
            "",
        ]
        for name in sorted(bodies):
            lines.append(f"- **{name}**: {_schema_fields(spec, name)}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n", missing


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if docs/api.md is out of date")
    args = ap.parse_args()
    from carbonpeak.store import Store
    from carbonpeak.web import create_site

    spec = create_site(Store(":memory:")).openapi()
    text, missing = render(spec)
    for key in missing:
        print(f"warning: {key} has no entry in WHO/RETURNS of scripts/gen_api_docs.py", file=sys.stderr)
    return write_or_check(OUT, text, check=args.check, root=ROOT, script="scripts/gen_api_docs.py")


if __name__ == "__main__":
    raise SystemExit(main())
