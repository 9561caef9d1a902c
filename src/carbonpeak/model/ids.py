"""Identifier patterns shared by every entry point (service, dashboard, command line).

One definition per kind of identifier, on the lowest floor that needs it, so that the API's
input types (:mod:`carbonpeak.api.inputs`) and the store's user functions
(:mod:`carbonpeak.store.users`, used by the CLI) refuse exactly the same values.
"""

from __future__ import annotations

import re

from carbonpeak.errors import CarbonpeakError

#: An enterprise id: a unified social credit code or a registry owner id (letters, digits, ``_ . -``;
#: no comma, blank, quote or control character, so a list of ids can never smuggle a second id).
ENTERPRISE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_ENTERPRISE_ID = re.compile(ENTERPRISE_ID_PATTERN)


def is_enterprise_id(value: str) -> bool:
    return bool(_ENTERPRISE_ID.fullmatch(value))


def check_enterprise_ids(values: list[str] | tuple[str, ...], field: str = "assigned") -> list[str]:
    """``values`` if each is an enterprise id on its own; else an error naming the first bad one."""
    for v in values:
        if not isinstance(v, str) or not is_enterprise_id(v):
            shown = repr(v)[:70]
            raise CarbonpeakError(
                f"{field}: {shown} is not an enterprise id (1-64 letters, digits, _ . -, starting with a "
                "letter or digit; give one id per entry)"
            )
    return list(values)
