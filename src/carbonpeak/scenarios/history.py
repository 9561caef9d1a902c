"""Observed years of the projection (LEAP's Current Accounts extended to the latest observed year).

The model's years from 2020 up to the *last observed year* are data: every scenario and every
Monte Carlo draw shares them.  They are built from the indicator observations (the store's, or the
bundled demo observations) through :func:`carbonpeak.model.observation.load_observations`:

=================================  =============================================================
observation                        used as
=================================  =============================================================
``gdp_real_growth``                GDP growth of the year (real, %)
``population``                     population growth of the year
``electricity_consumption``        electricity supplied (全社会用电量); the demand calibration term
``*_capacity``                     capacity at year end (wind: onshore = total − offshore path;
                                   thermal: gas = total − coal − biomass paths)
``power_generation_*``             full-load hours = generation ÷ capacity
``electricity_net_import``         import-line hours = net imports ÷ import capacity
``power_coal_equivalent``          coal-substitution rate of primary electricity
=================================  =============================================================

The *last observed year* is the latest year with both GDP growth and electricity consumption.
Observed values missing in a year (e.g. 2024 wind generation) fall back to the calibration
scenario's path (the root of the inheritance chain), which is itself shared by every scenario.
No number is written here: everything comes from the observation files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

REGION = "GD"

#: Indicator → (model key, multiplier from the indicator's canonical unit to the model unit).
_MAP: dict[str, tuple[str, float]] = {
    "gdp_real_growth": ("gdp_growth", 0.01),            # % → 1/a
    "population": ("population", 1.0),                  # 万人
    "electricity_consumption": ("demand_twh", 0.1),     # 亿kWh → TWh
    "solar_capacity": ("cap.solar", 0.01),              # 万kW → GW
    "wind_capacity": ("cap.wind", 0.01),
    "hydro_capacity": ("cap.hydro", 0.01),
    "thermal_capacity": ("cap.thermal", 0.01),
    "nuclear_capacity": ("cap.nuclear", 0.01),
    "power_generation_solar": ("gen.solar", 0.1),
    "power_generation_wind": ("gen.wind", 0.1),
    "power_generation_hydro": ("gen.hydro", 0.1),
    "power_generation_nuclear": ("gen.nuclear", 0.1),
    "power_generation_thermal": ("gen.thermal", 0.1),
    "electricity_net_import": ("gen.imports", 0.1),
    "power_coal_equivalent": ("coal_substitution", 1e-3),  # 1e-6·tce/kWh (g/kWh) → kgce/kWh
    "energy_consumption": ("energy_mtce", 0.01),        # 万tce → Mtce
}


@dataclass
class History:
    """Observed series by model key (year → value in model units) and their sources."""

    last_year: int | None
    values: dict[str, dict[int, float]] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    def get(self, key: str, year: int) -> float | None:
        return self.values.get(key, {}).get(year)

    def observed_years(self, start: int) -> list[int]:
        return [] if self.last_year is None else list(range(start, self.last_year + 1))


def _default_observations() -> pd.DataFrame:
    from carbonpeak.demo import demo_files
    from carbonpeak.model.observation import load_observations

    files = demo_files("observations")
    return load_observations(files) if files else pd.DataFrame()


def load_history(observations: pd.DataFrame | None = None, region: str = REGION,
                 start: int = 2020) -> History:
    """The observed history from an observation frame (default: the bundled demo observations)."""
    df = _default_observations() if observations is None else observations
    if df is None or df.empty:
        return History(last_year=None)
    df = df[(df["region"].astype(str) == region) & (df["year"].astype(int) >= start - 1)]
    vals: dict[str, dict[int, float]] = {}
    srcs: dict[str, str] = {}
    for ind, (key, mult) in _MAP.items():
        sub = df[df["indicator"] == ind]
        if sub.empty:
            continue
        vals[key] = {int(y): float(v) * mult for y, v in zip(sub["year"], sub["value"], strict=True)}
        srcs[key] = f"observations '{ind}' ({region}): " + "; ".join(sorted(set(sub["source"].astype(str))))[:300]
    both = set(vals.get("gdp_growth", {})) & set(vals.get("demand_twh", {}))
    last = max((y for y in both if y >= start), default=None)
    return History(last_year=last, values=vals, sources=srcs)
