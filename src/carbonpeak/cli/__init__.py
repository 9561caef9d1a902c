"""The ``carbonpeak`` command.

Each domain has a module here with a ``register(app)`` function that adds its commands or
sub-command group; :data:`COMMAND_MODULES` lists them in help order.  Every command that
prints a result takes ``--format table|json|csv|parquet`` (see :mod:`carbonpeak.cli.output`).
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
    "store",
    "remote",
    "template",
    "schedule",
    "jobs",
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
    "store": "store",
    "remote": "remote",
    "template": "template",
    "schedule": "schedule",
    "jobs": "jobs",
    "demo": "demo",
    "markets": "markets",
}


#: the one-line help of every top-level command or group, as ``carbonpeak --help`` lists it:
#: ``(is_group, help)``.  ``carbonpeak --help`` is answered from this table without importing any
#: command module (they pull in pandas, numpy, DuckDB …); tests/foundation/test_cli_habits.py
#: checks that the answer is the same as the full app's.  A command missing here makes
#: ``--help`` load every module (correct, only slower).
SUMMARIES: dict[str, tuple[bool, str]] = {
    "factors": (True, "The reference catalog: fuels, factors, grid factors and GWPs, with sources."),
    "inventory": (True, "Greenhouse-gas inventory: compile, explain, import."),
    "keycategories": (False, "Key category analysis (IPCC 2006 Vol 1 Ch 4): level, trend, Approach 1 and 2."),
    "recalc": (
        False,
        "Recalculation report: previous vs current inventory by year × category × gas, with reasons.",
    ),
    "sinks": (
        False,
        "Carbon sinks: net t CO2 removed by ecosystem (forest, mangrove, salt marsh, seagrass, ...).",
    ),
    "assess": (
        False,
        "Assess every target in YEAR; with --out write the annual assessment report (HTML + PDF + JSON).",
    ),
    "dualcontrol": (
        False,
        "Carbon intensity, total emissions and energy intensity for the province and the 21 cities.",
    ),
    "decompose-target": (
        False,
        "Split a provincial intensity (or total) target to the 21 cities; prints method, weights and check.",
    ),
    "targets": (True, "The plan's quantitative targets."),
    "observations": (True, "Indicator observations (GDP, energy, capacities, ...)."),
    "decompose": (
        False,
        "LMDI-I decomposition of any multiplicative identity (effects, total change, residual).",
    ),
    "scenario": (True, "Peak projection: scenarios, Monte Carlo, Sobol sensitivity, IAMC exchange."),
    "monitor": (True, "Online monitoring of key energy-consuming units (issue 5)."),
    "serve": (False, "Run the web service and dashboard (FastAPI + uvicorn) on the store."),
    "users": (True, "Manage users and roles (admin)."),
    "audit": (True, "The tamper-evident audit log."),
    "remote": (True, "Use a running carbonpeak service (while it owns the store)."),
    "template": (False, "Write the Excel template of one kind of input (fill it in, then import or upload it)."),
    "store": (True, "The store's database: copy it between DuckDB and PostgreSQL."),
    "markets": (True, "Markets: registry ledger, surrender with offsets, PHCER, energy-use rights."),
    "schedule": (True, "Scheduled work (deadline checks, monitoring runs, reports) and notifications."),
    "jobs": (True, "Background jobs: run the queued ones here, or work as a job worker."),
    "demo": (True, "The bundled Guangdong demo: run it (report in demo-output/) or `demo load` it into the store."),
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
        wide: bool = typer.Option(
            False, "--wide", help="Print tables in full, wider than the terminal (any position on the line)."
        ),
    ) -> None:
        """carbonpeak command line."""
        from carbonpeak.cli import tablefit

        tablefit.WIDE = wide

    for name in modules:
        try:
            mod = importlib.import_module(f"carbonpeak.cli.{name}")
        except ModuleNotFoundError as exc:  # an area not built yet
            if exc.name != f"carbonpeak.cli.{name}":
                raise
            continue
        mod.register(new)
    if modules:  # the bare index app (`carbonpeak --help`) has no --format and must stay light
        from carbonpeak.cli.output import add_output_option

        add_output_option(new)  # -o FILE beside every --format (xlsx writes a workbook)
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


def _index_app() -> typer.Typer:
    """The top-level app with a placeholder per command: answers ``carbonpeak --help`` fast."""
    new = build_app(())
    for name in COMMANDS:
        is_group, text = SUMMARIES[name]
        if is_group:
            new.add_typer(typer.Typer(), name=name, help=text)
        else:
            new.command(name, help=text)(_placeholder)
    return new


def _placeholder() -> None:  # pragma: no cover - never run: a named command loads its module
    raise RuntimeError("placeholder command run")


def _app_for(args: list[str]) -> typer.Typer:
    first = next((a for a in args if not a.startswith("-")), None)
    mod = COMMANDS.get(first or "")
    if mod:
        return build_app((mod,))
    if first is None and set(COMMANDS) <= set(SUMMARIES):
        return _index_app()  # `carbonpeak`, `carbonpeak --help`, `carbonpeak --version`
    return __getattr__("app")


def _take_wide(args: list[str]) -> list[str]:
    """Move ``--wide`` from wherever it is (before ``--``) to the front, where the root takes it."""
    end = args.index("--") if "--" in args else len(args)
    if "--wide" not in args[:end]:
        return args
    return ["--wide", *(a for i, a in enumerate(args) if not (i < end and a == "--wide"))]


def _usage_error_types() -> tuple[type[BaseException], ...]:
    """The ``ClickException`` classes a command can raise.

    Typer ≥ 0.16 raises the exceptions of the click it bundles (``typer._click``), older Typer
    those of the standalone ``click``: found through the MRO of :class:`typer.BadParameter`, not by
    importing a private module, plus the standalone one when it is installed.
    """
    found: list[type[BaseException]] = [c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"]
    try:
        import click

        found.append(click.ClickException)
    except ImportError:  # pragma: no cover - click is optional beside a bundling typer
        pass
    return tuple(dict.fromkeys(found))


def error_text(exc: CarbonpeakError) -> str:
    """The error in the CLI's language (``CARBONPEAK_LANG``, setting ``lang``): an import's problems
    (file, row, field, message) and errors raised with a message key; other text as it is."""
    from carbonpeak.errors import ValidationError
    from carbonpeak.i18n import Msg

    try:
        from carbonpeak.config import get_settings

        lang = get_settings().lang
    except Exception:  # a broken configuration has its own error; say this one in English
        lang = "en"
    if isinstance(exc, ValidationError):
        return exc.render(lang)
    arg = exc.args[0] if len(exc.args) == 1 else None
    return arg.render(lang) if isinstance(arg, Msg) else str(exc)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app and turn errors into a short message and an exit code.

    A mistyped command or option prints click's usual usage error (exit 2); a
    :class:`~carbonpeak.errors.CarbonpeakError` prints ``error: …`` (exit 2); neither prints a
    traceback.
    """
    try:
        # with standalone_mode=False, click returns the exit code of ctx.exit()/typer.Exit(n)
        args = _take_wide(sys.argv[1:] if argv is None else list(argv))
        rv = _app_for(args)(args=args, prog_name="carbonpeak", standalone_mode=False)
    except CarbonpeakError as exc:
        from rich.console import Console
        from rich.markup import escape

        Console(stderr=True).print(f"[bold red]error:[/] {escape(error_text(exc))}", markup=True, highlight=False)
        return 2
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.Abort:
        return 1
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int) else 1
    except Exception as exc:  # click usage errors and the like
        if isinstance(exc, _usage_error_types()):
            exc.show()  # type: ignore[attr-defined]
            return int(exc.exit_code)  # type: ignore[attr-defined]
        if isinstance(exc, typer.TyperException):
            typer.echo(f"Error: {exc.format_message()}", err=True)
            return int(exc.exit_code)
        raise
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
