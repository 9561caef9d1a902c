"""Landfills keep emitting after the last deposit, and OX depends on the site's cover (issue 13 §1).

* IPCC 2006 Vol 5 Ch 3 Eq 3.4/3.5: DDOCm_a(T) = DDOCm_d(T) + DDOCm_a(T−1)·e^−k and
  DDOCm_decomp(T) = DDOCm_a(T−1)·(1 − e^−k): with no deposit after year b the site still emits
  DDOCm_a(b)·e^−k(T−b−1)·(1 − e^−k)·F·16/12 in every later year T.  Results run to the last
  inventory year, not to the last deposit.
* IPCC 2006 Vol 5 Ch 3 Table 3.2: OX = 0.1 only for managed sites covered with CH4-oxidising
  material, 0 otherwise; the cover is site data (factor ``swds, oxidising_cover``, default 0).
"""

from __future__ import annotations

import math

import pytest
from tests.accounting.aw_helpers import act, ctx, factors, mass, ov

from carbonpeak.accounting.engine import compile_inventory
from carbonpeak.accounting.fod import fod_decomposed
from carbonpeak.accounting.methods.waste import solid_waste_disposal

DDOCM_PER_T = 0.15 * 0.5 * 1.0  # food DOC 0.15 × DOCf 0.5 × MCF 1.0 (packaged defaults)
K = 0.40
F = 0.5
W = 100_000.0
CLOSED = [(y, "GD", "4.A.1", "msw_food", W, "t") for y in range(2000, 2011)]  # closed after 2010


def _closed_form(year: int) -> float:
    acc = fod_decomposed([W * DDOCM_PER_T] * 11, K)[1][-1]  # left in the site at the end of 2010
    return acc * math.exp(-K * (year - 2011)) * (1 - math.exp(-K)) * F * 16 / 12


def test_closed_site_reports_every_year_up_to_the_requested_one() -> None:
    other = [(2020, "GD", "3.A.1", "swine", 1000.0, "head")]  # the inventory asks for 2020
    inv = compile_inventory(act(CLOSED + other))
    r = inv.results
    swds = r[r.category == "4.A.1"]
    assert sorted(swds.year.unique()) == list(range(2000, 2021))
    for y in (2011, 2015, 2020):
        assert mass(swds, year=y) == pytest.approx(_closed_form(y), rel=1e-12)
    # the explain says the year is after the last deposit
    ex = inv.explain("4.A.1", year=2015)["rows"][0]["explain"]
    assert ex["history"]["after_last_deposit"] is True
    assert ex["history"]["last_year"] == 2010


def test_fod_end_year_option() -> None:
    res = solid_waste_disposal(act(CLOSED), ctx(fod_end_year=2030))
    assert int(res.year.max()) == 2030
    assert mass(res, year=2030) == pytest.approx(_closed_form(2030), rel=1e-12)


def test_oxidation_only_for_covered_sites() -> None:
    rows = [(y, "GD", c, "msw_food", W, "t") for y in (2019, 2020) for c in ("4.A.1", "4.A.2")]
    bare = solid_waste_disposal(act(rows), ctx())
    covered = solid_waste_disposal(
        act(rows), ctx([ov("swds", "oxidising_cover", 1.0, "1", category="4.A")])
    )
    managed = mass(bare, category="4.A.1", year=2020)
    assert managed == pytest.approx(_generated_2020() * 1.0, rel=1e-12)  # OX 0 without cover
    # managed site: OX 0 without cover, 0.1 with it (Table 3.2)
    assert mass(covered, category="4.A.1", year=2020) == pytest.approx(managed * 0.9, rel=1e-12)
    # unmanaged site: OX 0 whatever the cover
    unmanaged = mass(bare, category="4.A.2", year=2020)
    assert unmanaged > 0
    assert mass(covered, category="4.A.2", year=2020) == pytest.approx(unmanaged, rel=1e-12)


def _generated_2020() -> float:
    """CH4 generated in 2020 by the 2019 deposit of a managed site (MCF 1): it starts decaying on
    1 January 2020 (6-month delay), so DDOCm_decomp(2020) = DDOCm_d(2019) x (1 - e^-k)."""
    return W * DDOCM_PER_T * (1 - math.exp(-K)) * F * 16 / 12


def test_default_cover_is_zero_and_cited() -> None:
    fs = factors()
    cover = fs.get("swds", "oxidising_cover", category="4.A.1")
    assert cover.value == 0
    assert "Table 3.2" in cover.source
    assert fs.get("swds", "ox_covered", category="4.A.1").value == 0.1
    assert fs.lookup("swds", "ox", category="4.A.1") is None  # no blanket OX 0.1 any more
