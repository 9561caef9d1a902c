"""``carbonpeak markets …``: the registry ledger, surrender, PHCER and energy-use rights (issue 11 §6).

The CLI works on the local store as the registry's operator (the role ``admin``; ``--actor``
names who is recorded in the audit chain).  Every movement is a journal entry in the ledger and
an entry of the audit chain.  JSON keys: docs/markets.md ("Command line").
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import typer

from carbonpeak.cli.output import Format, FormatOption, emit

DbOption = typer.Option(None, "--db", help="The store (DuckDB file or database URL; default: the configured store).")
ActorOption = typer.Option("cli", "--actor", help="Who is recorded in the audit chain.")

app = typer.Typer(help="Markets: registry ledger, surrender with offsets, PHCER, energy-use rights.",
                  no_args_is_help=True)
phcer_app = typer.Typer(help="Carbon inclusion (碳普惠): methodology register and PHCER issuance.", no_args_is_help=True)
app.add_typer(phcer_app, name="phcer")


def _store(db: Path | None):  # noqa: ANN202 - Store imported lazily to keep CLI start-up fast
    from carbonpeak.config import get_settings
    from carbonpeak.store import Store

    return Store(db or get_settings().store_location)


def _op(actor: str) -> Any:
    from carbonpeak.store.users import Principal

    return Principal(actor, "admin")


def _serials(serials: str | None) -> tuple[int | None, int | None]:
    if serials is None:
        return None, None
    try:
        a, _, b = serials.partition("-")
        return int(a), int(b or a)
    except ValueError:
        raise typer.BadParameter(f"--serials: give FIRST-LAST, e.g. 1001-1100 (got {serials!r})") from None


def _units(quantity: int | None, serials: str | None) -> dict[str, int | None]:
    if (quantity is None) == (serials is None):
        raise typer.BadParameter("give either --quantity or --serials")
    start, end = _serials(serials)
    return {"quantity": quantity, "start": start, "end": end}


def _params(values: list[str]) -> dict[str, float]:
    out = {}
    for v in values:
        k, sep, x = v.partition("=")
        try:
            out[k.strip()] = float(x)
        except ValueError:
            raise typer.BadParameter(f"--param: give NAME=NUMBER, e.g. offsets.pool=1000000 (got {v!r})") from None
        if not sep:
            raise typer.BadParameter(f"--param: give NAME=NUMBER (got {v!r})")
    return out


def _pairs(values: list[str]) -> dict[str, str]:
    out = {}
    for v in values:
        k, sep, x = v.partition("=")
        if not sep or not k.strip():
            raise typer.BadParameter(f"give NAME=VALUE (got {v!r})")
        out[k.strip()] = x.strip()
    return out


def _emit(fmt: Format, *, data: Any = None, table: Any = None, title: str | None = None,
          extra_tables: Any = ()) -> None:
    """:func:`emit` with frames' timestamps as ISO text in JSON."""
    from carbonpeak.store.markets import as_json

    if data is None and table is not None:
        data = table
    emit(fmt, data=as_json(data), table=table, title=title, extra_tables=extra_tables)


def _entries(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: e[k] for k in ("entry_id", "kind", "unit_type", "vintage", "serials", "quantity", "debit", "credit")}
            for e in entries]


QuantityOption = typer.Option(None, "--quantity", "-q", min=1, help="Whole units (t or tce); lowest serials first.")
SerialsOption = typer.Option(None, "--serials", help="Exactly these serials, FIRST-LAST.")
UnitOption = typer.Option(..., "--unit-type", "-u", help="GDEA, CEA, CCER, PHCER or EUR.")
VintageOption = typer.Option(..., "--vintage", "-v", help="Vintage year of the units.")


@app.command("setup")
def setup_cmd(db: Path | None = DbOption, actor: str = ActorOption) -> None:
    """Open the authority accounts and record the shipped PHCER methodologies (idempotent)."""
    from carbonpeak.workflows import markets as wm

    with _store(db) as s:
        wm.setup(s, actor=actor)
    typer.echo("markets: authority accounts and methodology register ready")


