"""Issue 10 §4: a fuel's CO2 factor is computed in one place (catalog.fuel_co2).

Reference: NDRC 省级温室气体清单编制指南(试行) 2011 / IPCC 2006 Vol 2 Eq 2.1, CO2 = NCV × CC × OF × 44/12.
The scenario baseline (catalog/data/scenarios/baseline.yaml) states the same computation for raw
coal: 26.37 tC/TJ × 0.94 × 44/12 × 29.3076 GJ/tce = 2.6637 tCO2/tce.
"""

from __future__ import annotations

import pytest

from carbonpeak.catalog.factors import FactorSet
from carbonpeak.catalog.fuel_co2 import CO2_PER_C, fuel_co2_factor
from carbonpeak.errors import CatalogError


def _hand(fs, item, per_gj):
    cc = fs.get(item, "carbon_content").to("tC/GJ")
    ox = fs.get(item, "oxidation").to("1")
    return per_gj * cc * ox * 44 / 12


@pytest.mark.parametrize("item", ["raw_coal", "crude_oil", "natural_gas", "diesel_oil"])
def test_factor_per_energy_is_carbon_content_times_oxidation(item):
    fs = FactorSet.default()
    got, src = fuel_co2_factor(fs, item, "GJ")
    assert got == pytest.approx(_hand(fs, item, 1.0), rel=1e-9)
    assert src
    tce, _ = fuel_co2_factor(fs, item, "tce")
    assert tce == pytest.approx(got * 29.3076, rel=1e-6)


def test_factor_per_tonne_goes_through_the_ncv():
    fs = FactorSet.default()
    per_t, _ = fuel_co2_factor(fs, "raw_coal", "t")
    ncv_gj_per_t = fs.get("raw_coal", "ncv").to("GJ/t")
    assert per_t == pytest.approx(_hand(fs, "raw_coal", ncv_gj_per_t), rel=1e-9)


def test_the_three_users_agree():
    """Monitoring (per meter unit), scenarios (per tce) and accounting (the constant) use this module."""
    from carbonpeak.accounting.methods import energy
    from carbonpeak.monitoring.catalog import _fuel_co2
    from carbonpeak.scenarios.model import catalog_fuel_factors

    fs = FactorSet.default()
    assert energy.CO2_PER_C is CO2_PER_C
    coal_tce = catalog_fuel_factors()["coal"][0]
    assert coal_tce == pytest.approx(fuel_co2_factor(fs, "raw_coal", "tce")[0], rel=1e-12)
    if fs.lookup("natural_gas", "ef_co2") is None:
        mon, _ = _fuel_co2(fs, "natural_gas", "GJ", 2020)
        assert mon == pytest.approx(fuel_co2_factor(fs, "natural_gas", "GJ", 2020)[0], rel=1e-12)


def test_an_item_without_carbon_content_is_an_error():
    with pytest.raises(CatalogError):
        fuel_co2_factor(FactorSet.default(), "electricity", "MWh")
