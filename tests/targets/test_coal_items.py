"""Issue 10 §4: the coal list of the assessment is the catalog's fuel group ``coal``.

It was a separate list in targets/assess.py that missed blast-furnace and converter gas and named
five ids the catalog does not have (coal, lignite, anthracite, bituminous_coal, gangue).
"""

from __future__ import annotations

import pytest

from carbonpeak.catalog.items import fuel_group, get_items
from carbonpeak.errors import CatalogError
from carbonpeak.targets.assess import coal_items


def test_coal_items_are_the_catalog_coal_group():
    items = get_items()
    assert coal_items() == {k for k, it in items.items() if it.group == "coal"}
    assert coal_items() <= set(items)  # no id the catalog lacks


def test_the_derived_coal_gases_count_as_coal():
    assert {"blast_furnace_gas", "converter_gas", "coke_oven_gas", "raw_coal"} <= coal_items()
    assert not {"natural_gas", "lng", "diesel_oil", "biomass"} & coal_items()


def test_an_unknown_group_is_an_error():
    with pytest.raises(CatalogError):
        fuel_group("no_such_group")
