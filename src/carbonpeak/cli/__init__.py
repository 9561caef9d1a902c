"""The ``carbonpeak`` command.

Each domain has a module here with a ``register(app)`` function that adds its commands or
sub-command group; :data:`COMMAND_MODULES` lists them in help order.  Every command that
prints a result takes ``--format table|json|csv`` (see :mod:`carbonpeak.cli.output`).
"""

from __future__ import annotations

import importlib
import sys

import typer

from carbonpeak import __version__
from carbonpeak.errors import CarbonpeakError

COMMAND_MODULES = (
    "factors",
    "inventory",
    "analysis",
    "sinks",
    "targets",
    "scenario",
    "monitor",
    "platform",
    "remote",
    "demo",
)

app = typer.Typer(
    name="carbonpeak",
    help="Carbon-peak accounting, assessment, projection and monitoring (model user: Guangdong).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"carbonpeak {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """carbonpeak command line."""


for _name in COMMAND_MODULES:
    try:
        _mod = importlib.import_module(f"carbonpeak.cli.{_name}")
    except ModuleNotFoundError as _exc:  # an area not built yet
        if _exc.name != f"carbonpeak.cli.{_name}":
            raise
        continue
    _mod.register(app)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app and turn carbonpeak errors into a clean message and exit 2."""
    try:
        # with standalone_mode=False, click returns the exit code of ctx.exit()/typer.Exit(n)
        rv = app(args=argv, standalone_mode=False)
    except CarbonpeakError as exc:
        from rich.console import Console

        Console(stderr=True).print(f"[bold red]error:[/] {exc}", markup=True, highlight=False)
        return 2
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.Abort:
        return 1
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int) else 1
    except Exception as exc:  # click usage errors and the like
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            return exc.exit_code
        raise
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