@app.command("allocate")
def allocate_cmd(
    file: Path = typer.Argument(..., help="CSV/Excel with enterprise_id, city, quantity (the free allocation)."),
    year: int = typer.Option(..., "--year"),
    unit_type: str = typer.Option("GDEA", "--unit-type", "-u"),
    db: Path | None = DbOption, actor: str = ActorOption, fmt: Format = FormatOption,
) -> None:
    """Issue an allocation into the enterprises' holding accounts, all or nothing."""
    from carbonpeak.io.tables import read_table
    from carbonpeak.workflows import markets as wm

    df = read_table(file)
    missing = {"enterprise_id", "quantity"} - set(df.columns)
    if missing:
        raise typer.BadParameter(f"{file}: missing column(s) {', '.join(sorted(missing))}")
    if "city" not in df:
        df["city"] = None
    with _store(db) as s:
        res = wm.allocate(s, _op(actor), year=year, allocations=df, unit_type=unit_type)
    _emit(fmt, data=res, table=[res], title="Allocation issued")


@app.command("rules")
def rules_cmd(ruleset: str | None = typer.Argument(None, help="A rule set id (default: list them)."),
              fmt: Format = FormatOption) -> None:
    """The rule sets, or one rule set's parameters that a run must supply (not published)."""
    from carbonpeak.catalog.markets import list_rulesets, load_ruleset

    if ruleset is None:
        rows = [load_ruleset(r).to_dict() for r in list_rulesets()]
        _emit(fmt, data=rows, table=[{k: r[k] for k in ("id", "scheme", "compliance_years", "source")} for r in rows],
              title="Rule sets")
        return
    rs = load_ruleset(ruleset)
    req = [{"parameter": p.name, "unit": p.unit, "note": p.note} for p in rs.required_parameters()]
    _emit(fmt, data={"ruleset": rs.to_dict(), "required": req}, table=req or [{"parameter": "none"}],
          title=f"{ruleset}: required run parameters")


@app.command("allocation")
def allocation_cmd(
    file: Path = typer.Argument(..., help="Covered entities: enterprise_id, sector, [city, activity, method, "
                                "output_unit, coprocessed_waste_t]. Output and emissions come from the store."),
    ruleset: str = typer.Option(..., "--ruleset"), year: int = typer.Option(..., "--year"),
    override: Path | None = typer.Option(
        None, "--override", help="Explicit override of the store's figures: enterprise_id and any of output "
        "'clinker:1200000', base_emissions '2021:102000;2022:98000', base_output, [reason]; recorded in the "
        "allocation's provenance (may be the entity file itself)."),
    param: list[str] = typer.Option([], "--param", help="Run parameter NAME=NUMBER (repeatable)."),
    issue: bool = typer.Option(False, "--issue", help="Issue the free allocation into the ledger."),
    unit_type: str = typer.Option("GDEA", "--unit-type", "-u"),
    provenance: bool = typer.Option(False, "--provenance", help="Also print where each figure came from (table; "
                                    "JSON always has it)."),
    db: Path | None = DbOption, actor: str = ActorOption, fmt: Format = FormatOption,
) -> None:
    """Allocate by the rule set from the store's verified emissions and monitoring output (W1, W3)."""
    import hashlib

    from carbonpeak.io.tables import read_table
    from carbonpeak.workflows import markets as wm

    entities = read_table(file)
    ov = ov_src = None
    if override is not None:
        ov = read_table(override)
        ov_src = f"{override.name} sha256:{hashlib.sha256(override.read_bytes()).hexdigest()[:16]}"
        if override.resolve() == file.resolve():
            entities = entities.drop(columns=[c for c in wm.OVERRIDE_COLUMNS if c in entities.columns])
    with _store(db) as s:
        res = wm.allocate_from_store(s, _op(actor), entities=entities, ruleset_id=ruleset, year=year,
                                     params=_params(param) or None, override=ov, override_source=ov_src or "",
                                     issue=issue, unit_type=unit_type)
    df = res["allocation"]
    _emit(fmt, table=df.drop(columns=["formula"]) if fmt == Format.table else df, data=res,
          title=f"Allocation {ruleset} {year}" + (" (issued)" if issue else ""),
          extra_tables=[("Provenance of each figure", res["provenance"])] if provenance else ())


