"""carbonpeak.catalog.standard_coal: GB/T 2589-2020 coefficients, electricity method selectable."""

from __future__ import annotations

import pytest

from carbonpeak.catalog.standard_coal import standard_coal_coefficient
from carbonpeak.catalog.units import convert
from carbonpeak.errors import CatalogError


def test_calorific_equivalent_of_electricity():
    """GB/T 2589-2020: 1 kWh = 3600 kJ; 1 kgce = 29 307.6 kJ -> 0.1229 kgce/kWh."""
    fv = standard_coal_coefficient("electricity", 2020)
    assert fv.value == 0.1229
    assert fv.value == pytest.approx(3600 / 29307.6, abs=1e-4)


def test_coal_substitution_by_year_and_fallback():
    fv = standard_coal_coefficient("electricity", 2015, method="coal_substitution")
    assert fv.year_from == 2015
    assert fv.to("kgce/kWh") == pytest.approx(0.315)
    later = standard_coal_coefficient("electricity", 2024, method="coal_substitution")
    assert later.year_from == 2022
    assert later.note.startswith("year 2024 not published; using 2022")
    # substitution gives ~2.5x the calorific equivalent (thermal efficiency ~40 %)
    assert 2.3 < later.value / standard_coal_coefficient("electricity").value < 2.6


def test_other_fuels_ignore_the_method():
    a = standard_coal_coefficient("raw_coal", 2020, method="coal_substitution")
    assert a.value == 0.7143
    assert convert(1, "t", "kg") * a.value / 1000 == pytest.approx(0.7143)  # tce per t


def test_bad_method_or_missing_year():
    with pytest.raises(CatalogError):
        standard_coal_coefficient("raw_coal", method="equivalent")
    with pytest.raises(CatalogError):
        standard_coal_coefficient("electricity", None, method="coal_substitution")
