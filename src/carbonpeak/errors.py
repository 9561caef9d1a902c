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
    message: str  # a carbonpeak.i18n.Msg (message key + parameters; its str is English) or plain text

    def __str__(self) -> str:
        return self.render("en")

    def render(self, lang: str = "en") -> str:
        """``file, row N, field 'x': message`` in ``lang`` (zh: ``file 第N行 字段“x”:…``)."""
        from carbonpeak.i18n import t

        where = self.file
        if self.row is not None:
            where += t("problem.row", lang, row=self.row)
        if self.field:
            where += t("problem.field", lang, field=self.field)
        return t("problem.where", lang, where=where, message=self.text(lang))

    def text(self, lang: str = "en") -> str:
        """The message alone in ``lang`` (a plain-text message as it is)."""
        render = getattr(self.message, "render", None)
        return str(render(lang)) if render is not None else str(self.message)

    def to_dict(self, lang: str = "en") -> dict[str, object]:
        """``file``, ``row``, ``field``, ``message`` in ``lang``, and ``message_key`` and ``params``
        (``None`` and ``{}`` for a plain-text message) for machines."""
        to = getattr(self.message, "to_dict", None)
        key = to() if to is not None else {"message_key": None, "params": {}}
        return {"file": self.file, "row": self.row, "field": self.field, "message": self.text(lang), **key}


@dataclass
class ValidationError(CarbonpeakError):
    """An input failed validation. Nothing from it was stored."""

    problems: list[Problem] = field(default_factory=list)
    max_shown: int = 20

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        return self.render("en")

    def headline(self, lang: str = "en") -> str:
        from carbonpeak.i18n import t

        n = len(self.problems)
        return t("problem.head_one" if n == 1 else "problem.head", lang, n=n)

    def render(self, lang: str = "en") -> str:
        """The error as the CLI prints it, in ``lang``: the count, then each problem (file, row,
        field, message), at most ``max_shown``."""
        from carbonpeak.i18n import t

        n = len(self.problems)
        shown = "\n".join(f"  - {p.render(lang)}" for p in self.problems[: self.max_shown])
        more = "\n  " + t("problem.more", lang, n=n - self.max_shown) if n > self.max_shown else ""
        return f"{self.headline(lang)}:\n{shown}{more}"

    def to_dict(self, lang: str = "en") -> dict[str, object]:
        """The API's 422 answer: messages in ``lang`` with their ``message_key`` and ``params``."""
        return {
            "error": "validation",
            "message": self.headline(lang),
            "problems": [p.to_dict(lang) for p in self.problems],
        }