@app.command("true-up")
def true_up_cmd(
    file: Path = typer.Argument(..., help="Covered entities (as for `markets allocation`)."),
    ruleset: str = typer.Option(..., "--ruleset"), year: int = typer.Option(..., "--year"),
    override: Path | None = typer.Option(None, "--override", help="Explicit override (as for `markets allocation`)."),
    param: list[str] = typer.Option([], "--param", help="Run parameter NAME=NUMBER (repeatable)."),
    unit_type: str = typer.Option("GDEA", "--unit-type", "-u"),
    db: Path | None = DbOption, actor: str = ActorOption, fmt: Format = FormatOption,
) -> None:
    """Ex-post true-up (多退少补) of an issued allocation with the year's actual figures from the store."""
    import hashlib

    from carbonpeak.io.tables import read_table
    from carbonpeak.workflows import markets as wm

    ov = ov_src = None
    if override is not None:
        ov = read_table(override)
        ov_src = f"{override.name} sha256:{hashlib.sha256(override.read_bytes()).hexdigest()[:16]}"
    with _store(db) as s:
        res = wm.true_up_from_store(s, _op(actor), entities=read_table(file), ruleset_id=ruleset, year=year,
                                    params=_params(param) or None, override=ov, override_source=ov_src or "",
                                    unit_type=unit_type)
    _emit(fmt, table=res["true_up"], data=res, title=f"True-up {ruleset} {year}")


@app.command("banking")
def banking_cmd(
    surplus: float = typer.Option(..., "--surplus-t", help="Surplus at the end of the period, t."),
    ruleset: str = typer.Option(..., "--ruleset"), year: int | None = typer.Option(None, "--year"),
    net_sales: float | None = typer.Option(None, "--net-sales-t", help="Net allowances sold over the period, t."),
    fmt: Format = FormatOption,
) -> None:
    """How much of a surplus may be banked (W2: national 2023–24 cap)."""
    from dataclasses import asdict

    from carbonpeak.catalog.markets import load_ruleset
    from carbonpeak.markets.compliance import banking

    b = asdict(banking(surplus, load_ruleset(ruleset), net_sales_t=net_sales, year=year))
    _emit(fmt, data=b, table=[b], title="Banking")


@app.command("issue-offsets")
def issue_offsets_cmd(
    unit_type: str = UnitOption, vintage: int = VintageOption,
    quantity: int = typer.Option(..., "--quantity", "-q", min=1),
    owner: str = typer.Option(..., "--owner", help="Enterprise receiving the offsets."),
    city: str | None = typer.Option(None, "--city"),
    project: str = typer.Option(..., "--project", help="Project id (national registry)."),
    project_type: str = typer.Option(..., "--project-type", help="e.g. solar, wind, forestry, hydro."),
    origin: str = typer.Option(..., "--origin", help="Province of the project, e.g. guangdong."),
    other_pilot: bool = typer.Option(False, "--other-pilot", help="Project in another ETS pilot region."),
    pre_cdm: bool = typer.Option(False, "--pre-cdm"),
    db: Path | None = DbOption, actor: str = ActorOption, fmt: Format = FormatOption,
) -> None:
    """Record offsets (CCER/PHCER) issued elsewhere into an enterprise's holding, with their origin."""
    from carbonpeak.workflows import markets as wm

    with _store(db) as s:
        e = wm.issue_offsets(s, _op(actor), unit_type=unit_type, vintage=vintage, quantity=quantity, owner=owner,
                             city=city, project_id=project, project_type=project_type, origin_province=origin,
                             origin_pilot=other_pilot, pre_cdm=pre_cdm)
    _emit(fmt, data=_entries(e), table=_entries(e), title="Offsets issued")


