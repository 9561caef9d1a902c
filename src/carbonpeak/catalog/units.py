"""The unit registry: pint, extended with the units of Chinese energy and carbon statistics.

Sources of the definitions:

* ``tce`` (吨标准煤): 1 kgce = 7000 kcal(IT) = 29 307.6 kJ, GB/T 2589-2020 §3.2 / 附录 A
  ("1 千克标准煤的低位发热量等于 29 307 千焦"; we use 7000 kcal × 4.1868 kJ/kcal exactly).
* ``mu`` (亩): 1 mu = 10 000/15 m² (666.67 m²), the statutory market unit (国务院 1984
  《关于在我国统一实行法定计量单位的命令》, 市制 conversion table).
* ``wan`` (万) = 10^4 and ``yi`` (亿) = 10^8 are the Chinese counting prefixes used in the
  statistical yearbooks (万吨, 亿千瓦时, 万千瓦, 万元, 亿元).
* ``CO2e`` is a *base* dimension of its own: a tonne of CH4 is not a tonne of CO2e until a GWP
  set is chosen, so pint refuses to convert between them and the accounting code must apply a
  GWP explicitly.

Strings such as ``"10^4 t"``, ``"万吨"``, ``"亿kWh"``, ``"10^4 Nm3"`` and ``"tCO2e"`` are
understood by :func:`parse_unit`.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pint

from carbonpeak.errors import UnitError

_DEFINITIONS = """
# --- energy --------------------------------------------------------------------------
kgce = 7000 * international_calorie * 1000 = kgce
tce = 1000 * kgce
# --- carbon-dioxide equivalent (its own dimension: a GWP is needed to reach it) ---------
CO2e = [co2e]
tCO2e = tonne * CO2e
ktCO2e = 1000 * tCO2e
MtCO2e = 1e6 * tCO2e
# --- gases (as masses; kept as mass so that t CH4 and t CO2 convert like any mass) -------
tCO2 = tonne
MtCO2 = 1e6 * tonne
tC = tonne
# --- Chinese counting prefixes --------------------------------------------------------
wan = 1e4
yi = 1e8
# --- money ----------------------------------------------------------------------------
yuan = [currency] = CNY
# --- area and volume ----------------------------------------------------------------
mu = 10000 / 15 * meter ** 2
Nm3 = meter ** 3
# --- counts -----------------------------------------------------------------------------
head = [count]
"""

# Spellings that people type, mapped to pint expressions.  Longest first matters only for
# the regular-expression alternation below, which is built from this table.
_ALIASES: dict[str, str] = {
    "万吨标准煤": "1e4 * tce",
    "万吨标煤": "1e4 * tce",
    "吨标准煤": "tce",
    "吨标煤": "tce",
    "万吨CO2e": "1e4 * tCO2e",
    "万吨二氧化碳当量": "1e4 * tCO2e",
    "万吨二氧化碳": "1e4 * tonne",
    "亿千瓦时": "1e8 * kWh",
    "亿度": "1e8 * kWh",
    "万千瓦时": "1e4 * kWh",
    "万千瓦": "1e4 * kW",
    "万立方米": "1e4 * m**3",
    "亿立方米": "1e8 * m**3",
    "万吨": "1e4 * tonne",
    "万元": "1e4 * yuan",
    "亿元": "1e8 * yuan",
    "万人": "1e4 * person",
    "万亩": "1e4 * mu",
    "万头": "1e4 * head",
    "万只": "1e4 * head",
    "万公顷": "1e4 * hectare",
    "公顷": "hectare",
    "千瓦时": "kWh",
    "立方米": "m**3",
    "吨": "tonne",
    "亩": "mu",
    "元": "yuan",
    "头": "head",
    "只": "head",
    "人": "person",
}


def _cache_folder() -> str | None:
    """Where pint keeps its parsed definitions between runs (saves ~0.3 s a process).

    ``CARBONPEAK_CACHE_DIR`` (``off`` disables), else the user's cache directory
    (``platformdirs``); ``None`` (parse every time) where neither can be written.
    """
    import os

    env = os.environ.get("CARBONPEAK_CACHE_DIR")
    if env is not None and env.strip().lower() in ("", "off", "none", "0"):
        return None
    try:
        if env:
            base = os.path.join(env, "pint")
        else:
            import platformdirs

            base = os.path.join(platformdirs.user_cache_dir("carbonpeak"), "pint")
        os.makedirs(base, exist_ok=True)
        if not os.access(base, os.W_OK):
            return None
        return base
    except (OSError, ImportError):
        return None


def _new_registry(cache_folder: str | None) -> pint.UnitRegistry:
    return pint.UnitRegistry(autoconvert_offset_to_baseunit=True, cache_folder=cache_folder)


@lru_cache(maxsize=1)
def get_registry() -> pint.UnitRegistry:
    """Return the process-wide registry (built once; pint's default definitions are read from a
    parse cache when one can be kept, see :func:`_cache_folder`)."""
    folder = _cache_folder()
    try:
        ureg = _new_registry(folder)
    except Exception:  # a corrupt or unreadable cache: parse the definitions again
        if folder is None:
            raise
        ureg = _new_registry(None)
    for line in _DEFINITIONS.strip().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            ureg.define(line)
    ureg.define("person = [population]")
    ureg.define("percent_share = 0.01 = pct")
    ureg.formatter.default_format = "~"
    return ureg


ureg = get_registry()
Q_ = ureg.Quantity

_ALIAS_RE = re.compile("|".join(sorted((re.escape(k) for k in _ALIASES), key=len, reverse=True)))
_POWER_OF_TEN_RE = re.compile(r"^\s*10\s*(?:\^|\*\*)\s*(-?\d+)\s*\*?\s*")
_CN_PREFIX_RE = re.compile(r"^\s*([万亿])\s*(?=[A-Za-z(])")
# A gas named after a mass unit ("t CH4", "kg N2O", "Gg HFC-23") says what the mass is of;
# the unit is the mass unit.  "tCO2e" is not a gas suffix: CO2e is a dimension of its own.
_GAS_SUFFIX_RE = re.compile(r"(?<=[A-Za-z])\s*(?:CO2(?!e)|CH4|N2O|SF6|NF3|HFC-?[\w-]*|PFC-?[\w-]*)\s*$")


def _normalise(text: str) -> str:
    s = text.strip()
    s = s.replace("³", "**3").replace("²", "**2").replace("·", "*").replace("×", "*")
    s = _POWER_OF_TEN_RE.sub(lambda m: f"1e{m.group(1)} * ", s)
    s = _CN_PREFIX_RE.sub(lambda m: "1e4 * " if m.group(1) == "万" else "1e8 * ", s)
    if not re.search(r"\b[tkMG]?tCO2\b", s):
        s = _GAS_SUFFIX_RE.sub("", s)
    s = _ALIAS_RE.sub(lambda m: f"({_ALIASES[m.group(0)]})", s)
    s = re.sub(r"\bm3\b", "m**3", s)
    s = re.sub(r"\bm2\b", "m**2", s)
    s = re.sub(r"\bNm3\b", "Nm3", s)
    return s


@lru_cache(maxsize=4096)
def parse_unit(text: str) -> pint.Quantity:
    """Parse a unit string into a pint Quantity of magnitude = scale (e.g. ``"10^4 t"``).

    Returning a Quantity rather than a Unit keeps the scale of Chinese prefixes
    (``万吨`` is ``10000 t``).  Raises :class:`UnitError` with the offending text.
    """
    if not isinstance(text, str) or not text.strip():
        raise UnitError("empty unit")
    expr = _normalise(text)
    try:
        q = ureg.parse_expression(expr)
    except (pint.errors.UndefinedUnitError, pint.errors.DefinitionSyntaxError) as exc:
        raise UnitError(f"unknown unit '{text}'") from exc
    except Exception as exc:  # pint raises assorted tokenizer errors
        raise UnitError(f"cannot read unit '{text}': {exc}") from exc
    if not isinstance(q, pint.Quantity):
        q = Q_(float(q), ureg.dimensionless)
    return q


def conversion_factor(from_unit: str, to_unit: str) -> float:
    """Multiplier taking a magnitude in ``from_unit`` to ``to_unit``.

    Raises :class:`UnitError` when the dimensions differ (e.g. ``t`` to ``GJ``).
    """
    src = parse_unit(from_unit)
    dst = parse_unit(to_unit)
    try:
        return float((src / dst).to(ureg.dimensionless).magnitude)
    except pint.errors.DimensionalityError as exc:
        raise UnitError(
            f"cannot convert '{from_unit}' ({src.dimensionality}) to '{to_unit}' ({dst.dimensionality})"
        ) from exc


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """Convert a magnitude between two unit strings."""
    return value * conversion_factor(from_unit, to_unit)


def dimensionality(unit: str) -> str:
    """The pint dimensionality of a unit string, as text (for error messages and checks)."""
    return str(parse_unit(unit).dimensionality)


def same_dimension(a: str, b: str) -> bool:
    """Whether two unit strings measure the same kind of quantity."""
    return parse_unit(a).dimensionality == parse_unit(b).dimensionality
