"""Targets, observations, the annual assessment, dual control and city decomposition.

* ``carbonpeak targets list [--area A] | show ID``       — the plan's targets as data
* ``carbonpeak observations import FILE... [--db]``      — store indicator observations (all-or-nothing, idempotent)
* ``carbonpeak observations indicators``                 — the indicators observations may carry
* ``carbonpeak assess --year Y [--lang zh|en|both] [--out DIR]`` — status of every target; HTML + PDF report
* ``carbonpeak dualcontrol --year Y``                    — emissions and intensities, province and cities
* ``carbonpeak decompose-target [ID] --method ...``     — split a provincial target to the 21 cities
  (``carbonpeak decompose`` is the LMDI decomposition of the scenarios area)

Data: ``--activity``/``--observations`` files, else what ``inventory import`` / ``observations import``
stored in the DuckDB store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import typer

from carbonpeak.cli.output import Format, FormatOption, emit
from carbonpeak.errors import CarbonpeakError
from carbonpeak.workflows.assessment import Chain
from carbonpeak.workflows.inventory import ACTIVITY_KEY, OBSERVATION_KEY
from carbonpeak.workflows.settings import resolve

FilesOpt = typer.Option(None, help="Files (CSV, Excel, Parquet); repeat the option for several.")


def _store_frame(db: Path | None, table: str, key: list[str]) -> pd.DataFrame | None:
    from carbonpeak.config import get_settings
    from carbonpeak.store import Store
    from carbonpeak.store.duck import store_exists

    path = db if db is not None else get_settings().store_location
    if not store_exists(path):
        return None
    with Store(path) as store:
        df = store.current(table, key)
    return None if len(df) == 0 else df


def _store_status(db: Path | None) -> Any:
    """The store's :class:`~carbonpeak.workflows.demo.DataStatus` (``empty`` without a store file)."""
    from carbonpeak.config import get_settings
    from carbonpeak.store import Store
    from carbonpeak.store.duck import store_exists
    from carbonpeak.workflows.demo import DataStatus, data_status

    path = db if db is not None else get_settings().store_location
    if str(path) == ":memory:" or not store_exists(path):
        return DataStatus("empty")
    with Store(path) as store:
        return data_status(store)


def latest_checkpoint(db: Path | None) -> dict[str, Any] | None:
    """The latest signed audit checkpoint of the store (for the report), ``None`` without one."""
    from carbonpeak.config import get_settings
    from carbonpeak.store import Store, checkpoints
    from carbonpeak.store.duck import store_exists

    path = db if db is not None else get_settings().store_location
    if str(path) == ":memory:" or not store_exists(path):
        return None
    with Store(path) as store:
        cp = checkpoints.latest(store)
    return None if cp is None else cp.summary()


def load_chain(
    *,
    activity: list[Path] | None,
    observations: list[Path] | None,
    db: Path | None,
    base_year: int,
    outlook: bool,
    scenario: str,
    draws: int,
    seed: int,
    gwp: str | None = None,
) -> Chain:
    """Activity → inventory; observations; computed indicators; optional peak outlook.

    The data come from files or the store; the chain itself is :func:`carbonpeak.workflows.assessment.build_chain`,
    the same for the CLI, the service and the dashboard.
    """
    from carbonpeak.model.activity import load_activity
    from carbonpeak.model.observation import load_observations
    from carbonpeak.workflows.assessment import build_chain
    from carbonpeak.workflows.demo import DataStatus, combine, files_status

    act = load_activity(activity) if activity else _store_frame(db, "activity", ACTIVITY_KEY)
    obs = load_observations(observations) if observations else _store_frame(db, "observations", OBSERVATION_KEY)
    if obs is None and act is None:
        raise CarbonpeakError(
            "no data: pass --activity/--observations files, import them first "
            "(`carbonpeak inventory import`, `carbonpeak observations import`), or run the demo "
            "(`carbonpeak demo load`, or `carbonpeak demo` for the demo report)"
        )
    status = files_status([*(activity or []), *(observations or [])]) if (activity or observations) else DataStatus("empty")
    if not (activity and observations):
        status = combine(status, _store_status(db))

    def _outlook() -> dict[str, Any]:
        from carbonpeak.scenarios.outlook import peak_outlook

        return peak_outlook(scenario, draws=draws, seed=seed)

    ch = build_chain(act, obs, base_year=base_year, gwp=gwp, outlook=_outlook if outlook else None)
    ch.data = status
    return ch


def _demo_title(ch: Chain, title: str) -> str:
    """``title`` with the demo label when the chain's data are demo data."""
    return f"[示范数据 / demo data] {title}" if ch.data is not None and ch.data.demo else title