@app.command("transfer")
def transfer_cmd(
    from_account: str = typer.Option(..., "--from"), to_account: str = typer.Option(..., "--to"),
    unit_type: str = UnitOption, vintage: int = VintageOption,
    quantity: int | None = QuantityOption, serials: str | None = SerialsOption,
    reference: str = typer.Option("", "--reference"),
    db: Path | None = DbOption, actor: str = ActorOption, fmt: Format = FormatOption,
) -> None:
    """Transfer units between holding or banking accounts."""
    from carbonpeak.workflows import markets as wm

    with _store(db) as s:
        e = wm.transfer(s, _op(actor), from_account=from_account, to_account=to_account, unit_type=unit_type,
                        vintage=vintage, reference=reference, **_units(quantity, serials))
    _emit(fmt, data=_entries(e), table=_entries(e), title="Transfer")


@app.command("surrender")
def surrender_cmd(
    enterprise: str = typer.Option(..., "--enterprise"), year: int = typer.Option(..., "--year"),
    unit_type: str = UnitOption, vintage: int = VintageOption,
    quantity: int | None = QuantityOption, serials: str | None = SerialsOption,
    param: list[str] = typer.Option([], "--param", help="Rule parameter for this run, NAME=NUMBER "
                                    "(e.g. offsets.pool=1000000 where the rule set requires it)."),
    db: Path | None = DbOption, actor: str = ActorOption, fmt: Format = FormatOption,
) -> None:
    """Surrender allowances or eligible offsets against a compliance year (offsets are checked)."""
    from carbonpeak.workflows import markets as wm

    with _store(db) as s:
        res = wm.surrender(s, _op(actor), enterprise_id=enterprise, year=year, unit_type=unit_type, vintage=vintage,
                           params=_params(param) or None, **_units(quantity, serials))
    _emit(fmt, data={**res, "entries": _entries(res["entries"])}, table=_entries(res["entries"]), title="Surrender")


@app.command("retire")
def retire_cmd(
    from_account: str = typer.Option(..., "--from"), unit_type: str = UnitOption, vintage: int = VintageOption,
    quantity: int | None = QuantityOption, serials: str | None = SerialsOption,
    reference: str = typer.Option(..., "--reference", help="The voluntary claim (碳中和 of …)."),
    db: Path | None = DbOption, actor: str = ActorOption, fmt: Format = FormatOption,
) -> None:
    """Retire units for a voluntary claim; they never move again."""
    from carbonpeak.workflows import markets as wm

    with _store(db) as s:
        e = wm.retire(s, _op(actor), from_account=from_account, unit_type=unit_type, vintage=vintage,
                      reference=reference, **_units(quantity, serials))
    _emit(fmt, data=_entries(e), table=_entries(e), title="Retirement")


@app.command("move")
def move_cmd(
    kind: str = typer.Argument(..., help="issue, borrow, bank, cancel, withdraw (registry operations)."),
    debit: str = typer.Option(..., "--from"), credit: str | None = typer.Option(None, "--to"),
    unit_type: str = UnitOption, vintage: int = VintageOption,
    quantity: int | None = QuantityOption, serials: str | None = SerialsOption,
    compliance_year: int | None = typer.Option(None, "--compliance-year", help="For a borrow: the year it serves."),
    reference: str = typer.Option("", "--reference"),
    db: Path | None = DbOption, actor: str = ActorOption, fmt: Format = FormatOption,
) -> None:
    """Any movement of the ledger by the registry operator (one journal entry per serial block)."""
    from carbonpeak.workflows import markets as wm

    with _store(db) as s:
        e = wm.registry_move(s, _op(actor), kind=kind, debit=debit, credit=credit, unit_type=unit_type,
                             vintage=vintage, reference=reference, compliance_year=compliance_year,
                             **_units(quantity, serials))
    _emit(fmt, data=_entries(e), table=_entries(e), title=kind)


@app.command("accounts")
def accounts_cmd(db: Path | None = DbOption, fmt: Format = FormatOption) -> None:
    """All accounts of the ledger."""
    from carbonpeak.store import markets as sm

    with _store(db) as s:
        df = sm.accounts(s)
    _emit(fmt, table=df, title="Accounts")


@app.command("balance")
def balance_cmd(account: str = typer.Argument(...), db: Path | None = DbOption, fmt: Format = FormatOption) -> None:
    """An account's balance by unit type and vintage (derived from the journal) and its serial blocks."""
    from carbonpeak.store import markets as sm

    with _store(db) as s:
        sm.get_account(s, account)
        bal, blocks = sm.balance(s, account), sm.holdings(s, account)
    _emit(fmt, data={"account_id": account, "balance": bal, "blocks": blocks}, table=bal, title=f"Balance {account}",
         extra_tables=[("Serial blocks", blocks)])


