"""The monitoring registry: what a units, meters, output, budgets, reported or readings file holds.

Each file kind has a :class:`~carbonpeak.io.TableSpec`; :func:`validate_kind` types a frame
read by :func:`carbonpeak.io.read_table` and raises :class:`ValidationError` naming file, row and
field for every bad cell.  :func:`detect_kind` recognises a file by its columns.

The unified social credit code (统一社会信用代码) is checked with the GB 32100-2015 check
digit: 18 characters from the 31-character set ``0-9 A-H J-N P-R T U W-Y``, weights
``3^(i-1) mod 31`` for positions 1-17, check character = ``31 - (Σ c_i·w_i mod 31)`` (31 → 0).
"""

from __future__ import annotations

import pandas as pd

from carbonpeak.errors import Problem, ValidationError
from carbonpeak.i18n import Msg, declare
from carbonpeak.io import Column, TableSpec, validate_table

declare({
    "io.mon.industry": {}, "io.mon.indicator": {}, "io.hint.city": {}, "io.mon.unknown_file": {"expected": str},
    "io.mon.unknown_kind": {"kind": str}, "io.mon.no_offset": {"value": str}, "io.mon.period_end": {},
    "io.mon.unknown_parent": {"meter": str}, "io.unknown_unit": {}, "io.mon.uscc": {},
})

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28

REGION_CODES = (
    "GD-GZ", "GD-SZ", "GD-ZH", "GD-ST", "GD-FS", "GD-SG", "GD-HY", "GD-MZ", "GD-HZ", "GD-SW", "GD-DG",
    "GD-ZS", "GD-JM", "GD-YJ", "GD-ZJ", "GD-MM", "GD-ZQ", "GD-QY", "GD-CZ", "GD-JY", "GD-YF",
)  # fmt: skip
UNIT_KINDS = (
    "data_centre", "steel", "cement", "refining", "ethylene", "ceramics", "paper", "aluminium",
    "chemicals", "textiles", "power", "other",
)  # fmt: skip
ENERGY_TYPES = (
    "electricity", "raw_coal", "natural_gas", "diesel_oil", "fuel_oil", "heat", "steam", "lpg", "coke",
)  # fmt: skip
POINTS = ("site", "it", "cooling", "process", "product_line", "lighting", "other")
DC_BUILD = ("new", "existing")  # 新建 / 既有 (发改高技〔2021〕1742号 binds new large and hyperscale sites)
DC_SIZES = ("edge", "small", "medium", "large", "hyperscale")  # edge: <= 100 standard racks (outside GB 40879)
FREQUENCIES = ("day", "month", "year")
#: platform indicators: total_energy (综合能源消费总量, tce), gross_output (工业总产值), value_added
#: (工业增加值), energy:<energy type> (日/月消耗量), output:<product> (产量), sec:<product> (单位产品综合能耗)
INDICATOR_PATTERN = r"(?:total_energy|gross_output|value_added|(?:energy|output|sec):[a-z0-9_]+)"
METER_KINDS = ("cumulative", "interval")
LEVELS = ("none", "provincial", "national")


