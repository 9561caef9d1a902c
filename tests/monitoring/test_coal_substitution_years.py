"""Electricity by the coal-substitution method in years after the last published coefficient.

GB/T 2589-2020 leaves the coal-substitution coefficient to the year's national average coal
consumption of thermal power supply; the catalog has it up to its last published year, and
``catalog.standard_coal.standard_coal_coefficient`` uses the nearest earlier year after that.
The monitoring pipeline must follow the same rule instead of failing for recent meter data.
"""

from __future__ import annotations

from carbonpeak.catalog.standard_coal import standard_coal_coefficient
from carbonpeak.monitoring.catalog import catalog_coefficients


def test_recent_years_use_the_latest_published_coefficient():
    fn = catalog_coefficients(electricity_method="coal_substitution")
    latest = standard_coal_coefficient("electricity", 2099, "coal_substitution")
    c = fn("electricity", "kWh", 2099)
    assert c.tce_per_unit == latest.value / 1000  # kgce/kWh -> tce/kWh
    assert latest.year_from is not None
    assert latest.year_from < 2099


def test_calorific_method_is_unchanged_and_other_fuels_ignore_the_method():
    sub = catalog_coefficients(electricity_method="coal_substitution")
    cal = catalog_coefficients()
    assert cal("electricity", "kWh", 2024).tce_per_unit == 0.1229 / 1000
    assert sub("natural_gas", "m3", 2024).tce_per_unit == cal("natural_gas", "m3", 2024).tce_per_unit
    assert sub("electricity", "kWh", 2024).tce_per_unit > cal("electricity", "kWh", 2024).tce_per_unit