@app.command("statement")
def statement_cmd(
    account: str = typer.Argument(...),
    start: str = typer.Option(..., "--from", help="First day, YYYY-MM-DD."),
    end: str = typer.Option(..., "--to", help="Last day, YYYY-MM-DD."),
    db: Path | None = DbOption, fmt: Format = FormatOption,
) -> None:
    """Opening balance, entries and closing balance of an account over a period."""
    from carbonpeak.workflows import markets as wm

    try:
        d0, d1 = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    except ValueError as exc:
        raise typer.BadParameter(f"dates are YYYY-MM-DD: {exc}") from None
    with _store(db) as s:
        st = wm.statement(s, _op("cli"), account, d0, d1)
    _emit(fmt, data=st, table=st["entries"], title=f"Statement {account} {d0}..{d1}",
         extra_tables=[("Opening", st["opening"]), ("Closing", st["closing"])])


@app.command("history")
def history_cmd(
    unit_type: str = typer.Argument(...), vintage: int = typer.Argument(...), serial: int = typer.Argument(...),
    db: Path | None = DbOption, fmt: Format = FormatOption,
) -> None:
    """The life of one serial: every entry that moved it and where it is now."""
    from carbonpeak.store import markets as sm

    with _store(db) as s:
        h = sm.serial_history(s, unit_type, vintage, serial)
    _emit(fmt, data=h, table=h["entries"], title=f"{unit_type} {vintage} #{serial}: now in {h['holder']}"
         + (" (final)" if h["final"] else ""))


@app.command("positions")
def positions_cmd(
    year: int | None = typer.Option(None, "--year", help="Add monitored energy use of this year (tce)."),
    db: Path | None = DbOption, fmt: Format = FormatOption,
) -> None:
    """Allowances, offsets and energy-use rights per enterprise, side by side."""
    from carbonpeak.workflows import markets as wm

    with _store(db) as s:
        df = wm.positions(s, _op("cli"), year)
    _emit(fmt, table=df, title="Positions (t; EUR in tce)")


@app.command("check")
def check_cmd(db: Path | None = DbOption, fmt: Format = FormatOption) -> None:
    """Check the ledger's invariants over the whole journal; exit 1 when one is broken."""
    from carbonpeak.workflows import markets as wm

    with _store(db) as s:
        problems = wm.check(s)
    _emit(fmt, data={"ok": not problems, "problems": problems},
         table=[{"problem": p} for p in problems] or [{"problem": "none: the ledger is sound"}], title="Ledger check")
    if problems:
        raise typer.Exit(1)


@app.command("sign-off")
def sign_off_cmd(
    enterprise: str = typer.Option(..., "--enterprise"), year: int = typer.Option(..., "--year"),
    verified: float = typer.Option(..., "--verified-t", min=0), db: Path | None = DbOption,
    actor: str = ActorOption, fmt: Format = FormatOption,
) -> None:
    """Record the verified emissions of an enterprise for a year (the verifier's sign-off)."""
    from carbonpeak.workflows import markets as wm

    with _store(db) as s:
        res = wm.sign_off_emissions(s, _op(actor), enterprise_id=enterprise, year=year, verified_t=verified)
    _emit(fmt, data=res, table=[res], title="Verified emissions")


@app.command("obligations")
def obligations_cmd(year: int = typer.Option(..., "--year"), db: Path | None = DbOption,
                    fmt: Format = FormatOption) -> None:
    """Obligations, surrenders and compliance status per enterprise."""
    from carbonpeak.workflows import markets as wm

    with _store(db) as s:
        df = wm.obligations(s, _op("cli"), year)
    _emit(fmt, table=df, title=f"Obligations {year}")


