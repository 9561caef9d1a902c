"""Platform commands: ``serve``, ``users add|list|disable|bootstrap|passwd``,
``audit verify|checkpoint|rotate-key|log``."""

from __future__ import annotations

import getpass
import secrets
from pathlib import Path

import typer

from carbonpeak.cli.output import Format, FormatOption, emit
from carbonpeak.config import get_settings
from carbonpeak.errors import CarbonpeakError

DbOption = typer.Option(
    None, "--db", help="DuckDB file of the store (default: CARBONPEAK_DB_PATH or ./carbonpeak.duckdb)."
)


def _store(db: Path | None):  # noqa: ANN202 - Store imported lazily to keep CLI start-up fast
    from carbonpeak.store import Store

    return Store(db or get_settings().db_path)


def register(app: typer.Typer) -> None:
    users = typer.Typer(help="Manage users and roles (admin).", no_args_is_help=True)
    audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
    app.add_typer(users, name="users")
    app.add_typer(audit_app, name="audit")

    @app.command("serve")
    def serve(
        host: str = typer.Option("127.0.0.1", help="Address to listen on."),
        port: int = typer.Option(8000, help="Port."),
        db: Path | None = DbOption,
    ) -> None:
        """Run the web service and dashboard (FastAPI + uvicorn) on the store."""
        import uvicorn

        from carbonpeak.web import create_site

        store = _store(db)
        from carbonpeak.store.users import has_users

        if not has_users(store):
            typer.echo("No users yet: create the first admin with `carbonpeak users bootstrap`.", err=True)
        uvicorn.run(create_site(store), host=host, port=port, log_level="info")

    @users.command("add")
    def users_add(
        username: str,
        role: str = typer.Option(..., help="admin, province_analyst, city_officer, enterprise or verifier."),
        city: str | None = typer.Option(None, help="City code for a city_officer (GD-XX)."),
        enterprise: str | None = typer.Option(None, help="Enterprise id for an enterprise user."),
        assign: list[str] = typer.Option(
            [], help="Enterprise ids assigned to a verifier (repeatable, or a comma list a,b; each id is checked)."
        ),
        password_stdin: bool = typer.Option(
            False, "--password-stdin", help="Read the password from standard input."
        ),
        db: Path | None = DbOption,
    ) -> None:
        """Add a user. The password is asked for (never a default); or given on stdin."""
        from carbonpeak.store.users import add_user

        pw = _read_password(password_stdin)
        with _store(db) as store:
            ids = [part.strip() for item in assign for part in item.split(",")]
            add_user(store, username, pw, role, city=city, enterprise_id=enterprise, assigned=ids)
        typer.echo(f"user '{username}' added as {role}")

    @users.command("bootstrap")
    def users_bootstrap(
        username: str = typer.Option("admin", help="Name of the first admin."),
        db: Path | None = DbOption,
    ) -> None:
        """Create the first admin with a random password printed once. Refused if any user exists."""
        from carbonpeak.store.users import add_user, has_users

        with _store(db) as store:
            if has_users(store):
                raise CarbonpeakError("users exist already; bootstrap only works on an empty store")
            pw = secrets.token_urlsafe(18)
            add_user(store, username, pw, "admin", actor="bootstrap")
        typer.echo(f"admin '{username}' created. Password (shown once, change it): {pw}")

    @users.command("list")
    def users_list(db: Path | None = DbOption, fmt: Format = FormatOption) -> None:
        """List users and their scopes."""
        from carbonpeak.store.users import list_users

        with _store(db) as store:
            rows = list_users(store)
        emit(fmt, data=rows, table=rows, title="Users")

    @users.command("passwd")
    def users_passwd(
        username: str,
        password_stdin: bool = typer.Option(
            False, "--password-stdin", help="Read the new password from standard input."
        ),
        db: Path | None = DbOption,
    ) -> None:
        """Set a user's password (policy checked; the user's sessions end; audited)."""
        from carbonpeak.store.users import set_password

        pw = _read_password(password_stdin)
        with _store(db) as store:
            set_password(store, username, pw)
        typer.echo(f"password of '{username}' changed; their sessions were ended")

    @users.command("disable")
    def users_disable(username: str, db: Path | None = DbOption) -> None:
        """Disable a user and end their sessions."""
        from carbonpeak.store.users import set_disabled

        with _store(db) as store:
            set_disabled(store, username, True)
        typer.echo(f"user '{username}' disabled")

    @audit_app.command("verify")
    def audit_verify(
        against: Path | None = typer.Option(
            None,
            "--against",
            help="A checkpoint file: prove nothing at or before it was removed or changed "
            "(default: the newest file in the checkpoint folder, if any).",
        ),
        db: Path | None = DbOption,
        fmt: Format = FormatOption,
    ) -> None:
        """Recompute the keyed chain; exit 1 if any entry was edited, deleted, forged or reordered."""
        from carbonpeak.store import checkpoints

        with _store(db) as store:
            data = checkpoints.verify_store(store, against)
        ok = bool(data["ok"])
        emit(fmt, data=data, table=[{k: v for k, v in data.items() if k != "checkpoint"}], title="Audit chain")
        if "checkpoint" in data and fmt != Format.json:
            for p in data["checkpoint"]["problems"]:
                typer.echo(f"FAILED: {p}", err=True)
        if not ok:
            raise typer.Exit(1)

    @audit_app.command("checkpoint")
    def audit_checkpoint(
        out: Path | None = typer.Option(None, "--out", help="Checkpoint file to write (default: checkpoint folder)."),
        db: Path | None = DbOption,
        fmt: Format = FormatOption,
    ) -> None:
        """Sign a checkpoint of the chain head and guarded tables (Ed25519); store it and write a file."""
        from carbonpeak.store import checkpoints

        with _store(db) as store:
            cp, path = checkpoints.create(store, out=out)
        data = {**cp.summary(), "file": str(path) if path else None}
        emit(fmt, data={**data, "tables": cp.body["tables"]}, table=[data], title="Audit checkpoint")

    @audit_app.command("rotate-key")
    def audit_rotate_key(db: Path | None = DbOption) -> None:
        """Add new audit keys (HMAC and Ed25519) and make them active; old keys stay to verify old entries."""
        from carbonpeak.store import audit, audit_keys

        with _store(db) as store:
            audit.keyring(store)  # make sure the keyring exists
            path = audit_keys.default_key_file(store.sidecar_base)
        if path is None or get_settings().audit_keyring is not None:
            raise CarbonpeakError(
                "the keyring comes from CARBONPEAK_AUDIT_KEYRING or the store is in memory: rotate the "
                "key file and deploy its new content (docs/security.md)"
            )
        new = audit_keys.rotate_key_file(path)
        typer.echo(f"new active keys: {', '.join(new)} (older keys kept in {path.name} for verification)")

    @audit_app.command("log")
    def audit_log(
        limit: int = typer.Option(50, help="How many of the newest entries."),
        db: Path | None = DbOption,
        fmt: Format = FormatOption,
    ) -> None:
        """Show the newest audit entries."""
        from carbonpeak.store import audit

        with _store(db) as store:
            df = audit.entries(store, limit)
        emit(fmt, data=df, table=df, title="Audit log")


def _read_password(from_stdin: bool) -> str:
    import sys

    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    pw = getpass.getpass("Password (12+ characters): ")
    if pw != getpass.getpass("Again: "):
        raise CarbonpeakError("the passwords differ")
    return pw
