"""``carbonpeak scenario …`` (peak projection) and ``carbonpeak decompose`` (LMDI-I).

Scenario commands take a packaged scenario name (``baseline``, ``plan``, ``enhanced``) or a
YAML file that may ``inherits:`` one of them.  JSON keys are documented in
``docs/methods/scenarios.md`` and ``docs/methods/lmdi.md``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import typer

from carbonpeak.cli.output import Format, FormatOption, emit
from carbonpeak.errors import CatalogError, Problem, UnitError, ValidationError


def _load(ref: str) -> Any:
    from carbonpeak.scenarios.scenario import load_scenario

    return load_scenario(ref)


def _mt(v: float | None) -> float | None:
    return None if v is None else v / 1e6


def _run_table(run: dict[str, Any]) -> pd.DataFrame:
    years = run["years"]
    pe = run["primary_energy_tce"]
    return pd.DataFrame({
        "year": years,
        "co2_mt": [run["trajectory"][y] / 1e6 for y in years],
        "power_mt": [run["co2_by_sector_t"]["power"][y] / 1e6 for y in years],
        "land_sink_mt": [run["land_sink_t"][y] / 1e6 for y in years],
        "primary_energy_mtce": [sum(pe[f][y] for f in pe) / 1e6 for y in years],
        "nonfossil_share_pct": [run["nonfossil_share"][y] * 100 for y in years],
        "energy_intensity_tce_per_10k_yuan": [run["energy_intensity_tce_per_10k_yuan"][y] for y in years],
        "co2_intensity_t_per_10k_yuan": [run["co2_intensity_t_per_10k_yuan"][y] for y in years],
    })


def _targets_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame([
        {"target": r["id"], "year": r["year"], "op": r["op"], "target_value": r["target"], "value": r["value"],
         "met": r["met"], "p_met": r["p_met"]}
        for r in rows
    ])


def _units_meta(path: Path) -> dict[str, Any]:
    from carbonpeak.catalog.loader import load_yaml

    meta = path.with_name(path.stem + ".meta.yaml")
    return dict(load_yaml(meta)) if meta.exists() else {}


def _effect_unit(meta: dict[str, Any], factors: list[str], file: str) -> str:
    """The unit of V = Π factors, checked against the declared value unit when the sidecar gives one."""
    from carbonpeak.catalog.units import parse_unit

    fmeta = meta.get("factors") or {}
    if not fmeta:
        return ""
    missing = [f for f in factors if f not in fmeta]
    if missing:
        raise ValidationError([Problem(file, None, f, "no unit in the .meta.yaml sidecar") for f in missing])
    try:
        q = parse_unit("1")
        for f in factors:
            q = q * parse_unit(str(fmeta[f]["unit"]))
        value_unit = str((meta.get("value") or {}).get("unit", ""))
        if value_unit:
            q.to(value_unit)  # raises on a dimension mismatch
            return value_unit
        return f"{q.units:~}"
    except UnitError as exc:
        raise ValidationError([Problem(file, None, None, str(exc))]) from exc
    except Exception as exc:  # pint DimensionalityError
        raise ValidationError([Problem(file, None, None,
                                       f"product of the factor units is not {value_unit}: {exc}")]) from exc


def _scale_to(meta: dict[str, Any], factors: list[str]) -> float:
    """Factor that turns Π(raw factor values) into the declared value unit."""
    from carbonpeak.catalog.units import parse_unit

    fmeta = meta.get("factors") or {}
    value_unit = str((meta.get("value") or {}).get("unit", ""))
    if not fmeta or not value_unit:
        return 1.0
    q = parse_unit("1")
    for f in factors:
        q = q * parse_unit(str(fmeta[f]["unit"]))
    return float(q.to(value_unit).magnitude)


def _warn(warnings: list[str]) -> None:
    for w in warnings:
        typer.echo(f"warning: {w}", err=True)


def _det_summary(r: dict[str, Any]) -> dict[str, Any]:
    return {"peak_year": r["peak_year"], "peak_co2_t": r["peak_co2_t"], "peak_text": r["peak_text"],
            "co2_2030_t": r["trajectory"].get(2030), "warnings": r["warnings"]}


def _mc_summary(r: dict[str, Any]) -> dict[str, Any]:
    return {"headline": r["headline"], "p_peak_before_2030": r["p_peak_before_2030"],
            "p_peak_before_2030_se": r["p_peak_before_2030_se"],
            "p_peak_before_2030_interval": r["p_peak_before_2030_interval"],
            "peak_year_quantiles": r["peak_year_quantiles"], "peak_co2_quantiles_t": r["peak_co2_quantiles_t"],
            "co2_2030_quantiles_t": r["co2_2030_quantiles_t"]}


def _store(db: Path | None) -> Any:
    from carbonpeak.config import get_settings
    from carbonpeak.store import Store

    return Store(db if db is not None else get_settings().store_location)


_DEMO_NOTE = ("note: no observations in the store: the observed years come from the bundled demo observations "
              "(示范数据 / demo data); import your own (`carbonpeak observations import`) to use them")


def _history(db: Path | None) -> Any:
    """The observed history from the store's observations when the store has them, else ``None``
    (the bundled demo observations, said on stderr: 示范数据 / demo data)."""
    from carbonpeak.config import get_settings
    from carbonpeak.store.duck import store_exists

    path = db if db is not None else get_settings().store_location
    if not store_exists(path):
        typer.echo(_DEMO_NOTE, err=True)
        return None
    try:
        from carbonpeak.scenarios.history import load_history
        from carbonpeak.store import Store

        with Store(path, read_only=True) as store:
            df = store.current("observations", ["indicator", "region", "year"])
    except Exception as exc:  # no observations table, store busy: the bundled observations apply
        typer.echo(f"note: observed years from the bundled observations ({exc.__class__.__name__})", err=True)
        return None
    if df.empty:
        typer.echo(_DEMO_NOTE, err=True)
        return None
    h = load_history(df)
    if h.last_year is None:
        typer.echo(_DEMO_NOTE, err=True)
        return None
    return h


def _save(db: Path | None, s: Any, kind: str, seed: int | None, draws: int | None,
          summary: dict[str, Any], payload: dict[str, Any], history: Any = None) -> str:
    from carbonpeak import __version__
    from carbonpeak.scenarios.trace import input_hash
    from carbonpeak.store.runs import save_run

    with _store(db) as store:
        rid, created = save_run(store, scenario=s.name, kind=kind, tool_version=__version__,
                                input_hash=input_hash(s, history), seed=seed, draws=draws, summary=summary, payload=payload)
    typer.echo(f"{'stored' if created else 'already stored'}: run {rid}", err=True)
    return rid


def register(app: typer.Typer) -> None:
    sc = typer.Typer(help="Peak projection: scenarios, Monte Carlo, Sobol sensitivity, IAMC exchange.",
                     no_args_is_help=True)
    app.add_typer(sc, name="scenario")

    @sc.command("list")
    def list_(fmt: Format = FormatOption) -> None:
        """Packaged scenarios and what they inherit."""
        from carbonpeak.scenarios.scenario import available_scenarios

        rows = []
        for name in available_scenarios():
            s = _load(name)
            rows.append({"scenario": s.name, "inherits": s.parent or "", "parameters": len(s.params),
                         "description": s.description})
        emit(fmt, table=pd.DataFrame(rows), title="Scenarios")

    @sc.command("show")
    def show(scenario: str = typer.Argument(..., help="Scenario name or YAML file."),
             fmt: Format = FormatOption) -> None:
        """Every resolved parameter with its unit, source, status and the file that defines it."""
        s = _load(scenario)
        rows = []
        for p in s.params.values():
            val = p.value if p.values is None else ", ".join(f"{y}: {v:g}" for y, v in p.values.items())
            rows.append({"parameter": p.name, "value": str(val), "unit": p.unit, "status": p.status,
                         "defined_in": Path(p.defined_in).stem, "source": p.source or p.note})
        emit(fmt, data={"scenario": s.name, "chain": s.chain, "parameters": [p.to_dict() for p in s.params.values()],
                        "uncertainty": {k: vars(u) for k, u in s.uncertainty.items()}},
             table=pd.DataFrame(rows), title=f"Scenario {s.name} ({' → '.join(s.chain)})")

    @sc.command("run")
    def run(scenario: str = typer.Argument(..., help="Scenario name or YAML file."),
            end: int = typer.Option(None, "--end", help="Last year (default: the scenario's horizon)."),
            save: bool = typer.Option(False, "--save", help="Keep the run in the store (scenario runs list)."),
            db: Path = typer.Option(None, "--db", help="DuckDB file: its observations (if any) give the observed "
                                                       "years; --save stores the run there (default: settings db_path)."),
            fmt: Format = FormatOption) -> None:
        """Deterministic run: ONE path at nominal values (use montecarlo for the median and P)."""
        from carbonpeak.scenarios.runs import run_scenario

        s = _load(scenario)
        hist = _history(db)
        r = run_scenario(s, end=end, history=hist)
        _warn(r["warnings"])
        if save:
            r["run_id"] = _save(db, s, "deterministic", None, None, _det_summary(r), r, hist)
        emit(fmt, data=r, table=_run_table(r),
             title=(f"{r['scenario']} — one deterministic path (nominal values; observed to "
                    f"{r['last_observed_year']}): {r['peak_text']} at {r['peak_co2_t'] / 1e6:,.1f} Mt CO2. "
                    f"For the median, interval and P(peak ≤ 2030) run: carbonpeak scenario montecarlo {scenario}"),
             extra_tables=[("Plan targets (this path)", _targets_table(r["targets"]))])

    @sc.command("compare")
    def compare(scenarios: list[str] = typer.Argument(..., help="Two or more scenario names or files."),
                end: int = typer.Option(None, "--end", help="Last year (default: each scenario's horizon)."),
                fmt: Format = FormatOption) -> None:
        """CO2 trajectories and peaks of several scenarios side by side (deterministic paths)."""
        from carbonpeak.scenarios.runs import run_scenario

        runs = [run_scenario(_load(x), end=end) for x in scenarios]
        years = runs[0]["years"]
        table = pd.DataFrame({"year": years})
        for r in runs:
            table[f"{r['scenario']}_mt"] = [r["trajectory"].get(y, math.nan) / 1e6 for y in years]
        summary = pd.DataFrame([{"scenario": r["scenario"], "peak_year": r["peak_year"],
                                 "peak_co2_mt": r["peak_co2_t"] / 1e6, "peaked": r["peaked"],
                                 "peak_before_2030": r["peak_before_2030"],
                                 "nonfossil_2030_pct": r["nonfossil_share"].get(2030, math.nan) * 100}
                                for r in runs])
        data = {"scenarios": {r["scenario"]: {k: r[k] for k in ("peak_year", "peak_co2_t", "peaked",
                                                                 "peak_before_2030", "trajectory",
                                                                 "nonfossil_share", "targets")}
                              for r in runs}}
        emit(fmt, data=data, table=table,
             title="CO2, Mt — one deterministic path per scenario (montecarlo gives medians and P)",
             extra_tables=[("Peaks (deterministic paths)", summary)])

    @sc.command("montecarlo")
    def montecarlo(scenario: str = typer.Argument(..., help="Scenario name or YAML file."),
                   draws: int = typer.Option(2000, "--draws", min=1, help="Number of draws."),
                   seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same result)."),
                   end: int = typer.Option(None, "--end", help="Last year (default: the scenario's horizon)."),
                   sampling: str = typer.Option("random", "--sampling", help="random | lhs (Latin hypercube)"),
                   plateau: float = typer.Option(0.0, "--plateau", min=0.0,
                                                 help="Peak tolerance ε: peaked in y if later years ≤ E_y·(1+ε)."),
                   save: bool = typer.Option(False, "--save", help="Keep the run in the store (scenario runs list)."),
                   db: Path = typer.Option(None, "--db", help="DuckDB file: its observations (if any) give the "
                                                              "observed years; --save stores the run there."),
                   fmt: Format = FormatOption) -> None:
        """Median peak and interval, P(peak ≤ 2030) with its sampling error, P(each target met), fan data."""
        from carbonpeak.scenarios.montecarlo import SAMPLINGS
        from carbonpeak.scenarios.montecarlo import montecarlo as mc

        if sampling not in SAMPLINGS:
            raise typer.BadParameter(f"--sampling must be one of {', '.join(SAMPLINGS)}")
        hist = _history(db)
        r = mc(_load(scenario), draws=draws, seed=seed, end=end, sampling=sampling, plateau=plateau, history=hist)
        _warn(r["warnings"])
        fan = pd.DataFrame(r["fan"])
        for c in ("p05", "p50", "p95"):
            fan[c] = fan[c] / 1e6
        fan = fan.rename(columns={"p05": "p05_mt", "p50": "p50_mt", "p95": "p95_mt"})
        dist = pd.DataFrame([{"peak_year": y, "probability": p} for y, p in r["peak_year_distribution"].items()])
        if save:
            s = _load(scenario)
            r["run_id"] = _save(db, s, "montecarlo", seed, draws, _mc_summary(r), r, hist)
        emit(fmt, data=r, table=fan,
             title=(f"{r['headline']}; not peaked by {r['years'][-1]}: {r['p_not_peaked']:.1%}; "
                    f"observed to {r['last_observed_year']}"),
             extra_tables=[("Peak year", dist), ("Plan targets", _targets_table(r["targets"]))])

    @sc.command("sobol")
    def sobol_cmd(scenario: str = typer.Argument(..., help="Scenario name or YAML file."),
                  n: int = typer.Option(512, "--n", min=2, help="Saltelli base sample (power of 2)."),
                  seed: int = typer.Option(0, "--seed"),
                  output: str = typer.Option("peak_co2", "--output", help="peak_co2 | peak_year | co2_2030"),
                  fmt: Format = FormatOption) -> None:
        """Sobol indices ranking the levers by how much they move the peak."""
        from carbonpeak.scenarios.sensitivity import OUTPUTS, sobol

        if output not in OUTPUTS:
            raise typer.BadParameter(f"--output must be one of {', '.join(OUTPUTS)}")
        r = sobol(_load(scenario), n=n, seed=seed, output=output)
        emit(fmt, data=r, table=pd.DataFrame(r["levers"]).drop(columns=["meaning"]),
             title=f"Sobol indices of {output} ({r['runs']} runs)")

    @sc.command("diff")
    def diff(a: str = typer.Argument(..., help="First scenario (name or YAML file)."),
             b: str = typer.Argument(..., help="Second scenario."),
             fmt: Format = FormatOption) -> None:
        """Every parameter (and uncertain factor) that differs between two scenarios, with where it is set."""
        from carbonpeak.scenarios.trace import param_diff

        sa, sb = _load(a), _load(b)
        rows = param_diff(sa, sb)
        emit(fmt, data={"from": sa.name, "to": sb.name, "differences": rows},
             table=pd.DataFrame([{k: v for k, v in r.items() if not k.startswith(("defined_in_", "status_"))}
                                 for r in rows]),
             title=f"{len(rows)} differences: {sa.name} → {sb.name}")

    @sc.command("breakdown")
    def breakdown(a: str = typer.Argument(..., help="Reference scenario (e.g. baseline)."),
                  b: str = typer.Argument(..., help="Scenario to explain (e.g. plan)."),
                  year: int = typer.Option(2030, "--year", help="Year of the CO2 gap."),
                  fmt: Format = FormatOption) -> None:
        """The gap between two scenarios in YEAR's CO2 and in the peak value, by lever (one-at-a-time)."""
        from carbonpeak.scenarios.trace import lever_breakdown

        r = lever_breakdown(_load(a), _load(b), year)
        df = pd.DataFrame(r["levers"])
        for c in df.columns:
            if c.endswith("_t"):
                df[c] = df[c] / 1e6
        df = df.rename(columns={c: c[:-2] + "_mt" for c in df.columns if c.endswith("_t")})
        g, p = r[f"co2_{year}_t"], r["peak_co2_t"]
        emit(fmt, data=r, table=df,
             title=(f"{r['from']} → {r['to']}: {year} CO2 gap {g['gap'] / 1e6:,.1f} Mt "
                    f"(interaction {g['interaction'] / 1e6:,.1f}); peak gap {p['gap'] / 1e6:,.1f} Mt "
                    f"(interaction {p['interaction'] / 1e6:,.1f}); {r['method']}"))

    @sc.command("balance")
    def balance(scenario: str = typer.Argument(..., help="Scenario name or YAML file."),
                year: int = typer.Option(2030, "--year", help="Year of the balance."),
                fmt: Format = FormatOption) -> None:
        """Energy balance of one year: supply, transformation (power, CHP) and final use by fuel."""
        from carbonpeak.scenarios.model import nominal_factors, prepare, simulate
        from carbonpeak.scenarios.trace import energy_balance

        s = _load(scenario)
        inp = prepare(s)
        res = simulate(inp, nominal_factors(s))
        try:
            rows = energy_balance(inp, res, year)
        except KeyError:
            raise typer.BadParameter(f"--year must lie in {int(inp.years[0])}-{int(inp.years[-1])}") from None
        kind = "observed year" if year <= inp.last_observed else "projection, nominal path"
        emit(fmt, data={"scenario": s.name, "year": year, "kind": kind, "rows": rows}, table=pd.DataFrame(rows),
             title=f"Energy balance {s.name} {year} ({kind}), Mtce / TWh")

    runs_app = typer.Typer(help="Stored runs: list, show, compare.", no_args_is_help=True)
    sc.add_typer(runs_app, name="runs")

    @runs_app.command("list")
    def runs_list(scenario: str = typer.Option(None, "--scenario", help="Only this scenario."),
                  db: Path = typer.Option(None, "--db", help="DuckDB file (default: settings db_path)."),
                  fmt: Format = FormatOption) -> None:
        """Stored runs, newest first, with tool version, input hash and seed."""
        from carbonpeak.store.runs import list_runs

        with _store(db) as store:
            df = list_runs(store, scenario)
        df["created_at"] = df["created_at"].astype(str)
        emit(fmt, data=df.to_dict(orient="records"), table=df.drop(columns=["summary"]), title="Stored runs")

    @runs_app.command("show")
    def runs_show(run_id: str = typer.Argument(...),
                  db: Path = typer.Option(None, "--db", help="DuckDB file (default: settings db_path)."),
                  fmt: Format = FormatOption) -> None:
        """One stored run: what was run (version, input hash, seed, draws) and its summary."""
        from carbonpeak.store.runs import get_run

        with _store(db) as store:
            try:
                r = get_run(store, run_id)
            except KeyError:
                raise CatalogError(f"no stored run '{run_id}' (see: carbonpeak scenario runs list)") from None
        meta = {k: v for k, v in r.items() if k not in ("payload", "summary")}
        emit(fmt, data=r, table=pd.DataFrame([{"field": k, "value": str(v)} for k, v in
                                              {**meta, **r["summary"]}.items()]), title=f"Run {run_id}")

    @runs_app.command("compare")
    def runs_compare(run_ids: list[str] = typer.Argument(..., help="Two or more run ids."),
                     db: Path = typer.Option(None, "--db", help="DuckDB file (default: settings db_path)."),
                     fmt: Format = FormatOption) -> None:
        """Stored runs side by side: inputs (version, hash, seed) and their headline figures."""
        from carbonpeak.store.runs import get_run

        rows = []
        with _store(db) as store:
            for rid in run_ids:
                try:
                    r = get_run(store, rid)
                except KeyError:
                    raise CatalogError(f"no stored run '{rid}'") from None
                sm = r["summary"]
                rows.append({"run_id": rid, "scenario": r["scenario"], "kind": r["kind"],
                             "tool_version": r["tool_version"], "input_hash": r["input_hash"][:12],
                             "seed": r["seed"], "draws": r["draws"],
                             "p_peak_le_2030": sm.get("p_peak_before_2030"),
                             "p_se": sm.get("p_peak_before_2030_se"),
                             "peak_year": (sm.get("peak_year_quantiles") or {}).get("p50", sm.get("peak_year")),
                             "co2_2030_mt": ((sm.get("co2_2030_quantiles_t") or {}).get("p50", sm.get("co2_2030_t"))
                                             or 0) / 1e6})
        same = len({r["input_hash"] for r in rows}) == 1
        emit(fmt, data={"runs": rows, "same_inputs": same}, table=pd.DataFrame(rows),
             title="Stored runs compared" + (" (same inputs)" if same else " (inputs differ: see scenario diff)"))

    @sc.command("factors")
    def factors_cmd(scenario: str = typer.Argument("plan"), fmt: Format = FormatOption) -> None:
        """The uncertain factors (levers and drivers) with their distributions."""
        from carbonpeak.scenarios.montecarlo import factor_table

        emit(fmt, table=pd.DataFrame(factor_table(_load(scenario))), title="Uncertain factors")

    @sc.command("kaya")
    def kaya(scenario: str = typer.Argument(..., help="Scenario name or YAML file."),
             out: Path = typer.Option(None, "--out", help="Write the identity CSV (+ .meta.yaml units) here."),
             fmt: Format = FormatOption) -> None:
        """The Kaya identity of a projection, for ``carbonpeak decompose``."""
        import yaml

        from carbonpeak.io.export import write_csv
        from carbonpeak.scenarios.runs import KAYA_UNITS, kaya_table, run_scenario

        r = run_scenario(_load(scenario))
        df = pd.DataFrame(kaya_table(r))
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            write_csv(df, out)
            meta = {"title": f"Kaya identity of scenario {r['scenario']}",
                    "value": {"name": "gross CO2 (energy + process)", "unit": "MtCO2"},
                    "factors": {k: {"unit": u} for k, u in KAYA_UNITS.items()}}
            out.with_name(out.stem + ".meta.yaml").write_text(
                yaml.safe_dump(meta, allow_unicode=True, sort_keys=False), encoding="utf-8")
        emit(fmt, data={"scenario": r["scenario"], "units": KAYA_UNITS, "rows": df.to_dict(orient="records"),
                        "file": str(out) if out else None},
             table=df.drop(columns=["source"]), title=f"Kaya identity, scenario {r['scenario']}")

    @sc.command("export")
    def export(scenarios: list[str] = typer.Argument(None, help="Scenarios (default: all packaged)."),
               iamc: Path = typer.Option(..., "--iamc", help="Output CSV in IAMC long format."),
               fmt: Format = FormatOption) -> None:
        """Write deterministic runs in the IAMC long format (opens in pyam)."""
        from carbonpeak.io.export import write_csv
        from carbonpeak.scenarios.iamc import runs_to_iamc, summarise_iamc
        from carbonpeak.scenarios.runs import run_scenario
        from carbonpeak.scenarios.scenario import available_scenarios

        names = scenarios or available_scenarios()
        df = runs_to_iamc(run_scenario(_load(x)) for x in names)
        iamc.parent.mkdir(parents=True, exist_ok=True)
        write_csv(df, iamc, bom=False)  # pyam reads it with pandas' plain UTF-8
        s = summarise_iamc(df)
        emit(fmt, data={"file": str(iamc), "rows": len(df), "scenarios": s.to_dict(orient="records")},
             table=s, title=f"Wrote {len(df)} rows to {iamc}")

    @sc.command("import-iamc")
    def import_iamc(file: Path = typer.Argument(..., help="IAMC CSV/Excel (long or wide)."),
                    variable: str = typer.Option("Emissions|CO2", "--variable"),
                    fmt: Format = FormatOption) -> None:
        """Validate an IAMC file and show each scenario's peak of ``--variable``."""
        from carbonpeak.io import read_table
        from carbonpeak.scenarios.iamc import read_iamc, summarise_iamc

        long = read_iamc(read_table(file), str(file))
        s = summarise_iamc(long, variable)
        if s.empty:
            raise CatalogError(f"{file}: no rows for variable '{variable}'")
        emit(fmt, data={"file": str(file), "rows": len(long), "scenarios": s.to_dict(orient="records")},
             table=s, title=f"{file}: {len(long)} rows")

    @app.command("decompose")
    def decompose_cmd(
        file: Path = typer.Argument(..., help="CSV/Excel: year, optional sector, one column per factor."),
        year_from: int = typer.Option(..., "--from", help="First year."),
        year_to: int = typer.Option(..., "--to", help="Second year."),
        method: str = typer.Option("additive", "--method", help="additive | multiplicative"),
        chained: bool = typer.Option(False, "--chained", help="Sum (or multiply) year-to-year steps."),
        sector: str = typer.Option("sector", "--sector-column", help="Name of the sector column, if any."),
        fmt: Format = FormatOption,
    ) -> None:
        """LMDI-I decomposition of any multiplicative identity (effects, total change, residual)."""
        from carbonpeak.io import read_table
        from carbonpeak.scenarios.lmdi import METHODS, decompose, factor_columns

        if method not in METHODS:
            raise typer.BadParameter(f"--method must be one of {', '.join(METHODS)}")
        df = read_table(file)
        factors = factor_columns(df, sector)
        meta = _units_meta(file)
        unit = _effect_unit(meta, factors, str(file))
        d = decompose(df, factors, year_from, year_to, method=method, chained=chained, sector=sector)
        scale = _scale_to(meta, factors)
        out = d.to_dict()
        if method == "additive" and scale != 1.0:
            out["effects"] = {k: v * scale for k, v in out["effects"].items()}
            out["total"] *= scale
            out["residual"] *= scale
            if "by_sector" in out:
                out["by_sector"] = {s: {k: v * scale for k, v in e.items()} for s, e in out["by_sector"].items()}
            for st in out.get("steps", []):
                st["effects"] = {k: v * scale for k, v in st["effects"].items()}
        out["v_from"] *= scale
        out["v_to"] *= scale
        out["unit"] = unit if method == "additive" else "1"
        out["file"] = str(file)
        table = d.table()
        if method == "additive" and scale != 1.0:
            table["effect"] = table["effect"] * scale
        if unit and method == "additive":
            table["unit"] = unit
        title = (f"LMDI-I {method}{' chained' if chained else ''} {year_from}→{year_to}: "
                 f"{out['v_from']:,.4g} → {out['v_to']:,.4g} {unit}")
        extra = []
        if d.by_sector:
            extra.append(("By sector", pd.DataFrame(out["by_sector"]).T.reset_index(names="sector")))
        emit(fmt, data=out, table=table, title=title, extra_tables=extra)
