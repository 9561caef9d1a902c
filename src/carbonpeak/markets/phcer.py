"""Carbon inclusion (碳普惠, PHCER): the methodology register's rules and the issuance procedure (pure).

The procedure of 《广东省碳普惠交易管理办法》 (粤环发〔2022〕4号; shared/reference/markets.md §2):

* a methodology is submitted, forwarded by a city, evaluated by the expert committee and filed
  (备案) by the DEE; only a *filed* version may be used (:data:`METHODOLOGY_STAGES`);
* a project owner applies under a filed methodology; the benefit-sharing terms are publicly
  noticed for **at least 7 working days** (:func:`notice_end`, State Council working-day calendar
  or holidays given as a parameter); the application is verified after the notice ends; the DEE
  issues the verified quantity into the register (:data:`APPLICATION_STEPS`).

The formulas of the shipped methodologies are :data:`FORMULAS` (catalog
``markets/phcer_methodologies.yaml`` names one per version).  Issued PHCER are whole tonnes:
the verified reduction is rounded down.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from carbonpeak.catalog.loader import load_yaml
from carbonpeak.errors import CarbonpeakError

NOTICE_WORKING_DAYS = 7
METHODOLOGY_STAGES = ("submitted", "city_forwarded", "expert_reviewed", "filed", "withdrawn")
#: action -> (states it may start from, state it leads to).  ``applied`` is the submitted
#: application, ``noticed`` the one under public notice; ``issued`` and ``rejected`` are final.
#: A rejection (with its reason) can come at any step before issuance; a rejected application
#: is never reopened: the owner may submit a new application that names it
#: (``resubmission_of``), which goes through the whole procedure again (notice included).
APPLICATION_STEPS: dict[str, tuple[tuple[str, ...], str]] = {
    "notice": (("applied",), "noticed"),
    "verify": (("noticed",), "verified"),
    "issue": (("verified",), "issued"),
    "reject": (("applied", "noticed", "verified"), "rejected"),
}
FINAL_STATES = frozenset({"issued", "rejected"})
REASON_MAX = 500
#: methodology stage -> the stage it may move to
_NEXT_STAGE = {"submitted": ("city_forwarded", "withdrawn"), "city_forwarded": ("expert_reviewed", "withdrawn"),
               "expert_reviewed": ("filed", "withdrawn"), "filed": ("withdrawn",), "withdrawn": ()}


class PhcerError(CarbonpeakError):
    """A PHCER methodology or application step the procedure does not allow (HTTP 400)."""


@dataclass(frozen=True)
class Methodology:
    methodology_id: str
    version: str
    name_zh: str
    name_en: str
    scope: str
    formula: str
    formula_text: str
    parameters: dict[str, Any]
    source: str
    status: str
    stage: str
    filed_on: dt.date | None


@cache
def shipped_methodologies() -> tuple[Methodology, ...]:
    """The methodologies of the catalog (``markets/phcer_methodologies.yaml``)."""
    out = []
    for m in load_yaml("markets/phcer_methodologies.yaml")["methodologies"]:
        if m["formula"] not in FORMULAS:
            raise PhcerError(f"phcer_methodologies.yaml, {m['id']}: formula '{m['formula']}' is not implemented")
        out.append(Methodology(str(m["id"]), str(m["version"]), m["name_zh"], m["name_en"], m["scope"], m["formula"],
                               m["formula_text"], dict(m["parameters"]), m["source"], m["status"], m["stage"],
                               m.get("filed_on")))
    return tuple(out)


def check_stage_change(current: str, new: str) -> None:
    if new not in METHODOLOGY_STAGES:
        raise PhcerError(f"stage '{new}' is not one of {', '.join(METHODOLOGY_STAGES)}")
    if new not in _NEXT_STAGE[current]:
        raise PhcerError(f"a methodology at stage '{current}' cannot move to '{new}'"
                         f" (next: {', '.join(_NEXT_STAGE[current]) or 'none'})")


# -- working days -----------------------------------------------------------------------------
def is_working_day(d: dt.date, holidays: Iterable[dt.date] | None = None,
                   workdays: Iterable[dt.date] | None = None) -> bool:
    """A working day: by ``holidays``/``workdays`` (调休) when given, else the State Council calendar.

    Without explicit holidays, a date outside the years the ``chinese-calendar`` package covers
    is refused rather than guessed.
    """
    if holidays is not None or workdays is not None:
        if workdays is not None and d in set(workdays):
            return True
        return d.weekday() < 5 and d not in set(holidays or ())
    import chinese_calendar

    try:
        return bool(chinese_calendar.is_workday(d))
    except NotImplementedError:
        raise PhcerError(f"no official holiday calendar for {d.year}: give the holidays of that year as a parameter"
                         ) from None


def notice_end(start: dt.date, days: int = NOTICE_WORKING_DAYS, *, holidays: Iterable[dt.date] | None = None,
               workdays: Iterable[dt.date] | None = None) -> dt.date:
    """The last day of a public notice that starts on ``start`` and lasts ``days`` working days.

    ``start`` counts when it is a working day.  The notice is complete at the end of the
    returned day; verification may start the day after.
    """
    if days < NOTICE_WORKING_DAYS:
        raise PhcerError(f"a public notice lasts at least {NOTICE_WORKING_DAYS} working days, not {days}")
    hol = list(holidays) if holidays is not None else None
    wd = list(workdays) if workdays is not None else None
    d, n = start, 0
    while True:
        if is_working_day(d, hol, wd):
            n += 1
            if n == days:
                return d
        d += dt.timedelta(days=1)


def check_step(state: str, action: str, *, today: dt.date | None = None, notice_end_on: dt.date | None = None) -> str:
    """The state an application moves to by ``action``; refuses a step out of order or too early."""
    if action not in APPLICATION_STEPS:
        raise PhcerError(f"action '{action}' is not one of {', '.join(APPLICATION_STEPS)}")
    need, to = APPLICATION_STEPS[action]
    if state not in need:
        raise PhcerError(f"cannot {action} an application in state '{state}' (needs {' or '.join(map(repr, need))})")
    if action == "verify" and (notice_end_on is None or today is None or today <= notice_end_on):
        raise PhcerError(f"the public notice runs until {notice_end_on}; verification may start the next day")
    return to


def check_reason(reason: str) -> str:
    """A rejection's reason: required, stated in words (1-500 characters)."""
    r = " ".join(str(reason or "").split())
    if len(r) < 3:
        raise PhcerError("a rejection states its reason (at least 3 characters)")
    if len(r) > REASON_MAX:
        raise PhcerError(f"the reason is {len(r)} characters; at most {REASON_MAX}")
    return r


