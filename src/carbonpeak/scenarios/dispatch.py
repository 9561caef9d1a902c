"""Representative-day dispatch of the power system (the supply side of the peak-projection model).

Typical days (4 seasons × 24 h, ``catalog/data/scenarios/daily_profiles.csv``) of every year and
Monte Carlo draw: must-run (nuclear, hydro, biomass, imports) and wind/solar first; the thermal
minimum output curtails the surplus; storage and demand response take the surplus and shave the
evening peak (water-filling, the optimum of the linear programme); thermal plant meets the rest.
Equations and sources: ``docs/methods/scenarios.md`` ("Power").  Used by
:func:`carbonpeak.scenarios.model.simulate`; vectorised over ``(draws, years)`` like the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from carbonpeak.errors import CatalogError

__all__ = ["DISPATCH_CHUNK", "Dispatch", "Profiles", "dispatch", "load_profiles"]


@dataclass(frozen=True)
class Profiles:
    """Typical days: ``days`` per season, hourly demand shape, PV and wind profiles (each (S, 24))."""

    seasons: tuple[str, ...]
    days: np.ndarray          # (S,)
    demand: np.ndarray        # (S, 24) demand / annual-mean hourly demand
    solar: np.ndarray         # (S, 24) share of annual PV energy per hour of one day of the season
    wind: np.ndarray          # (S, 24) likewise for wind
    source: str


def load_profiles() -> Profiles:
    """``catalog/data/scenarios/daily_profiles.csv`` (status and source in the file)."""
    from carbonpeak.catalog.loader import load_csv

    df = load_csv("scenarios/daily_profiles.csv")
    seasons = tuple(dict.fromkeys(df["season"].astype(str)))
    dem, sol, wnd, days = [], [], [], []
    for s in seasons:
        g = df[df["season"] == s].sort_values("hour")
        if len(g) != 24:
            raise CatalogError(f"daily_profiles.csv: season '{s}' needs 24 hours, has {len(g)}")
        nd = float(g["days"].iloc[0])
        days.append(nd)
        dem.append(g["demand_shape"].to_numpy(float) * float(g["demand_level"].iloc[0]))
        sol.append(g["solar_profile"].to_numpy(float) * float(g["solar_share"].iloc[0]) / nd)
        wnd.append(g["wind_profile"].to_numpy(float) * float(g["wind_share"].iloc[0]) / nd)
    d = np.array(days)
    dem_a = np.array(dem)
    dem_a = dem_a / ((dem_a * d[:, None]).sum() / d.sum() / 24.0)  # annual mean hour = 1
    sol_a, wnd_a = np.array(sol), np.array(wnd)
    sol_a = sol_a / (sol_a * d[:, None]).sum()
    wnd_a = wnd_a / (wnd_a * d[:, None]).sum()
    return Profiles(seasons, d, dem_a, sol_a, wnd_a, str(df["source"].iloc[0]))


def _level(x: np.ndarray, cap: np.ndarray, energy: np.ndarray, top: bool, iters: int = 32) -> np.ndarray:
    """Water-filling over the last axis (the 24 hours).

    Returns a_h ∈ [0, cap_h] with Σ a_h = min(energy, Σ cap_h) that levels the peak
    (``top``: a_h = min(cap_h, max(0, x_h − τ))) or fills the valley (a_h = min(cap_h, max(0, τ − x_h))).
    This is the optimum of the linear programme "minimise the peak (raise the valley) subject to the
    hourly power limit and the daily energy" (checked against ``scipy.optimize.linprog`` in the tests).
    """
    cap = np.broadcast_to(cap, np.broadcast_shapes(cap.shape, x.shape))
    cmax = cap.max(axis=-1, keepdims=True)
    if top:
        a, b = x.min(axis=-1, keepdims=True) - cmax - 1.0, x.max(axis=-1, keepdims=True)
    else:
        a, b = x.min(axis=-1, keepdims=True), x.max(axis=-1, keepdims=True) + cmax + 1.0
    e = np.minimum(energy, cap.sum(axis=-1, keepdims=True))

    buf = np.empty(np.broadcast_shapes(x.shape, cap.shape))

    def amount(tau: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        # min(cap, max(0, ·)) with a reused buffer: several times faster than np.clip with array bounds
        o = np.subtract(x, tau, out=out) if top else np.subtract(tau, x, out=out)
        np.maximum(o, 0.0, out=o)
        return np.minimum(o, cap, out=o)

    for _ in range(iters):
        tau = 0.5 * (a + b)
        too_much = amount(tau, buf).sum(axis=-1, keepdims=True) > e
        if top:   # amount falls as tau rises
            a, b = np.where(too_much, tau, a), np.where(too_much, b, tau)
        else:     # amount rises with tau
            a, b = np.where(too_much, a, tau), np.where(too_much, tau, b)
    return amount(b if top else a)


@dataclass
class Dispatch:
    """Annual results of the representative-day dispatch, each (n, Y)."""

    thermal_twh: np.ndarray       # thermal generation (coal + gas) needed
    curtail_twh: np.ndarray       # wind and solar curtailed
    peak_net_gw: np.ndarray       # peak of load net of must-run, wind and solar, before flexibility
    peak_thermal_gw: np.ndarray   # peak thermal output after storage and demand response


#: Draws dispatched at once (bounds the memory of the (draws, years, seasons, 24) arrays).
DISPATCH_CHUNK = 1024


def dispatch(pr: Profiles, demand_twh: np.ndarray, must_twh: np.ndarray, solar_twh: np.ndarray,
             wind_twh: np.ndarray, thermal_min_gw: np.ndarray, storage_gw: np.ndarray,
             storage_hours: np.ndarray, storage_eff: np.ndarray, dr_share: np.ndarray,
             dr_hours: np.ndarray) -> Dispatch:
    """:func:`_dispatch` over chunks of :data:`DISPATCH_CHUNK` draws (same result, bounded memory)."""
    args = [demand_twh, must_twh, solar_twh, wind_twh, thermal_min_gw, storage_gw, storage_hours, storage_eff,
            dr_share, dr_hours]
    shape = np.broadcast_shapes(*(np.shape(a) for a in args))
    full = [np.broadcast_to(np.asarray(a, dtype=float), shape) for a in args]
    n = shape[0]
    if n <= DISPATCH_CHUNK:
        return _dispatch(pr, *full)
    parts = [_dispatch(pr, *(a[i:i + DISPATCH_CHUNK] for a in full)) for i in range(0, n, DISPATCH_CHUNK)]
    return Dispatch(*(np.concatenate([getattr(p, f) for p in parts], axis=0)
                      for f in ("thermal_twh", "curtail_twh", "peak_net_gw", "peak_thermal_gw")))


def _dispatch(pr: Profiles, demand_twh: np.ndarray, must_twh: np.ndarray, solar_twh: np.ndarray,
              wind_twh: np.ndarray, thermal_min_gw: np.ndarray, storage_gw: np.ndarray,
              storage_hours: np.ndarray, storage_eff: np.ndarray, dr_share: np.ndarray,
              dr_hours: np.ndarray) -> Dispatch:
    """Representative-day dispatch of each year and draw (inputs broadcast to (n, Y)).

    Per hour h of season s (GW): net_h = D·d_sh − M/8760 − PV·p_sh − W·w_sh.  Thermal plant runs at
    least ``thermal_min`` (coal minimum output + contracted gas); below it wind and solar are
    curtailed.  Storage (power P, energy P·hours, round-trip efficiency η) first charges from that
    surplus and demand response (power = share × peak demand, energy = power × hours a day) moves
    load into what is left; both give it back at the evening peak (water-filling, :func:`_level`).
    Storage and demand-response energy not filled from surplus is cycled from the night valley to
    the peak, its losses (1/η − 1) met by thermal plant.  Final load L_h gives thermal
    max(L_h, thermal_min) and curtailment max(0, thermal_min − L_h), so energy balances exactly.
    """
    def e(a: np.ndarray) -> np.ndarray:
        return np.asarray(a, dtype=float)[..., None, None]

    dem = e(demand_twh) * 1e3 / 8760.0 * pr.demand[None, None]
    net = dem - e(must_twh) * 1e3 / 8760.0 - e(solar_twh) * 1e3 * pr.solar[None, None] \
        - e(wind_twh) * 1e3 * pr.wind[None, None]
    tmin = e(thermal_min_gw)
    surplus = np.clip(tmin - net, 0.0, None)
    P = e(storage_gw)
    E = P * e(storage_hours)
    eta = e(storage_eff)
    ch = np.minimum(surplus, P)
    ch_e = ch.sum(axis=-1, keepdims=True)
    ch = ch * np.where(ch_e > E, E / np.where(ch_e > 0, ch_e, 1.0), 1.0)
    ch_e = ch.sum(axis=-1, keepdims=True)
    Pd = e(dr_share) * dem.max(axis=(-1, -2), keepdims=True)
    Ed = Pd * e(dr_hours)
    dr_in = np.minimum(surplus - ch, Pd)
    dr_e = dr_in.sum(axis=-1, keepdims=True)
    dr_in = dr_in * np.where(dr_e > Ed, Ed / np.where(dr_e > 0, dr_e, 1.0), 1.0)
    dr_e = dr_in.sum(axis=-1, keepdims=True)
    room = np.clip(net - tmin, 0.0, None)  # never shave thermal below its minimum
    shave = _level(net, np.minimum(P + Pd, room), ch_e * eta + dr_e, top=True)
    L = net + ch + dr_in - shave
    rem_s = np.clip(E - ch_e, 0.0, None) * eta
    rem_d = np.clip(Ed - dr_e, 0.0, None)
    out = rem_s + rem_d
    top = _level(L, np.minimum(np.clip(P + Pd - shave, 0.0, None), np.clip(L - tmin, 0.0, None)), out, top=True)
    moved = top.sum(axis=-1, keepdims=True)
    s_share = np.where(out > 0, rem_s / np.where(out > 0, out, 1.0), 0.0)
    intake = moved * (s_share / eta + (1.0 - s_share))
    fill = _level(L - top, P + Pd, intake, top=False)
    L = L - top + fill
    thermal = np.maximum(L, tmin)
    curtail = np.clip(tmin - L, 0.0, None)
    days = pr.days[None, None, :]

    def twh(a: np.ndarray) -> np.ndarray:
        return (a.sum(axis=-1) * days).sum(axis=-1) / 1e3

    return Dispatch(thermal_twh=twh(thermal), curtail_twh=twh(curtail),
                    peak_net_gw=net.max(axis=(-1, -2)), peak_thermal_gw=thermal.max(axis=(-1, -2)))
