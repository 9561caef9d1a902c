"""``carbonpeak remote``: the CLI as a client of a running service.

While the service runs it owns the DuckDB file (one writer per file), so operators load data
through its API (docs/operations.md).  ``remote login`` keeps the session token in
``~/.config/carbonpeak/session.json`` (mode 600); the other commands use it.
"""

from __future__ import annotations

import getpass
import json
import os
from pathlib import Path
from typing import Any

import typer

from carbonpeak.cli.output import Format, FormatOption, emit
from carbonpeak.errors import CarbonpeakError, Problem, ValidationError

SESSION_FILE = Path(
    os.environ.get("CARBONPEAK_SESSION_FILE", Path.home() / ".config" / "carbonpeak" / "session.json")
)


def _session() -> dict[str, str]:
    if not SESSION_FILE.exists():
        raise CarbonpeakError("not logged in: run `carbonpeak remote login URL USER`")
    return json.loads(SESSION_FILE.read_text())  # type: ignore[no-any-return]


def _check(r: Any) -> Any:
    if r.status_code < 400:
        return r.json()
    try:
        body = r.json()
    except ValueError:
        raise CarbonpeakError(f"service answered {r.status_code}: {r.text[:300]}") from None
    if r.status_code == 422 and "problems" in body:
        raise ValidationError(
            [Problem(p["file"], p["row"], p["field"], p["message"]) for p in body["problems"]]
        )
    raise CarbonpeakError(f"service answered {r.status_code}: {body.get('message') or body.get('detail')}")


def _client() -> Any:
    import httpx

    s = _session()
    return httpx.Client(base_url=s["url"], headers={"Authorization": f"Bearer {s['token']}"}, timeout=300)


def register(app: typer.Typer) -> None:
    remote = typer.Typer(
        help="Use a running carbonpeak service (while it owns the store).", no_args_is_help=True
    )
    app.add_typer(remote, name="remote")

    @remote.command("login")
    def login(
        url: str,
        username: str,
        password_stdin: bool = typer.Option(
            False, "--password-stdin", help="Read the password from standard input."
        ),
    ) -> None:
        """Log in and keep the session token for the other remote commands."""
        import sys

        import httpx

        pw = sys.stdin.readline().rstrip("\n") if password_stdin else getpass.getpass("Password: ")
        r = httpx.post(
            url.rstrip("/") + "/api/auth/login", json={"username": username, "password": pw}, timeout=60
        )
        body = _check(r)
        SESSION_FILE.parent.mkdir(parents=True, exist_ok=True)
        SESSION_FILE.write_text(
            json.dumps({"url": url.rstrip("/"), "token": body["token"], "user": username})
        )
        SESSION_FILE.chmod(0o600)
        typer.echo(f"logged in to {url} as {username} ({body['user']['role']}) until {body['expires_at']}")

    @remote.command("import-activity")
    def import_activity(files: list[Path], fmt: Format = FormatOption) -> None:
        """Send activity files to the service (validated together, stored as one batch)."""
        with _client() as c:
            parts = [("files", (f.name, f.read_bytes(), "application/octet-stream")) for f in files]
            data = _check(c.post("/api/activity", files=parts))
        emit(fmt, data=data, table=[data], title="Activity import")

    @remote.command("import-observations")
    def import_observations(files: list[Path], fmt: Format = FormatOption) -> None:
        """Send indicator observations (GDP, population, capacities …) to the service (validated
        together, stored as one batch; a city officer may send its own city's rows only)."""
        with _client() as c:
            parts = [("files", (f.name, f.read_bytes(), "application/octet-stream")) for f in files]
            data = _check(c.post("/api/observations", files=parts))
        emit(fmt, data=data, table=[data], title="Observations import" + ("" if data.get("created") else " (already stored)"))

    @remote.command("template")
    def template(
        kind: str,
        lang: str = typer.Option("zh", "--lang", help="zh or en"),
        out: Path = typer.Option(..., "--out", dir_okay=False, help="Where to write the .xlsx."),
    ) -> None:
        """Download an Excel input template from the service (as `carbonpeak template`)."""
        with _client() as c:
            r = c.get(f"/api/templates/{kind}", params={"lang": lang})
            if r.status_code >= 400:
                _check(r)
        out.write_bytes(r.content)
        typer.echo(f"wrote {out}")

    @remote.command("submit")
    def submit(
        file: Path,
        kind: str = typer.Option(..., help="readings or output"),
        period: str = typer.Option(..., help="Reporting period, e.g. 2025-01"),
        enterprise: str | None = typer.Option(
            None, help="Enterprise id (admins only; enterprises submit their own)"
        ),
        fmt: Format = FormatOption,
    ) -> None:
        """Submit an enterprise readings or output file (a correction becomes a new version)."""
        with _client() as c:
            form = {"kind": kind, "period": period}
            if enterprise:
                form["enterprise_id"] = enterprise
            data = _check(
                c.post("/api/submissions", data=form, files={"file": (file.name, file.read_bytes())})
            )
        emit(fmt, data=data, table=[data], title="Submission")

    @remote.command("compile")
    def compile_(
        year: int | None = typer.Option(None),
        region: str | None = typer.Option(None),
        gwp: str = typer.Option("AR5"),
        fmt: Format = FormatOption,
    ) -> None:
        """Compile the service's inventory of its stored activity data (404 "no data yet" on an empty store)."""
        with _client() as c:
            data = _check(c.post("/api/inventory/compile", json={"year": year, "region": region, "gwp": gwp}))
        if "by_year" in data:  # several years: one column per year, never their sum
            by_year = data["by_year"]
            codes = list(dict.fromkeys(c for s in by_year.values() for c in s.get("by_category", {})))
            rows = [{"code": c} | {y: s.get("by_category", {}).get(c) for y, s in by_year.items()} for c in codes]
            emit(fmt, data=data, table=rows, title="Inventory by year (tCO2e)")
            return
        rows = [{"code": k, "co2e_t": v} for k, v in (data.get("by_category") or {}).items()]
        emit(fmt, data=data, table=rows, title=f"Inventory total {data.get('total_co2e_t', 0):,.0f} tCO2e")

    @remote.command("audit-verify")
    def audit_verify(fmt: Format = FormatOption) -> None:
        """Ask the service to verify its audit chain (exit 1 if broken)."""
        with _client() as c:
            data = _check(c.get("/api/audit/verify"))
        emit(fmt, data=data, table=[data], title="Audit chain")
        if not data["ok"]:
            raise typer.Exit(1)

    @remote.command("logout")
    def logout() -> None:
        """End the session and forget the token."""
        with _client() as c:
            c.post("/api/auth/logout")
        SESSION_FILE.unlink(missing_ok=True)
        typer.echo("logged out")
