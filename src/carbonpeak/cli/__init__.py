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
    "markets",
)

#: the top-level name of every command or group → the module that registers it.  ``main`` imports
#: only the module of the command it runs (the others pull in libraries the command does not
#: need); ``carbonpeak --help`` and :data:`app` load them all.  Kept in step with the modules by
#: tests/monitoring/test_cli_lazy.py.
COMMANDS: dict[str, str] = {
    "factors": "factors",
    "inventory": "inventory",
    "keycategories": "analysis",
    "recalc": "analysis",
    "sinks": "sinks",
    "assess": "targets",
    "dualcontrol": "targets",
    "decompose-target": "targets",
    "targets": "targets",
    "observations": "targets",
    "decompose": "scenario",
    "scenario": "scenario",
    "monitor": "monitor",
    "serve": "platform",
    "users": "platform",
    "audit": "platform",
    "remote": "remote",
    "demo": "demo",
    "markets": "markets",
}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"carbonpeak {__version__}")
        raise typer.Exit()


def build_app(modules: tuple[str, ...] = COMMAND_MODULES) -> typer.Typer:
    """The ``carbonpeak`` Typer app with the commands of ``modules`` registered."""
    new = typer.Typer(
        name="carbonpeak",
        help="Carbon-peak accounting, assessment, projection and monitoring (model user: Guangdong).",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )

    @new.callback()
    def _root(
        version: bool = typer.Option(
            False, "--version", callback=_version, is_eager=True, help="Show the version."
        ),
    ) -> None:
        """carbonpeak command line."""

    for name in modules:
        try:
            mod = importlib.import_module(f"carbonpeak.cli.{name}")
        except ModuleNotFoundError as exc:  # an area not built yet
            if exc.name != f"carbonpeak.cli.{name}":
                raise
            continue
        mod.register(new)
    return new


_FULL_APP: typer.Typer | None = None


def __getattr__(name: str) -> typer.Typer:
    """``carbonpeak.cli.app``: the app with every command, built on first use."""
    global _FULL_APP
    if name == "app":
        if _FULL_APP is None:
            _FULL_APP = build_app()
        return _FULL_APP
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _app_for(args: list[str]) -> typer.Typer:
    first = next((a for a in args if not a.startswith("-")), None)
    mod = COMMANDS.get(first or "")
    return build_app((mod,)) if mod else __getattr__("app")


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app and turn carbonpeak errors into a clean message and exit 2."""
    try:
        # with standalone_mode=False, click returns the exit code of ctx.exit()/typer.Exit(n)
        args = sys.argv[1:] if argv is None else list(argv)
        rv = _app_for(args)(args=args, standalone_mode=False)
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
