"""The settings every use case needs, resolved once from :func:`carbonpeak.config.get_settings`."""

from __future__ import annotations

from dataclasses import dataclass

from carbonpeak.config import get_settings

#: Constant-price GDP base year of the plan's intensity indicators (the 14th FYP uses 2020 prices).
PRICE_BASE_YEAR = 2020
#: The scenario of the peak outlook unless one is named.
DEFAULT_SCENARIO = "plan"


@dataclass(frozen=True)
class Resolved:
    gwp: str
    price_base_year: int
    electricity_method: str
    scenario: str


def resolve(
    *,
    gwp: str | None = None,
    price_base_year: int | None = None,
    electricity_method: str | None = None,
    scenario: str | None = None,
) -> Resolved:
    """Explicit values win; anything not given comes from the settings (``CARBONPEAK_*``)."""
    cfg = get_settings()
    return Resolved(
        gwp=gwp or cfg.gwp,
        price_base_year=price_base_year or PRICE_BASE_YEAR,
        electricity_method=electricity_method or cfg.electricity_method,
        scenario=scenario or DEFAULT_SCENARIO,
    )