def _targets_table(cat: Any, lang: str = "en") -> pd.DataFrame:
    rows = []
    for t in cat.targets.values():
        rows.append(
            {
                "id": t.id,
                "section": t.section,
                "action": t.action or "",
                "name": t.name(lang),
                "comparator": t.comparator,
                "target": t.target_value if t.comparator != "between" else f"{t.target_low}-{t.target_high}",
                "unit": t.unit,
                "year": t.target_year,
                "kind": t.kind,
                "area": t.area,
                "status": t.status,
            }
        )
    return pd.DataFrame(rows)


def targets_list(
    area: str | None = typer.Option(
        None,
        "--area",
        help="energy, industry, digital, buildings, transport, circular, ecology, pilots, overall",
    ),
    lang: str = typer.Option("en", "--lang", help="zh or en names"),
    fmt: Format = FormatOption,
) -> None:
    """List the plan's quantitative targets (catalog/data/targets.yaml)."""
    from carbonpeak.catalog.targets import load_targets

    cat = load_targets()
    df = _targets_table(cat, lang)
    if area:
        df = df[df["area"] == area]
    emit(fmt, data=[cat.targets[i].to_dict() for i in df["id"]], table=df, title=f"Plan targets ({len(df)})")


def targets_show(target_id: str = typer.Argument(..., help="Target id"), fmt: Format = FormatOption) -> None:
    """Show one target with its baseline, comparator, tolerance and source sentence."""
    from carbonpeak.catalog.targets import load_targets

    cat = load_targets()
    t = cat.get(target_id)
    d = t.to_dict()
    d["tolerance"] = cat.tolerance(t)
    rows = [
        {"field": k, "value": "" if v is None else str(v)} for k, v in d.items() if v not in ("", None, {})
    ]
    emit(fmt, data=d, table=rows, title=t.id)


def observations_import(
    files: list[Path] = typer.Argument(..., help="Observation files (CSV, Excel, Parquet)", exists=False),
    db: Path | None = typer.Option(None, "--db", help="DuckDB file (default: settings db_path)."),
    submitter: str = typer.Option("cli", "--submitter", help="Who submits the data."),
    fmt: Format = FormatOption,
) -> None:
    """Validate observation files and store them as one batch (all-or-nothing, idempotent)."""
    from carbonpeak.config import get_settings
    from carbonpeak.store import Store
    from carbonpeak.workflows.inventory import import_observations

    path = db if db is not None else get_settings().store_location
    with Store(path) as store:
        shown = store.path  # a PostgreSQL URL without its password
        res = import_observations(store, [(f, str(f)) for f in files], submitter=submitter)
    data = {"batch_id": res.batch_id, "rows": res.rows, "created": res.created, "db": shown}
    emit(
        fmt,
        data=data,
        table=[data],
        title="Observations import" + ("" if res.created else " (already stored)"),
    )


def observations_indicators(fmt: Format = FormatOption) -> None:
    """List the indicators (canonical unit; computed ones cannot be imported)."""
    from carbonpeak.catalog.targets import load_indicators

    rows = [
        {
            "id": i.id,
            "name_en": i.name_en,
            "name_zh": i.name_zh,
            "unit": i.unit,
            "computed": i.computed,
            "formula": i.formula,
        }
        for i in load_indicators().values()
    ]
    emit(fmt, data=rows, table=rows, title="Indicators")


def save_assessment(a: dict[str, Any], db: Path | None) -> str:
    """Store the assessment JSON once per content (id = year + digest); return its id."""
    from carbonpeak.config import get_settings
    from carbonpeak.store import Store, assessments

    with Store(db if db is not None else get_settings().store_location) as store:
        return assessments.save(store, a)


def _tiers(path: Path | None) -> dict[str, str] | None:
    if path is None:
        return None
    from carbonpeak.catalog.regions import read_tier_overrides

    return read_tier_overrides(path)


def _summary_table(a: dict[str, Any], lang: str) -> pd.DataFrame:
    rows = []
    for d in a["targets"]:
        rows.append(
            {
                "id": d["id"],
                "status": d["status"],
                "value": d["value"],
                "year": d["value_year"],
                "target": d["target"],
                "target_year": d["target_year"],
                "unit": d["unit"],
                "gap": d["gap"],
                "name": d["name_" + lang],
            }
        )
    return pd.DataFrame(rows)


