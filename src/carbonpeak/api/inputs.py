"""Validated input types of the service (form fields and JSON bodies).

One definition per kind of value, used by every endpoint: text without control characters and
with a length limit, identifiers by pattern, and reporting periods by an exact format per
submission kind.  (Files are validated by their importers; see ``carbonpeak.io``.)
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from carbonpeak.errors import Problem, ValidationError
from carbonpeak.i18n import Msg, declare
from carbonpeak.model.ids import ENTERPRISE_ID_PATTERN

declare({"io.form.kind": {"kinds": str}, "io.form.period": {"format": str, "value": str}})

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _no_control(v: str) -> str:
    if _CONTROL.search(v):
        raise ValueError("control characters are not allowed")
    return v


#: Free text (comments, details): 1-2000 characters, no control characters.
SafeText = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(_no_control)]
#: An enterprise id: a unified social credit code or a registry owner id (the pattern is shared
#: with the store's user functions and so with the CLI: :mod:`carbonpeak.model.ids`).
EnterpriseId = Annotated[str, StringConstraints(pattern=ENTERPRISE_ID_PATTERN)]
#: A city code of the regions catalog (GD-XX).
CityCode = Annotated[str, StringConstraints(pattern=r"^GD-[A-Z]{2,3}$")]

#: The exact period format of each submission kind (no '/', '%', '_' or anything but the format).
PERIOD_FORMATS: dict[str, tuple[re.Pattern[str], str]] = {
    "readings": (re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$"), "YYYY-MM (a month, e.g. 2025-03)"),
    "output": (re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$"), "YYYY-MM (a month, e.g. 2025-03)"),
}


def check_period(kind: str, period: str) -> str:
    """``period`` if it has the exact format of ``kind``; else a 422 naming the field."""
    fmt = PERIOD_FORMATS.get(kind)
    if fmt is None:
        raise ValidationError([Problem("<form>", None, "kind", Msg("io.form.kind", kinds=", ".join(PERIOD_FORMATS)))])
    if not fmt[0].fullmatch(period):
        raise ValidationError(
            [Problem("<form>", None, "period", Msg("io.form.period", format=fmt[1], value=repr(period[:40])))]
        )
    return period
