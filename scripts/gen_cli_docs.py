"""Write docs/cli.md from the Typer app itself.

Walks every command of ``carbonpeak.cli.app`` and writes its usage line, help text and a table of
its arguments and options (the same data ``--help`` prints), plus one example per command from
:data:`EXAMPLES` below.  Run it again after changing a command:

    .venv/bin/python scripts/gen_cli_docs.py            # rewrite docs/cli.md
    .venv/bin/python scripts/gen_cli_docs.py --check    # exit 1 if docs/cli.md is out of date

A command without an example here is listed with "(no example yet)" so that gaps are visible.
"""

from __future__ import annotations

import argparse
import enum
from pathlib import Path
from typing import Any

from _gendoc import write_or_check  # scripts/_gendoc.py (the script's folder is on sys.path)
from typer.main import get_command

from carbonpeak.cli import app

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "cli.md"
D = "src/carbonpeak/demo/data"

# One example per command.  Paths are relative to the repository root; commands that need a store
# use ./carbonpeak.duckdb (the default) unless --db is given.
EXAMPLES: dict[str, str] = {
    "keycategories": f"carbonpeak keycategories {D}/activity/*.csv --year 2019 --base-year 2015",
    "recalc": (
        f"carbonpeak recalc --previous {D}/activity/gd_energy.csv "
        f"--current {D}/activity/gd_energy.csv --current-factors my_factors.csv --changed-only"
    ),
    "sinks": f"carbonpeak sinks {D}/activity/gd_lulucf_forest.csv --year 2019",
    "assess": (
        f"carbonpeak assess --year 2023 --activity {D}/activity/gd_energy.csv "
        f"--observations {D}/observations/gd_province.csv --no-pdf --out reports/"
    ),
    "dualcontrol": (
        f"carbonpeak dualcontrol --year 2019 --activity {D}/activity_cities/energy_cities_2019.csv "
        f"--observations {D}/observations/gd_cities.csv"
    ),
    "decompose-target": (
        f"carbonpeak decompose-target co2_intensity_14fyp_gd --method entropy "
        f"--activity {D}/activity_cities/energy_cities_2019.csv --observations {D}/observations/gd_cities.csv"
    ),
    "decompose": f"carbonpeak decompose {D}/decomposition/guangdong_kaya.csv --from 2015 --to 2019",
    "serve": "carbonpeak serve --host 127.0.0.1 --port 8000 --db carbonpeak.duckdb",
    "demo": "carbonpeak demo --lang en --no-pdf --out demo-output",
    "demo load": "carbonpeak demo load --db carbonpeak.duckdb",
    "factors list": "carbonpeak factors list --item natural_gas",
    "factors show": "carbonpeak factors show raw_coal",
    "factors gwp": "carbonpeak factors gwp --set AR5",
    "factors check": "carbonpeak factors check my_factors.csv",
    "factors status": "carbonpeak factors status --format json",
    "factors grid": "carbonpeak factors grid 2022 --grid south",
    "inventory compile": f"carbonpeak inventory compile {D}/activity/*.csv --format xlsx -o inventory.xlsx",
    "inventory explain": f"carbonpeak inventory explain {D}/activity/gd_ippu_cement.csv --category 2.A.1 --year 2019",
    "inventory import": f"carbonpeak inventory import {D}/activity/*.csv --submitter statistics-bureau",
    "inventory categories": "carbonpeak inventory categories --sector ippu",
    "inventory sinks": f"carbonpeak inventory sinks {D}/activity/gd_lulucf_forest.csv -f json",
    "targets list": "carbonpeak targets list --area energy --lang zh",
    "targets show": "carbonpeak targets show co2_intensity_14fyp_gd",
    "observations import": f"carbonpeak observations import {D}/observations/gd_province.csv",
    "observations indicators": "carbonpeak observations indicators",
    "scenario list": "carbonpeak scenario list",
    "scenario show": "carbonpeak scenario show plan",
    "scenario run": "carbonpeak scenario run plan --end 2035",
    "scenario compare": "carbonpeak scenario compare baseline plan enhanced",
    "scenario montecarlo": "carbonpeak scenario montecarlo plan --draws 2000 --seed 1 --sampling lhs",
    "scenario sobol": "carbonpeak scenario sobol plan --n 256 --output peak_year",
    "scenario factors": "carbonpeak scenario factors plan",
    "scenario kaya": "carbonpeak scenario kaya plan --out plan_kaya.csv",
    "scenario export": "carbonpeak scenario export baseline plan --iamc scenarios.csv",
    "scenario import-iamc": "carbonpeak scenario import-iamc scenarios.csv --variable 'Emissions|CO2'",
    "monitor ingest": (
        "carbonpeak monitor ingest synth/registry/units.csv synth/registry/meters.csv "
        "synth/registry/output.csv synth/registry/budgets.csv synth/registry/reported.csv synth/readings"
    ),
    "monitor run": "carbonpeak monitor run --from 2025-01-01 --to 2025-01-31",
    "monitor alerts": "carbonpeak monitor alerts --kind pue_over_limit --status open",
    "monitor review": "carbonpeak monitor review 03a8a63ae6c4129f --comment 'meter replaced on 2025-01-12' --reviewer verifier1",
    "monitor pue": "carbonpeak monitor pue --grain month",
    "monitor totals": "carbonpeak monitor totals --by industry -f csv",
    "monitor generate": "carbonpeak monitor generate --out synth --units 20 --days 31",
    "users add": "carbonpeak users add gz_officer --role city_officer --city GD-GZ",
    "users bootstrap": "carbonpeak users bootstrap --username admin",
    "users list": "carbonpeak users list",
    "users disable": "carbonpeak users disable gz_officer",
    "audit verify": "carbonpeak audit verify",
    "audit log": "carbonpeak audit log --limit 20",
    "remote login": "carbonpeak remote login http://127.0.0.1:8000 admin",
    "remote import-activity": f"carbonpeak remote import-activity {D}/activity/gd_energy.csv",
    "remote import-observations": "carbonpeak remote import-observations gdp_2024.xlsx",
    "remote template": "carbonpeak remote template observations --lang zh --out observations.xlsx",
    "template": "carbonpeak template activity --lang zh -o activity_template.xlsx",
    "remote submit": "carbonpeak remote submit readings-2025-01.csv --kind readings --period 2025-01",
    "remote compile": "carbonpeak remote compile --year 2019",
    "remote audit-verify": "carbonpeak remote audit-verify",
    "remote logout": "carbonpeak remote logout",
    "schedule list": "carbonpeak schedule list --db carbonpeak.duckdb",
    "schedule run-due": "carbonpeak schedule run-due --db carbonpeak.duckdb",
    "schedule run": "carbonpeak schedule run report-monthly --db carbonpeak.duckdb",
    "schedule history": "carbonpeak schedule history --db carbonpeak.duckdb --limit 20",
    "schedule notify-test": "carbonpeak schedule notify-test",
}


