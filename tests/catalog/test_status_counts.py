"""`carbonpeak factors status`: the catalog rows counted by status (issue 13 §3)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from carbonpeak.catalog.factor_tools import status_counts
from carbonpeak.catalog.factors import FactorSet
from carbonpeak.catalog.loader import STATUSES
from carbonpeak.cli import app


def test_counts_add_up_to_every_default_row() -> None:
    data = status_counts(by_file=True)
    by_status = data["by_status"]
    assert set(by_status) == set(STATUSES)  # type: ignore[arg-type]
    n_factor_rows = len(FactorSet.default().rows())
    by_file = data["by_file"]
    factor_files = {f: c for f, c in by_file.items() if f.startswith("factors/")}  # type: ignore[union-attr]
    assert sum(sum(c.values()) for c in factor_files.values()) == n_factor_rows
    assert data["total"] == sum(by_status.values())  # type: ignore[union-attr]
    assert data["total"] == n_factor_rows + sum(by_file["gwp.csv"].values())  # type: ignore[index]


def test_verified_rows_quote_a_location() -> None:
    """A row marked verified names where the value was seen (a table, page, annex or section)."""
    markers = ("table", "tab.", "annex", "page", "p.", "§", "eq", "附", "表", "appendix", "ch ")
    bad = [
        (r.item, r.parameter, r.source)
        for r in FactorSet.default().rows()
        if r.status == "verified" and not any(m in r.source.lower() for m in markers)
    ]
    assert not bad, bad[:5]


def test_cli_status_json() -> None:
    res = CliRunner().invoke(app, ["factors", "status", "--format", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["total"] == status_counts()["total"]
    assert "factors/fuels.csv" in data["by_file"]


def test_counts_match_the_docs_table() -> None:
    """docs/factors.md §8 'after cat-verify' row and docs/validation.md "Catalog verification" (issue 13 §3).

    Before the cat-verify pass (key categories of the demo inventory, 2026-12-03): 127 verified, 9 derived,
    103 consistent, 679 unverified, 22 estimate. Change this together with the docs tables when a row's
    status changes.
    """
    data = status_counts()
    assert data["total"] == 940
    assert data["by_status"] == {
        "verified": 131,
        "derived": 9,
        "consistent": 287,
        "unverified": 491,
        "estimate": 22,
        "synthetic": 0,
    }