def assess_cmd(
    year: int = typer.Option(..., "--year", help="Assessment year"),
    lang: str = typer.Option("zh", "--lang", help="Report language: zh, en or both"),
    out: Path | None = typer.Option(
        None, "--out", help="Write the report (HTML, PDF, JSON) into this folder"
    ),
    activity: list[Path] | None = typer.Option(
        None, "--activity", help="Activity files (default: the store)"
    ),
    observations: list[Path] | None = typer.Option(
        None, "--observations", help="Observation files (default: the store)"
    ),
    db: Path | None = typer.Option(None, "--db", help="DuckDB file (default: settings db_path)."),
    base_year: int = typer.Option(2020, "--base-year", help="Price base year of constant-price GDP"),
    tiers: Path | None = typer.Option(
        None, "--tiers", help="CSV/YAML of city tiers (code,tier) overriding the defaults"
    ),
    outlook: bool = typer.Option(
        True, "--outlook/--no-outlook", help="Add the peak outlook from the scenarios"
    ),
    scenario: str = typer.Option("plan", "--scenario", help="Scenario of the peak outlook"),
    draws: int = typer.Option(1000, "--draws", help="Monte Carlo draws of the peak outlook"),
    seed: int = typer.Option(0, "--seed", help="Random seed of the peak outlook"),
    pdf: bool = typer.Option(True, "--pdf/--no-pdf", help="Print the PDF with headless Chromium"),
    save: bool = typer.Option(
        False, "--save", help="Keep the assessment JSON in the store (table assessments)"
    ),
    fmt: Format = FormatOption,
) -> None:
    """Assess every target in YEAR; with --out write the annual assessment report (HTML + PDF + JSON)."""
    from carbonpeak.workflows.assessment import assess_chain

    langs = ["zh", "en"] if lang == "both" else [lang]
    if any(la not in ("zh", "en") for la in langs):
        raise CarbonpeakError("--lang must be zh, en or both")
    ch = load_chain(
        activity=activity,
        observations=observations,
        db=db,
        base_year=base_year,
        outlook=outlook,
        scenario=scenario,
        draws=draws,
        seed=seed,
    )
    a = assess_chain(ch, year, base_year=base_year, tier_overrides=_tiers(tiers))
    a["data"] = ch.data.to_dict()
    a["targets"] = [
        {**tg, "demo": ch.data.is_demo(tg.get("value_year") or year, tg.get("region") or a.get("region", "GD"))}
        for tg in a["targets"]
    ]
    files = []
    if out is not None:
        from carbonpeak.reports.assessment import write_report

        audit_cp = latest_checkpoint(db)
        for la in langs:
            rf = write_report(
                a,
                out,
                lang=la,
                inventory_results=ch.inventory.results if ch.inventory else None,
                outlook=ch.outlook,
                pdf=pdf,
                demo=a["data"],
                gwp=ch.inventory.gwp if ch.inventory else resolve().gwp,
                audit_checkpoint=audit_cp,
            )
            files += [str(rf.html)] + ([str(rf.pdf)] if rf.pdf else []) + [str(rf.json)]
            if rf.pdf_error:
                typer.echo(rf.pdf_error, err=True)
        a["report_files"] = sorted(set(files))
    if save:
        a["assessment_id"] = save_assessment(a, db)
    tab = _summary_table(a, langs[0])
    if ch.data.demo:
        tab["demo"] = [tg["demo"] for tg in a["targets"]] if len(tab) == len(a["targets"]) else True
    emit(fmt, data=a, table=tab, title=_demo_title(ch, f"Assessment {year}: {a['summary']}"))
    if fmt == Format.table and files:
        typer.echo("report: " + ", ".join(sorted(set(files))))


def dualcontrol_cmd(
    year: int = typer.Option(..., "--year", help="Latest year to use"),
    activity: list[Path] | None = typer.Option(
        None, "--activity", help="Activity files (default: the store)"
    ),
    observations: list[Path] | None = typer.Option(
        None, "--observations", help="Observation files (default: the store)"
    ),
    db: Path | None = typer.Option(None, "--db"),
    base_year: int = typer.Option(
        2020, "--base-year", help="Price base year and base of the intensity change"
    ),
    tiers: Path | None = typer.Option(None, "--tiers", help="CSV/YAML of city tiers overriding the defaults"),
    fmt: Format = FormatOption,
) -> None:
    """Carbon intensity, total emissions and energy intensity for the province and the 21 cities."""
    from carbonpeak.catalog.regions import load_regions
    from carbonpeak.targets.dualcontrol import dual_control_table

    ch = load_chain(
        activity=activity,
        observations=observations,
        db=db,
        base_year=base_year,
        outlook=False,
        scenario="plan",
        draws=0,
        seed=0,
    )
    tab = dual_control_table(ch.indicators, load_regions(_tiers(tiers)), year, base_year)
    if ch.data.demo:  # a CSV export says which rows are demo data
        tab = ch.data.label_frame(tab, year="emissions_year", region="region")
    emit(fmt, table=tab, title=_demo_title(ch, f"Dual control, latest values up to {year}"))


