"""Results of a projection for Python users: readable in a notebook, convertible to pandas and pyam.

:func:`~carbonpeak.scenarios.runs.run_scenario` returns a :class:`ScenarioRun` and
:func:`~carbonpeak.scenarios.montecarlo.montecarlo` a :class:`MonteCarloResult`.  Both *are* the
JSON-ready dicts they always were (every key, ``json.dumps`` works), with

* a one-line ``repr`` and an HTML table in Jupyter (``_repr_html_``),
* ``to_pandas()`` — the run in the IAMC long format (``model, scenario, region, variable, unit,
  year, value``; :mod:`carbonpeak.scenarios.iamc`), or the Monte Carlo fan by year,
* ``to_pyam()`` — a :class:`pyam.IamDataFrame` (``pip install pyam-iamc``); the Monte Carlo
  quantiles are its extra data column ``quantile`` (0.05, 0.5, 0.95).

``output="pandas"`` or ``output="pyam"`` on either function returns the converted object directly.
"""

from __future__ import annotations

import html
from typing import Any, Literal

import pandas as pd

from carbonpeak.errors import CarbonpeakError

Output = Literal["dict", "pandas", "pyam"]
OUTPUTS = ("dict", "pandas", "pyam")


def _pyam() -> Any:
    try:
        import pyam
    except ImportError as exc:  # pragma: no cover - pyam is in the test extra
        raise CarbonpeakError("pyam is not installed: pip install pyam-iamc") from exc
    return pyam


def _mt(v: float | None) -> str:
    return "–" if v is None else f"{v / 1e6:,.1f} Mt"


def _targets_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    keep = ("id", "year", "op", "target", "value", "met", "p_met")
    return pd.DataFrame([{k: r.get(k) for k in keep if k in r} for r in rows])


def _html_table(df: pd.DataFrame, percent: tuple[str, ...] = ()) -> str:
    fmt = {c: (lambda v: "–" if v is None or pd.isna(v) else f"{float(v):.1%}") for c in percent if c in df}
    return df.to_html(index=False, border=0, formatters=fmt, na_rep="–", float_format=lambda v: f"{v:,.4g}")  # type: ignore[arg-type]


class ScenarioRun(dict[str, Any]):
    """One deterministic run (the dict of :func:`~carbonpeak.scenarios.runs.run_scenario`)."""

    def __repr__(self) -> str:
        years = self.get("years") or []
        span = f"{years[0]}–{years[-1]}" if years else "no years"
        targets = self.get("targets") or []
        met = sum(1 for t in targets if t.get("met"))
        peak = f"peak {self.get('peak_year')} at {_mt(self.get('peak_co2_t'))} CO2" if self.get("peaked") else (
            f"not peaked by {years[-1] if years else '?'}")  # fmt: skip
        return f"ScenarioRun({self.get('scenario')!r}, {span}: {peak}; targets met {met}/{len(targets)})"

    def _repr_html_(self) -> str:
        traj = self.get("trajectory") or {}
        tr = pd.DataFrame({"year": list(traj), "CO2 (Mt)": [v / 1e6 for v in traj.values()]})
        parts = [f"<h4>{html.escape(repr(self))}</h4>"]
        if len(tr):
            step = max(1, len(tr) // 12)
            parts.append(_html_table(tr.iloc[::step]))
        if self.get("targets"):
            parts.append(_html_table(_targets_frame(self["targets"])))
        return "\n".join(parts)

    def to_pandas(self) -> pd.DataFrame:
        """The run in the IAMC long format (one row per variable and year)."""
        from carbonpeak.scenarios.iamc import run_to_iamc

        return run_to_iamc(self)

    def to_pyam(self) -> Any:
        """The run as a :class:`pyam.IamDataFrame`."""
        return _pyam().IamDataFrame(self.to_pandas())


class MonteCarloResult(dict[str, Any]):
    """A Monte Carlo summary (the dict of :func:`~carbonpeak.scenarios.montecarlo.montecarlo`)."""

    def __repr__(self) -> str:
        return f"MonteCarloResult({self.get('headline', '')})"

    def _repr_html_(self) -> str:
        parts = [f"<h4>{html.escape(str(self.get('headline', '')))}</h4>"]
        dist = self.get("peak_year_distribution") or {}
        if dist:
            d = pd.DataFrame({"peak_year": list(dist), "probability": list(dist.values())})
            parts.append(_html_table(d, percent=("probability",)))
        if self.get("targets"):
            parts.append(_html_table(_targets_frame(self["targets"]), percent=("p_met",)))
        return "\n".join(parts)

    def to_pandas(self) -> pd.DataFrame:
        """The fan of total CO2 by year: columns ``p05_t, p50_t, p95_t`` (t CO2), index ``year``;
        the summary's scalars (``p_peak_before_2030`` …) are in ``.attrs``."""
        fan = pd.DataFrame(self.get("fan") or [], columns=["year", "p05", "p50", "p95"])
        fan = fan.rename(columns={"p05": "p05_t", "p50": "p50_t", "p95": "p95_t"}).set_index("year")
        fan.attrs.update({k: v for k, v in self.items() if isinstance(v, (int, float, str)) and not isinstance(v, bool)})
        return fan

    def to_pyam(self) -> Any:
        """The fan as a :class:`pyam.IamDataFrame`: variable ``Emissions|CO2`` (Mt CO2/yr) with the
        extra data column ``quantile``; ``meta`` holds the peak probabilities."""
        from carbonpeak.scenarios.iamc import MODEL_NAME, REGION

        rows = []
        for r in self.get("fan") or []:
            for q, key in ((0.05, "p05"), (0.5, "p50"), (0.95, "p95")):
                rows.append((MODEL_NAME, self["scenario"], REGION, "Emissions|CO2", "Mt CO2/yr", q, int(r["year"]),
                             float(r[key]) / 1e6))  # fmt: skip
        long = pd.DataFrame(rows, columns=["model", "scenario", "region", "variable", "unit", "quantile", "year", "value"])
        df = _pyam().IamDataFrame(long)
        for k in ("p_peak_before_2030", "p_not_peaked", "peak_year_median", "draws", "seed"):
            if k in self:
                df.set_meta(self[k], name=k)
        return df


def convert(result: dict[str, Any], output: str) -> Any:
    """``result`` (a :class:`ScenarioRun` or :class:`MonteCarloResult`) as ``output`` asks."""
    if output not in OUTPUTS:
        raise CarbonpeakError(f"output must be one of {', '.join(OUTPUTS)}, not '{output}'")
    if output == "dict":
        return result
    return result.to_pandas() if output == "pandas" else result.to_pyam()  # type: ignore[attr-defined]