def _fmt_default(p: Any) -> str:
    d = p.default
    if d is None or d == [] or d == () or getattr(p, "required", False):
        return ""
    if isinstance(d, enum.Enum):
        d = d.value
    if isinstance(d, bool):
        if getattr(p, "secondary_opts", None):
            return p.opts[0] if d else p.secondary_opts[0]
        return "on" if d else "off"
    return f"`{d}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _usage(path: list[str], cmd: Any) -> str:
    pieces = []
    for p in cmd.params:
        if type(p).__name__.endswith("Argument"):
            name = p.name.upper()
            if p.nargs == -1:
                name += "..."
            pieces.append(name if p.required else f"[{name}]")
    return " ".join([*path, "[OPTIONS]", *pieces])


def _command_md(path: list[str], cmd: Any) -> list[str]:
    key = " ".join(path[1:])
    lines = [f"### `{' '.join(path)}`", ""]
    help_text = (cmd.help or "").strip()
    if help_text:
        lines += [help_text.split("\n\n")[0].replace("\n", " "), ""]
    lines += ["```", _usage(path, cmd), "```", ""]
    rows = []
    for p in cmd.params:
        is_arg = type(p).__name__.endswith("Argument")
        names = p.name.upper() if is_arg else ", ".join(f"`{o}`" for o in p.opts + p.secondary_opts)
        if is_arg:
            names = f"`{names}`"
        req = "yes" if p.required else ""
        rows.append(f"| {names} | {req} | {_fmt_default(p)} | {_cell(p.help or '')} |")
    if rows:
        lines += ["| argument / option | required | default | meaning |", "|---|---|---|---|", *rows, ""]
    ex = EXAMPLES.get(key)
    lines += ["Example:", "", "```sh", ex if ex else "(no example yet)", "```", ""]
    return lines