def decompose_target_cmd(
    target_id: str = typer.Argument("co2_intensity_14fyp_gd", help="Provincial change target to split"),
    method: str = typer.Option("both", "--method", help="entropy, optimise or both"),
    mode: str = typer.Option("intensity", "--mode", help="intensity or total"),
    base_year: int | None = typer.Option(
        None, "--base-year", help="City base year (default: latest with city emissions and GDP)"
    ),
    reduction: float | None = typer.Option(
        None, "--reduction", help="Override the provincial reduction in %"
    ),
    activity: list[Path] | None = typer.Option(
        None, "--activity", help="Activity files (default: the store)"
    ),
    observations: list[Path] | None = typer.Option(
        None, "--observations", help="Observation files (default: the store)"
    ),
    db: Path | None = typer.Option(None, "--db"),
    tiers: Path | None = typer.Option(None, "--tiers", help="CSV/YAML of city tiers overriding the defaults"),
    fmt: Format = FormatOption,
) -> None:
    """Split a provincial intensity (or total) target to the 21 cities; prints method, weights and check."""
    from carbonpeak.catalog.regions import cities as city_list
    from carbonpeak.catalog.targets import load_targets
    from carbonpeak.targets.assess import coal_items
    from carbonpeak.targets.decompose import decompose
    from carbonpeak.targets.dualcontrol import city_base, coal_share_of_co2

    cat = load_targets()
    t = cat.get(target_id)
    if t.kind != "change" and reduction is None:
        raise CarbonpeakError(f"{target_id} is not a change target; pass --reduction")
    r = reduction if reduction is not None else -t.target_value
    ch = load_chain(
        activity=activity,
        observations=observations,
        db=db,
        base_year=2020,
        outlook=False,
        scenario="plan",
        draws=0,
        seed=0,
    )
    cs = city_list(_tiers(tiers))
    ind = ch.indicators
    if base_year is None:
        e = set(ind[(ind["indicator"] == "co2_emissions") & ind["region"].str.startswith("GD-")]["year"])
        g = set(ind[(ind["indicator"] == "gdp_current") & ind["region"].str.startswith("GD-")]["year"])
        both = sorted(e & g)
        if not both:
            raise CarbonpeakError("no year with both city emissions and city GDP")
        base_year = both[-1]
    coal = coal_share_of_co2(ch.inventory.results, coal_items()) if ch.inventory is not None else None
    base = city_base(ind, cs, base_year, coal)
    methods = ["entropy", "optimise"] if method == "both" else [method]
    dp = cat.decomposition
    decs = [
        decompose(
            base,
            r,
            method=m,
            mode=mode,
            index_floor=float(dp.get("index_floor", 0.5)),
            tier_preference=dp.get("tier_preference"),
            tier_bounds=dp.get("tier_bounds"),
        )
        for m in methods
    ]
    tab = decs[0].table[["region", "name_en", "tier"]].copy()
    for d in decs:
        tab[f"{d.method}_reduction_pct"] = d.table["reduction_pct"].to_numpy()
    if ch.data.demo:
        tab = ch.data.label_frame(tab.assign(base_year=base_year), year="base_year", region="region")
    extras = []
    for d in decs:
        info = {
            "method": d.method,
            **{f"weight_{k}": v for k, v in d.weights.items()},
            **{k: v for k, v in d.check.items()},
        }
        extras.append(
            (
                f"{d.method}: parameters and check",
                pd.DataFrame([{"key": k, "value": str(v)} for k, v in {**info, **d.params}.items()]),
            )
        )
    emit(
        fmt,
        data={
            "target": target_id,
            "base_year": base_year,
            "reduction_pct": r,
            "decompositions": [d.to_dict() for d in decs],
            "data": ch.data.to_dict(),
        },
        table=tab,
        title=_demo_title(ch, f"{target_id}: −{r:g} % split to {len(tab)} cities (base {base_year}, mode {mode})"),
        extra_tables=extras,
    )


def register(app: typer.Typer) -> None:
    tg = typer.Typer(help="The plan's quantitative targets.", no_args_is_help=True)
    tg.command("list")(targets_list)
    tg.command("show")(targets_show)
    app.add_typer(tg, name="targets")
    ob = typer.Typer(help="Indicator observations (GDP, energy, capacities, ...).", no_args_is_help=True)
    ob.command("import")(observations_import)
    ob.command("indicators")(observations_indicators)
    app.add_typer(ob, name="observations")
    app.command("assess")(assess_cmd)
    app.command("dualcontrol")(dualcontrol_cmd)
    app.command("decompose-target")(decompose_target_cmd)
