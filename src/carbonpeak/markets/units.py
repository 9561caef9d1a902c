"""Quantities for the markets engines: tCO2, MWh, GJ, tce through the shared pint registry.

Every engine accepts a plain number (read in the unit the function documents) or a pint Quantity
(converted); results are plain floats in the documented unit (tCO2 for allowances).
"""

from __future__ import annotations

import math

import pint

from carbonpeak.catalog.units import Q_, parse_unit, ureg
from carbonpeak.errors import UnitError

#: A number in the documented unit, a pint Quantity, or a string such as ``"12 MWh"``.
QuantityLike = float | int | str | pint.Quantity

TCO2 = "tCO2"


def to_quantity(x: QuantityLike, default_unit: str, what: str = "value") -> pint.Quantity:
    """``x`` as a Quantity; plain numbers are taken in ``default_unit``."""
    if isinstance(x, pint.Quantity):
        q = x
    elif isinstance(x, str):
        try:
            q = parse_unit(x) if any(c.isalpha() for c in x) else _num(float(x), default_unit)
        except ValueError as exc:
            raise UnitError(f"{what}: cannot read '{x}'") from exc
    elif isinstance(x, bool) or not isinstance(x, int | float):
        raise UnitError(f"{what}: expected a number or a quantity, got {x!r}")
    else:
        q = _num(float(x), default_unit)
    mag = float(q.magnitude)
    if math.isnan(mag) or math.isinf(mag):
        raise UnitError(f"{what}: not a finite number ({x!r})")
    return q


def _num(v: float, unit: str) -> pint.Quantity:
    u = parse_unit(unit)
    return Q_(v * float(u.magnitude), u.units)


def magnitude(x: QuantityLike, unit: str, what: str = "value") -> float:
    """``x`` in ``unit`` as a float (plain numbers are taken to be in ``unit`` already)."""
    q = to_quantity(x, unit, what)
    u = parse_unit(unit)
    try:
        return float(q.to(u.units).magnitude) / float(u.magnitude)
    except pint.errors.DimensionalityError as exc:
        raise UnitError(f"{what}: {q} cannot be expressed in {unit}") from exc


def tco2(x: QuantityLike, what: str = "emissions") -> float:
    """A mass of CO2 in tonnes (plain numbers are tCO2)."""
    return magnitude(x, TCO2, what)


def times_benchmark(output: QuantityLike, benchmark: pint.Quantity, what: str = "output") -> float:
    """``output × benchmark`` in tCO2.

    A plain-number ``output`` is read in the benchmark's denominator unit (``tCO2/MWh`` → MWh);
    a Quantity is converted, so 1 GWh × 0.877 tCO2/MWh = 877 tCO2.
    """
    if isinstance(output, pint.Quantity) or (isinstance(output, str) and any(c.isalpha() for c in output)):
        q = to_quantity(output, "1", what) * benchmark
    else:
        v = float(output)
        if math.isnan(v) or math.isinf(v):
            raise UnitError(f"{what}: not a finite number ({output!r})")
        num = {k: e for k, e in benchmark.unit_items() if float(e) > 0}  # type: ignore[arg-type]  # pint exponents are real
        unit = ureg.Unit("*".join(f"{k}**{e}" for k, e in num.items())) if num else ureg.dimensionless
        q = Q_(v * float(benchmark.magnitude), unit)
    try:
        return float(q.to(ureg.tonne).magnitude)
    except pint.errors.DimensionalityError as exc:
        raise UnitError(f"{what} × benchmark = {q}: not a mass of CO2 (check the output unit against the "
                        f"benchmark unit {benchmark.units})") from exc