@app.command("coverage")
def coverage_cmd(
    file: Path = typer.Argument(..., help="CSV/Excel: enterprise_id, sector, year, emissions_tco2 / energy_tce / racks "
                                "[, city, name, applied, verified]."),
    ruleset: str = typer.Option("guangdong-2024", "--ruleset"),
    widen: bool = typer.Option(False, "--widening", help="Also list what the plan's widening brings under the cap."),
    year: int | None = typer.Option(None, "--year", help="From the store: FILE lists enterprise_id, sector [, city, "
                                    "name, applied, racks]; emissions (sign-offs) and energy (monitoring) of YEAR."),
    db: Path | None = DbOption, actor: str = ActorOption, fmt: Format = FormatOption,
) -> None:
    """Coverage screening under a rule set (and the plan's widening: ceramics, textiles, data centres, ...)."""
    from carbonpeak.io.tables import read_table
    from carbonpeak.workflows import markets as wm

    if year is not None:
        with _store(db) as s:
            res = wm.coverage_from_store(s, _op(actor), enterprises=read_table(file), year=year, ruleset_id=ruleset,
                                         widen=widen)
    else:
        res = wm.screen_coverage(read_table(file), ruleset, widen=widen)
    extra = [("Covered by sector", res["by_sector"]), ("Covered by city", res["by_city"])]
    if widen:
        extra += [("Widening: newly covered", res["widening"]["entities"]),
                  ("Widening by sector", res["widening"]["by_sector"])]
    _emit(fmt, data=res, table=res["decisions"], title=f"Coverage ({res['ruleset']})", extra_tables=extra)


@app.command("peak-link")
def peak_link_cmd(
    year: int | None = typer.Option(None, "--year", help="From the store: the compliance year of the surplus/deficit."),
    cap: Path | None = typer.Option(None, "--cap", help="What-if from files: CSV year, value [, unit] (the cap "
                                    "of each year); with --projection."),
    projection: Path | None = typer.Option(None, "--projection", help="What-if from files: a scenario run, IAMC "
                                           "long form (variable Emissions|CO2)."),
    scenario: str | None = typer.Option(None, "--scenario", help="The scenario (store: the packaged scenario to "
                                        "project; files: the rows of the run to use)."),
    region: str | None = typer.Option(None, "--region", help="Files: pick one region of the run."),
    peak_by: int | None = typer.Option(None, "--peak-by", help="Peak year to test (default: the plan's 2030)."),
    db: Path | None = DbOption, actor: str = ActorOption, fmt: Format = FormatOption,
) -> None:
    """The cap against the provincial peak: consistent with peaking by 2030? surplus/deficit, balance values.

    With --year: from the store (the caps set with `markets cap`, else the allocation issued; the
    scenario run on the store's history; verified emissions; monitoring output).  With --cap and
    --projection: the cap path of a file against a projection file (a what-if).
    """
    from carbonpeak.workflows import markets as wm

    if (cap is None) != (projection is None) or (cap is None and year is None):
        raise typer.BadParameter("give --year (from the store), or both --cap and --projection (files)")
    if cap is not None and projection is not None:
        from carbonpeak.io.tables import read_table

        filters = {k: v for k, v in (("scenario", scenario), ("region", region)) if v}
        res = wm.peak_link(read_table(cap), read_table(projection), filters=filters or None, peak_by=peak_by)
        title = "Cap and peak: " + ("consistent" if res["consistent"] else "NOT consistent: " + "; ".join(res["reasons"]))
        _emit(fmt, data=res, table=res["table"], title=title)
        return
    with _store(db) as s:
        v = wm.peak_link_view(s, _op(actor), year=int(year or 0), scenario=scenario, peak_by=peak_by)
    verdict = {True: "consistent", False: "NOT consistent", None: "cannot be judged"}[v["consistent"]]
    title = f"Cap and peak ({v['cap_basis'] or 'no cap'}; scenario {v['scenario']}): {verdict}" + (
        ": " + "; ".join(v["reasons"]) if v["reasons"] else "")
    _emit(fmt, data=v, table=v["path"], title=title, extra_tables=[
        (f"Surplus/deficit by sector {year}", v["by_sector"]), (f"Surplus/deficit by city {year}", v["by_city"]),
        (f"Balance value per class {year}", v["balance_values"]), (f"Covered entities {year}", v["entities"])])