def _walk(cmd: Any, path: list[str], out: list[tuple[list[str], Any]]) -> None:
    if hasattr(cmd, "commands"):
        if getattr(cmd, "invoke_without_command", False) and len(path) > 1:  # a group that also runs (`demo`)
            out.append((path, cmd))
        for name, sub in cmd.commands.items():
            _walk(sub, [*path, name], out)
    else:
        out.append((path, cmd))


def render() -> str:
    root = get_command(app)
    commands: list[tuple[list[str], Any]] = []
    _walk(root, ["carbonpeak"], commands)
    groups: dict[str, list[tuple[list[str], Any]]] = {}
    for path, cmd in commands:
        group = path[1] if len(path) > 2 else "(top level)"
        groups.setdefault(group, []).append((path, cmd))
    lines = [
        "# The `carbonpeak` command",
        "",
        "<!-- generated by scripts/gen_cli_docs.py from the Typer app; do not edit by hand -->",
        "",
        "Every command prints `--help`. Commands that print a result take `--format table|json|csv`",
        "(`-f`), and `--format parquet` for large tables (binary: redirect it, `> out.parquet`; refused",
        "on a terminal). Errors in input are reported with file, row and field and exit code 2.",
        "Commands that use the store take `--db FILE` (default: `CARBONPEAK_DB_PATH`, else",
        "`./carbonpeak.duckdb`); see [operations.md](operations.md). Paths in the examples are",
        "relative to the repository root; `my_factors.csv`, `scenarios.csv`, `synth/` and the",
        "like stand for your own files.",
        "",
        "A mistyped command or option prints the usual short usage error (exit 2), never a",
        "traceback. Tables are fitted to the terminal (80 columns when output is not a terminal):",
        "long text is cut with `…`, numbers never; columns that still do not fit are left out and",
        "named under the table. `--wide` (anywhere on the line) prints every column in full;",
        "`--format csv|json` give all the data. Probabilities (`probability`, `p_*` columns) print",
        "as percentages in tables and stay fractions (0–1) in JSON and CSV.",
        "",
        f"{len(commands)} commands:",
        "",
    ]
    for group, items in groups.items():
        sub = root.commands.get(group)
        desc = (sub.help or "").strip().split("\n")[0] if sub is not None and group != "(top level)" else ""
        names = ", ".join(f"[`{' '.join(p[1:])}`](#{_anchor(p)})" for p, _ in items)
        lines.append(f"- **{group}**: {names}{('. ' + desc) if desc else ''}")
    lines.append("")
    for group, items in groups.items():
        lines += [f"## {group}", ""]
        for path, cmd in items:
            lines += _command_md(path, cmd)
    return "\n".join(lines).rstrip() + "\n"


def _anchor(path: list[str]) -> str:
    # GitHub's anchor of a heading "`carbonpeak factors list`": lower case, spaces to '-', drop '`'.
    return "-".join(path).lower()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if docs/cli.md is out of date")
    args = ap.parse_args()
    text = render()
    return write_or_check(OUT, text, check=args.check, root=ROOT, script="scripts/gen_cli_docs.py")


if __name__ == "__main__":
    raise SystemExit(main())