# -- formulas ---------------------------------------------------------------------------------
def _need(inputs: dict[str, Any], name: str, lo: float = 0.0, hi: float = math.inf) -> float:
    if name not in inputs or inputs[name] is None:
        raise PhcerError(f"input '{name}' is required by this methodology")
    try:
        v = float(inputs[name])
    except (TypeError, ValueError):
        raise PhcerError(f"input '{name}' must be a number, got {inputs[name]!r}") from None
    if not (lo <= v <= hi) or math.isnan(v):
        raise PhcerError(f"input '{name}' = {v} is outside [{lo}, {hi}]")
    return v


def pv_grid_displacement(inputs: dict[str, Any]) -> float:
    """ER = EG × EF_grid (t CO2): PV electricity displacing grid electricity."""
    return _need(inputs, "EG_y") * _need(inputs, "EF_grid_y", 0.0, 2.0)


def forest_sink_net_removals(inputs: dict[str, Any]) -> float:
    """ER = (R_project − R_baseline) × (1 − LK) (t CO2); never negative."""
    r = _need(inputs, "R_project", -math.inf) - _need(inputs, "R_baseline", -math.inf)
    return max(0.0, r * (1.0 - _need(inputs, "LK", 0.0, 1.0)))


FORMULAS: dict[str, Callable[[dict[str, Any]], float]] = {
    "pv_grid_displacement": pv_grid_displacement,
    "forest_sink_net_removals": forest_sink_net_removals,
    # the same formula, with R_project filled in by the workflow from the sink engine
    "forest_sink_engine": forest_sink_net_removals,
}
#: formulas whose R_project the workflow computes from the project's forest data (never an input)
ENGINE_FORMULAS = frozenset({"forest_sink_engine"})


def reduction(formula: str, inputs: dict[str, Any]) -> float:
    """The reduction (t CO2) a methodology's formula gives for ``inputs``."""
    if formula not in FORMULAS:
        raise PhcerError(f"formula '{formula}' is not one of {', '.join(FORMULAS)}")
    return FORMULAS[formula](inputs)


def issuable_tonnes(verified_t: float) -> int:
    """Whole tonnes that may be issued for a verified reduction (rounded down)."""
    if verified_t < 0 or math.isnan(verified_t):
        raise PhcerError(f"a verified reduction must be ≥ 0, got {verified_t}")
    return math.floor(verified_t + 1e-9)