@app.command("cap")
def cap_cmd(
    year: int | None = typer.Option(None, "--year", help="The year to set (with --set)."),
    set_value: float | None = typer.Option(None, "--set", help="Set the year's cap to this amount (in --unit)."),
    unit: str = typer.Option("tCO2", "--unit", help="Unit of --set: tCO2, t, Mt, 万t, 亿t."),
    source: str | None = typer.Option(None, "--source", help="The document the cap comes from (required with --set)."),
    db: Path | None = DbOption, actor: str = ActorOption, fmt: Format = FormatOption,
) -> None:
    """Show the cap path, or set a year's cap with --set (the authority's published figure and its source)."""
    from carbonpeak.workflows import markets as wm

    with _store(db) as s:
        if set_value is not None:
            if year is None:
                raise typer.BadParameter("--set needs --year")
            wm.set_cap(s, _op(actor), year=year, value=set_value, unit=unit, source=source or "")
        res = wm.caps(s, _op(actor))
    _emit(fmt, table=res, title="Cap path")


@app.command("offset-pool")
def offset_pool_cmd(
    year: int = typer.Option(..., "--year", help="Compliance (emissions) year of the pool."),
    set_value: float | None = typer.Option(None, "--set", help="Set the pool to this amount (in --unit)."),
    unit: str = typer.Option("tCO2", "--unit", help="Unit of --set: tCO2, t, kt, Mt, 万t."),
    source: str | None = typer.Option(None, "--source", help="The document the figure comes from (required with --set)."),
    db: Path | None = DbOption, actor: str = ActorOption, fmt: Format = FormatOption,
) -> None:
    """Show, or set with --set, the province-wide offset pool of a year (used and remaining)."""
    from carbonpeak.workflows import markets as wm

    with _store(db) as s:
        if set_value is None:
            res = wm.offset_pool(s, _op(actor), year)
        else:
            res = wm.set_offset_pool(s, _op(actor), year=year, value=set_value, unit=unit, source=source or "")
    _emit(fmt, data=res, table=[{k: v for k, v in res.items() if k != "previous"}], title=f"Offset pool {year}")


@app.command("energy-rights")
def energy_rights_cmd(
    year: int = typer.Option(..., "--year"),
    cap: list[str] = typer.Option([], "--cap", help="City cap in tce, GD-XX=NUMBER (repeatable)."),
    db: Path | None = DbOption, actor: str = ActorOption, fmt: Format = FormatOption,
) -> None:
    """Issue energy-use rights (tce) from the key units' dual-control energy budgets."""
    from carbonpeak.workflows import markets as wm

    with _store(db) as s:
        res = wm.allocate_energy_rights(s, _op(actor), year=year, city_caps=_params(cap) or None)
    _emit(fmt, data=res, table=res["allocation"], title=f"Energy-use rights {year}")


@phcer_app.command("methodologies")
def methodologies_cmd(db: Path | None = DbOption, fmt: Format = FormatOption) -> None:
    """The methodology register: versions, formula, parameters, source and status."""
    from carbonpeak.store import markets as sm

    with _store(db) as s:
        df = sm.methodologies(s)
    brief = ["methodology_id", "version", "name_en", "formula", "status", "stage", "filed_on"]
    _emit(fmt, table=df if fmt != Format.table else df[brief], data=df, title="PHCER methodologies")


@phcer_app.command("file")
def file_cmd(
    methodology: str = typer.Argument(...), version: str = typer.Argument(...),
    stage: str = typer.Option(..., "--stage", help="city_forwarded, expert_reviewed, filed or withdrawn."),
    on: str | None = typer.Option(None, "--on", help="Filing date, YYYY-MM-DD."),
    db: Path | None = DbOption, actor: str = ActorOption, fmt: Format = FormatOption,
) -> None:
    """Move a methodology version along the filing pipeline."""
    from carbonpeak.workflows import markets as wm

    with _store(db) as s:
        res = wm.file_methodology(s, _op(actor), methodology_id=methodology, version=version, stage=stage,
                                  on=dt.date.fromisoformat(on) if on else None)
    _emit(fmt, data=res, table=[res], title="Methodology")