def uscc_check_char(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters of a code."""
    total = 0
    for ch, w in zip(first17, USCC_WEIGHTS, strict=True):
        idx = USCC_CHARS.find(ch)
        if idx < 0:
            raise ValueError(f"character '{ch}' is not allowed in a unified social credit code")
        total += idx * w
    return USCC_CHARS[(31 - total % 31) % 31]


def uscc_valid(code: str) -> bool:
    """Whether ``code`` is an 18-character code with a correct GB 32100-2015 check character."""
    code = str(code).strip().upper()
    if len(code) != 18 or any(c not in USCC_CHARS for c in code):
        return False
    return uscc_check_char(code[:17]) == code[17]


def _uscc_check(s: pd.Series) -> tuple[pd.Series, str]:
    return ~s.map(uscc_valid), Msg("io.mon.uscc")


def _industry_check(s: pd.Series) -> tuple[pd.Series, str]:
    ok = s.astype(str).str.fullmatch(r"[A-T]?\d{2,4}")
    return ~ok, Msg("io.mon.industry")


def _known_unit(s: pd.Series) -> tuple[pd.Series, str]:
    from carbonpeak.catalog.units import parse_unit
    from carbonpeak.errors import UnitError

    def ok(u: str) -> bool:
        try:
            parse_unit(u)
        except UnitError:
            return False
        return True

    return ~s.map(ok), Msg("io.unknown_unit")


UNITS_SPEC = TableSpec(
    "units",
    (
        Column("unit_id"),
        Column("name"),
        Column("uscc", check=_uscc_check),
        Column("industry_code", check=_industry_check),
        Column("city", vocab="region", allowed=REGION_CODES, allowed_hint=Msg("io.hint.city")),
        Column("kind", allowed=UNIT_KINDS),
        Column("hub_node", "bool", required=False, default=False),
        Column("registered_level", required=False, allowed=LEVELS, default="none"),
        Column("synthetic", "bool", required=False, default=False),
        Column("dc_build", required=False, allowed=DC_BUILD, default=""),
        Column("dc_size", required=False, allowed=DC_SIZES, default=""),
        Column("altitude_m", "float", required=False, min_value=-500, max_value=9000),
        Column("pressure_pa", "float", required=False, min_value=30000, max_value=110000),
    ),
    unique=("unit_id",),
)

METERS_SPEC = TableSpec(
    "meters",
    (
        Column("meter_id"),
        Column("unit_id"),
        Column("energy_type", allowed=ENERGY_TYPES),
        Column("point", allowed=POINTS),
        Column("kind", allowed=METER_KINDS),
        Column("unit", check=_known_unit),
        Column("interval_minutes", "int", required=False, default=15, min_value=1, max_value=1440),
        Column("parent_meter_id", required=False, default=""),
        Column("product", required=False, default=""),
        Column("rollover", "float", required=False, min_value=0),
        Column("max_interval_value", "float", required=False, min_value=0),
        Column("calibration_valid_until", "timestamp", required=False),  # end of the verification/calibration period
    ),
    unique=("meter_id",),
)

OUTPUT_SPEC = TableSpec(
    "output",
    (
        Column("unit_id"),
        Column("product"),
        Column("period_start", "timestamp"),
        Column("period_end", "timestamp"),
        Column("quantity", "float", nonnegative=True),
        Column("unit", check=_known_unit),
        # data for the corrections the limit standards prescribe (checks/products.py, corrections.yaml)
        Column("clinker_ratio", "float", required=False, min_value=0, max_value=100),
        Column("feed_grade", "float", required=False, min_value=0, max_value=100),
        Column("rare_earth_ore_pct", "float", required=False, min_value=0, max_value=100),
        Column("vti_magnetite_pct", "float", required=False, min_value=0, max_value=100),
        Column("laterite_nickel_pct", "float", required=False, min_value=0, max_value=100),
        Column("thickness_factor", "float", required=False, min_value=0.5, max_value=3),
        Column("nonhydro_renewable_share", "float", required=False, min_value=0, max_value=1),
    ),
    unique=("unit_id", "product", "period_start", "period_end"),
)

BUDGETS_SPEC = TableSpec(
    "budgets",
    (Column("unit_id"), Column("year", "year"), Column("budget_tce", "float", nonnegative=True)),
    unique=("unit_id", "year"),
)

REPORTED_SPEC = TableSpec(
    "reported",
    (
        Column("unit_id"),
        Column("period_start", "timestamp"),
        Column("period_end", "timestamp"),
        Column("energy_tce", "float", nonnegative=True),
    ),
    unique=("unit_id", "period_start", "period_end"),
)

UPLOADS_SPEC = TableSpec(
    "uploads",
    (
        Column("unit_id"),
        Column("indicator", check=lambda s: (~s.astype(str).str.fullmatch(INDICATOR_PATTERN),
                                             Msg("io.mon.indicator"))),
        Column("frequency", allowed=FREQUENCIES),
        Column("period_start", "timestamp"),  # the statistic period's start as uploaded (time label)
        Column("value", "float"),
        Column("unit", check=_known_unit),
        Column("uploaded_at", "timestamp", required=False),
    ),
    unique=("unit_id", "indicator", "frequency", "period_start"),
)

READINGS_SPEC = TableSpec(
    "readings",
    (Column("meter_id"), Column("ts", "timestamp"), Column("value", "float")),
    allow_extra=True,  # a Parquet lake adds the hive partition column `date`
)

SPECS: dict[str, TableSpec] = {
    "units": UNITS_SPEC,
    "meters": METERS_SPEC,
    "output": OUTPUT_SPEC,
    "budgets": BUDGETS_SPEC,
    "reported": REPORTED_SPEC,
    "uploads": UPLOADS_SPEC,
    "readings": READINGS_SPEC,
}
TABLES = {
    "units": "mon_units",
    "meters": "mon_meters",
    "output": "mon_output",
    "budgets": "mon_budgets",
    "reported": "mon_reported",
    "uploads": "mon_uploads",
}

# the columns that identify each kind of file (checked in this order)
_SIGNATURES: tuple[tuple[str, frozenset[str]], ...] = (
    ("meters", frozenset({"meter_id", "unit_id", "energy_type", "point", "kind", "unit"})),
    ("readings", frozenset({"meter_id", "ts", "value"})),
    ("units", frozenset({"unit_id", "uscc", "industry_code", "city"})),
    ("uploads", frozenset({"unit_id", "indicator", "frequency", "period_start", "value"})),
    ("output", frozenset({"unit_id", "product", "quantity"})),
    ("budgets", frozenset({"unit_id", "year", "budget_tce"})),
    ("reported", frozenset({"unit_id", "energy_tce"})),
)


def detect_kind(columns: list[str] | pd.Index, file: str = "<data>") -> str:
    """Which registry file a table is, from its column names."""
    cols = {str(c).strip().lower() for c in columns}
    for kind, needed in _SIGNATURES:
        if needed <= cols:
            return kind
    raise ValidationError(
        [
            Problem(
                file,
                None,
                None,
                Msg("io.mon.unknown_file", expected="; ".join(f"{k} ({', '.join(sorted(c))})" for k, c in _SIGNATURES)),
            )
        ]
    )


def _dates(df: pd.DataFrame) -> pd.DataFrame:
    for c in ("period_start", "period_end"):
        if c in df.columns:
            df[c] = pd.to_datetime(df[c], utc=True).dt.tz_convert("Asia/Shanghai").dt.date
    return df


def validate_kind(df: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Validate a frame as registry file ``kind`` and return it typed (dates as ``datetime.date``)."""
    if kind not in SPECS:
        raise ValidationError([Problem("<data>", None, None, Msg("io.mon.unknown_kind", kind=str(kind)))])
    offset_problems: list[Problem] = []
    for col in {"readings": ("ts",), "uploads": ("period_start", "uploaded_at")}.get(kind, ()):
        if col not in df.columns or pd.api.types.is_datetime64_any_dtype(df[col]):
            continue
        txt = df[col].astype(str).str.strip()
        parses = pd.to_datetime(txt, errors="coerce", utc=True, format="ISO8601").notna()
        naive = parses & ~txt.str.contains(r"(?:Z|[+-]\d{2}(?::?\d{2})?)$", regex=True)
        rows = df.loc[naive]
        files = rows["__file__"] if "__file__" in rows else pd.Series("<data>", index=rows.index)
        nums = rows["__row__"] if "__row__" in rows else pd.Series(rows.index + 2, index=rows.index)
        offset_problems += [
            Problem(str(f), int(r), col, Msg("io.mon.no_offset", value=str(v)))
            for f, r, v in zip(files, nums, rows[col], strict=True)
        ][:1000]
    try:
        out = validate_table(df, SPECS[kind])
    except ValidationError as exc:
        raise ValidationError(sorted(offset_problems + exc.problems, key=lambda p: (p.file, p.row or 0))) from None
    if offset_problems:
        raise ValidationError(offset_problems)
    if kind in ("output", "reported"):
        problems = [
            Problem(str(f), int(r), "period_end", Msg("io.mon.period_end"))
            for f, r, a, b in zip(
                out["__file__"], out["__row__"], out["period_start"], out["period_end"], strict=True
            )
            if b < a
        ]
        if problems:
            raise ValidationError(problems)
        out = _dates(out)
    if kind == "units":
        out["uscc"] = out["uscc"].str.upper()
        for c in ("dc_build", "dc_size"):
            out[c] = out[c].fillna("").astype(str)
    if kind == "uploads":
        for c in ("period_start", "uploaded_at"):
            out[c] = pd.to_datetime(out[c], utc=True).dt.tz_convert("Asia/Shanghai")
    if kind == "meters":
        cal = pd.to_datetime(out["calibration_valid_until"], utc=True)
        out["calibration_valid_until"] = cal.dt.tz_convert("Asia/Shanghai").dt.date.where(cal.notna(), None)
        out["parent_meter_id"] = out["parent_meter_id"].fillna("").astype(str)
        out["product"] = out["product"].fillna("").astype(str)
        problems = []
        ids = set(out["meter_id"])
        for f, r, p in zip(out["__file__"], out["__row__"], out["parent_meter_id"], strict=True):
            if p and p not in ids:
                problems.append(Problem(str(f), int(r), "parent_meter_id", Msg("io.mon.unknown_parent", meter=str(p))))
        if problems:
            raise ValidationError(problems)
    return out
