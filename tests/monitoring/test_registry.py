"""Registry files: unified social credit codes, meters, all-or-nothing validation."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from carbonpeak.errors import ValidationError
from carbonpeak.monitoring.registry import USCC_CHARS, detect_kind, uscc_check_char, uscc_valid, validate_kind


def test_uscc_reference_example():
    """GB 32100-2015 example code 91350100M000100Y43 (quoted in the standard's annex and in
    public explanations of the check-digit algorithm): check character 3."""
    assert uscc_check_char("91350100M000100Y4") == "3"
    assert uscc_valid("91350100M000100Y43")
    assert not uscc_valid("91350100M000100Y44")
    assert not uscc_valid("91350100M000100Y4")  # 17 characters
    assert not uscc_valid("91350100M000100I43")  # I is not in the character set


@given(st.text(alphabet=USCC_CHARS, min_size=17, max_size=17), st.integers(0, 16), st.integers(1, 30))
def test_uscc_single_substitution_is_detected(body, pos, shift):
    code = body + uscc_check_char(body)
    assert uscc_valid(code)
    changed = list(code)
    changed[pos] = USCC_CHARS[(USCC_CHARS.index(code[pos]) + shift) % 31]
    assert not uscc_valid("".join(changed))  # weights are invertible mod 31, so every single change is caught


def _units(**over):
    row = {"unit_id": "U1", "name": "x", "uscc": "91350100M000100Y43", "industry_code": "3011", "city": "GD-GZ",
           "kind": "cement", "hub_node": "no"}  # fmt: skip
    row.update(over)
    df = pd.DataFrame([row])
    df["__row__"] = 2
    df["__file__"] = "units.csv"
    return df


def test_units_validation_names_file_row_field():
    with pytest.raises(ValidationError) as ei:
        validate_kind(_units(uscc="91350100M000100Y44", city="GD-XX"), "units")
    fields = {(p.file, p.row, p.field) for p in ei.value.problems}
    assert ("units.csv", 2, "uscc") in fields
    assert ("units.csv", 2, "city") in fields


def test_meters_parent_must_exist_and_kind_detected():
    df = pd.DataFrame(
        [
            {"meter_id": "M1", "unit_id": "U1", "energy_type": "electricity", "point": "site", "kind": "interval", "unit": "kWh"},
            {"meter_id": "M2", "unit_id": "U1", "energy_type": "electricity", "point": "it", "kind": "interval", "unit": "kWh",
             "parent_meter_id": "M9"},
        ]
    )  # fmt: skip
    assert detect_kind(df.columns) == "meters"
    with pytest.raises(ValidationError) as ei:
        validate_kind(df, "meters")
    assert [(p.row, p.field) for p in ei.value.problems] == [(3, "parent_meter_id")]


def test_unknown_file_kind():
    with pytest.raises(ValidationError):
        detect_kind(["a", "b"], "x.csv")