@phcer_app.command("apply")
def apply_cmd(
    application: str = typer.Argument(...),
    methodology: str = typer.Option(..., "--methodology"), version: str = typer.Option(..., "--version"),
    project: str = typer.Option(..., "--project"), owner: str = typer.Option(..., "--owner"),
    city: str | None = typer.Option(None, "--city"), vintage: int = typer.Option(..., "--vintage"),
    inp: list[str] = typer.Option([], "--input", help="Formula input NAME=NUMBER (repeatable)."),
    resubmission_of: str | None = typer.Option(None, "--resubmission-of",
                                               help="The rejected application this one resubmits."),
    forest: list[str] = typer.Option([], "--forest", help="Forest project data NAME=VALUE (repeatable; "
                                     "gd_forest_sink: forest_type, area_ha, start_year, end_year, volume_start_m3_ha, "
                                     "volume_end_m3_ha or increment_m3_ha_yr with increment_source)."),
    db: Path | None = DbOption, actor: str = ActorOption, fmt: Format = FormatOption,
) -> None:
    """Apply for PHCER under a filed methodology (the claim is computed by its formula)."""
    from carbonpeak.workflows import markets as wm

    with _store(db) as s:
        res = wm.apply_phcer(s, _op(actor), application_id=application, methodology_id=methodology, version=version,
                             project=project, owner=owner, city=city, vintage=vintage, inputs=_params(inp),
                             resubmission_of=resubmission_of, forest=_pairs(forest) or None)
    _emit(fmt, data=res, table=[res], title="PHCER application")


@phcer_app.command("notice")
def notice_cmd(
    application: str = typer.Argument(...), start: str = typer.Option(..., "--start", help="YYYY-MM-DD"),
    days: int = typer.Option(7, "--days", min=7), holiday: list[str] = typer.Option(
        [], "--holiday", help="A holiday (YYYY-MM-DD), for years the official calendar does not cover."),
    db: Path | None = DbOption, actor: str = ActorOption, fmt: Format = FormatOption,
) -> None:
    """Start the public notice of at least 7 working days."""
    from carbonpeak.workflows import markets as wm

    hol = [dt.date.fromisoformat(h) for h in holiday] or None
    with _store(db) as s:
        res = wm.notice_phcer(s, _op(actor), application_id=application, start=dt.date.fromisoformat(start),
                              days=days, holidays=hol)
    _emit(fmt, data=res, table=[res], title="Public notice")


@phcer_app.command("verify")
def verify_cmd(
    application: str = typer.Argument(...), verified: float = typer.Option(..., "--verified-t", min=0),
    today: str | None = typer.Option(None, "--today", help="Date of the verification (default: today)."),
    db: Path | None = DbOption, actor: str = ActorOption, fmt: Format = FormatOption,
) -> None:
    """Record the verified reduction (after the notice has ended)."""
    from carbonpeak.workflows import markets as wm

    with _store(db) as s:
        res = wm.verify_phcer(s, _op(actor), application_id=application, verified_t=verified,
                              today=dt.date.fromisoformat(today) if today else None)
    _emit(fmt, data=res, table=[res], title="Verification")


@phcer_app.command("reject")
def reject_cmd(
    application: str = typer.Argument(...),
    reason: str = typer.Option(..., "--reason", help="Why the application is rejected (kept and shown to the owner)."),
    db: Path | None = DbOption, actor: str = ActorOption, fmt: Format = FormatOption,
) -> None:
    """Reject an application before issuance, stating the reason (final; the owner may resubmit)."""
    from carbonpeak.workflows import markets as wm

    with _store(db) as s:
        res = wm.reject_phcer(s, _op(actor), application_id=application, reason=reason)
    _emit(fmt, data=res, table=[res], title="PHCER application rejected")


@phcer_app.command("issue")
def issue_cmd(application: str = typer.Argument(...), db: Path | None = DbOption, actor: str = ActorOption,
              fmt: Format = FormatOption) -> None:
    """Issue a verified application's PHCER into the owner's holding account."""
    from carbonpeak.workflows import markets as wm

    with _store(db) as s:
        res = wm.issue_phcer(s, _op(actor), application_id=application)
    _emit(fmt, data=res, table=[res], title="PHCER issued")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="markets")
