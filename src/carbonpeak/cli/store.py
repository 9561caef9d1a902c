"""Store commands: ``store migrate`` (copy a whole store to another database and verify it),
``store upgrade`` (apply pending schema revisions once, before the workers start)."""

from __future__ import annotations

from pathlib import Path

import typer

from carbonpeak.cli.output import Format, FormatOption, emit


def register(app: typer.Typer) -> None:
    store_app = typer.Typer(
        help="The store's database: copy it between DuckDB and PostgreSQL.", no_args_is_help=True
    )
    app.add_typer(store_app, name="store")

    @store_app.command("migrate")
    def store_migrate(
        to: str = typer.Option(
            ..., "--to", help="Target: postgresql+psycopg://user@host:port/db, or a DuckDB file path."
        ),
        source: str | None = typer.Option(
            None,
            "--from",
            help="Source store (default: CARBONPEAK_DATABASE_URL, else CARBONPEAK_DB_PATH or ./carbonpeak.duckdb).",
        ),
        key_file: Path | None = typer.Option(
            None,
            "--key-file",
            help="Where the target's audit keyring goes (default: where the target looks for it: "
            "CARBONPEAK_AUDIT_KEY_FILE, else beside a DuckDB file, else the state folder for PostgreSQL).",
        ),
        replace: bool = typer.Option(
            False, "--replace", help="Delete the rows of a non-empty target first (same transaction)."
        ),
        fmt: Format = FormatOption,
    ) -> None:
        """Copy every table to the target in one transaction, then check row counts, table contents,
        the audit chain and the signed checkpoints there; exit 1 (target unchanged) if any differ."""
        from carbonpeak.store.transfer import CopyNotVerifiedError
        from carbonpeak.workflows.store_migrate import migrate_store

        try:
            result = migrate_store(to, source, key_file=key_file, replace=replace)
        except CopyNotVerifiedError as exc:
            data = exc.report.to_dict()
            emit(fmt, data=data, table=data["tables"], title="store migrate: NOT VERIFIED (rolled back)")
            for p in exc.report.problems:
                typer.echo(f"FAILED: {p}", err=True)
            raise typer.Exit(1) from None
        data = result.to_dict()
        emit(
            fmt, data=data, table=data["tables"], title=f"store migrate: {data['source']} -> {data['target']}"
        )
        if fmt != Format.json:
            chain = data["audit_chain"]
            typer.echo(
                f"audit chain on the target: {'ok' if chain.get('ok', True) else 'BROKEN'}, "
                f"{chain.get('entries', 0)} entries; checkpoints verified: "
                f"{sum(1 for c in data['checkpoints'] if c['status'] == 'ok')}/{len(data['checkpoints'])}"
            )
            typer.echo(f"audit keys: {data['key_file'] or '-'} ({data['keys']})")
            cp = data["new_checkpoint"]
            if cp and "error" in cp:
                typer.echo(
                    f"no checkpoint signed on the target ({cp['error']}): run `carbonpeak audit checkpoint` there",
                    err=True,
                )
            elif cp:
                typer.echo(f"new checkpoint on the target at entry {cp['seq']}")

    @store_app.command("upgrade")
    def store_upgrade(
        db: str | None = typer.Option(
            None, "--db", help="The store (default: CARBONPEAK_DATABASE_URL, else CARBONPEAK_DB_PATH)."
        ),
        fmt: Format = FormatOption,
    ) -> None:
        """Apply the pending schema revisions (Alembic) and print the revision before and after."""
        from carbonpeak.workflows.store_migrate import upgrade_store

        data = upgrade_store(db)
        emit(fmt, data=data, table=[data], title="store upgrade")
        if not data["up_to_date"]:
            raise typer.Exit(1)
