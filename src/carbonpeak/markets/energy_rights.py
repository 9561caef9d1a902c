"""Energy-use rights (用能权) in tce (issue 11 §5; pure).

Plan action 36 asks for an energy-use-rights pilot linked with carbon trading (探索碳交易市场和
用能权交易市场协同运行机制).  No Guangdong rule was found (shared/reference/markets.md §3); the
design follows the Fujian reference (福建省用能权交易管理暂行办法, Decree No. 212, 2020): the
right is the *annual comprehensive energy consumption* a user is allowed, obtained by allocation
or trade, under total-and-intensity control.  Status: **estimate** (design ahead of regulation).

Allocation: each key energy-consuming unit's right for the year is its dual-control energy
budget (``mon_budgets``, the city's budget decomposed to the unit), optionally capped by a city
total (the city's dual-control energy budget from targets): when the units' budgets exceed the
cap they are scaled down in proportion.  Rights are whole tce: each is rounded down and the
leftover tce go one by one to the largest fractional remainders (Hamilton's method), so the
allocation sums exactly to the cap.  The position of a unit is its rights held minus its
monitored consumption (``mon_unit_day`` tce).
"""

from __future__ import annotations

import math

import pandas as pd

from carbonpeak.errors import CarbonpeakError


class EnergyRightsError(CarbonpeakError):
    """An allocation the rules refuse (HTTP 400)."""


def largest_remainder(shares: dict[str, float], total: int) -> dict[str, int]:
    """Whole numbers proportional to ``shares`` that sum to ``total`` (Hamilton / largest remainder)."""
    s = sum(shares.values())
    if total < 0 or s <= 0:
        raise EnergyRightsError(f"cannot share {total} over shares summing to {s}")
    exact = {k: total * v / s for k, v in shares.items()}
    out = {k: math.floor(v) for k, v in exact.items()}
    left = total - sum(out.values())
    for k in sorted(exact, key=lambda k: (-(exact[k] - out[k]), k))[:left]:
        out[k] += 1
    return out


def allocate(budgets: pd.DataFrame, city_caps: dict[str, float] | None = None) -> pd.DataFrame:
    """Energy-use rights per enterprise from unit budgets (columns enterprise_id, city, budget_tce).

    Returns enterprise_id, city, budget_tce, rights_tce (int) and scaled (whether a city cap cut
    the budgets).  Budgets must be ≥ 0.
    """
    need = {"enterprise_id", "city", "budget_tce"}
    if not need <= set(budgets.columns):
        raise EnergyRightsError(f"budgets need the columns {sorted(need)}, got {sorted(budgets.columns)}")
    if (budgets["budget_tce"] < 0).any() or budgets["budget_tce"].isna().any():
        raise EnergyRightsError("an energy budget is negative or missing")
    per = budgets.groupby(["enterprise_id", "city"], as_index=False)["budget_tce"].sum()
    rows = []
    for city, grp in per.groupby("city"):
        total = float(grp["budget_tce"].sum())
        cap = (city_caps or {}).get(str(city))
        scaled = cap is not None and total > cap
        target = math.floor(cap if scaled and cap is not None else total)
        shares = dict(zip(grp["enterprise_id"].astype(str), grp["budget_tce"].astype(float), strict=True))
        got = largest_remainder(shares, target) if total > 0 else dict.fromkeys(shares, 0)
        for ent, b in shares.items():
            rows.append({"enterprise_id": ent, "city": str(city), "budget_tce": b, "rights_tce": int(got[ent]),
                         "scaled": bool(scaled)})
    return pd.DataFrame(rows, columns=["enterprise_id", "city", "budget_tce", "rights_tce", "scaled"])


def positions(rights: pd.DataFrame, consumption: pd.DataFrame) -> pd.DataFrame:
    """Rights held (enterprise_id, rights_tce) against consumption (enterprise_id, used_tce): surplus (+) or deficit (−)."""
    df = rights.merge(consumption, on="enterprise_id", how="outer").fillna({"rights_tce": 0, "used_tce": 0.0})
    df["surplus_tce"] = df["rights_tce"] - df["used_tce"]
    return df
