"""The ``CarbonpeakError`` family.

Every error that a user can cause names where it happened (file, row, field) and says how to
fix it.  Interfaces (CLI, API) turn these into exit codes and HTTP 4xx answers; nothing else
should be raised for bad input.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class CarbonpeakError(Exception):
    """Base class of every error carbonpeak raises on purpose."""


class CatalogError(CarbonpeakError):
    """A reference-data file is malformed or an id is unknown."""


class UnitError(CarbonpeakError):
    """A unit is unknown or has the wrong dimension."""


class AuthError(CarbonpeakError):
    """Not logged in, a wrong password or an expired session (HTTP 401)."""


class PermissionDenied(CarbonpeakError):
    """The principal may not do this (HTTP 403)."""


class NotFound(CarbonpeakError):
    """The thing asked for does not exist, or is outside the principal's scope (HTTP 404)."""


class Conflict(CarbonpeakError):
    """The request contradicts the stored state, e.g. a duplicate name (HTTP 409)."""


class TooLarge(CarbonpeakError):
    """An upload or request is larger than the configured limit (HTTP 413)."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file.

    ``row`` is the 1-based line number in the file as a person sees it in an editor or
    spreadsheet (the header is row 1, the first data row is row 2).  ``None`` means the problem
    is about the file as a whole.
    """

    file: str
    row: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.field:
            where += f", field '{self.field}'"
        return f"{where}: {self.message}"


@dataclass
class ValidationError(CarbonpeakError):
    """An input failed validation. Nothing from it was stored."""

    problems: list[Problem] = field(default_factory=list)
    max_shown: int = 20

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} found; nothing was imported"
        shown = "\n".join(f"  - {p}" for p in self.problems[: self.max_shown])
        more = f"\n  ... and {n - self.max_shown} more" if n > self.max_shown else ""
        return f"{head}:\n{shown}{more}"

    def to_dict(self) -> dict[str, object]:
        return {
            "error": "validation",
            "message": f"{len(self.problems)} problem(s) found; nothing was imported",
            "problems": [
                {"file": p.file, "row": p.row, "field": p.field, "message": p.message} for p in self.problems
            ],
        }
