"""Uploaded files as the work sees them: the server's path (read this) and the client's name (show
this), and the errors of the work with every server path replaced by the client's name.

Shared by the API, which saves the uploads (:mod:`carbonpeak.api.uploads`), and the background
jobs that read them later, in any worker process (:mod:`carbonpeak.workflows.job_kinds`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from carbonpeak.errors import CarbonpeakError, Problem, ValidationError
from carbonpeak.i18n import map_text

#: The marker file written into each upload folder (the start-up sweep removes only folders holding it).
MARKER = ".carbonpeak-upload"


@dataclass(frozen=True)
class Upload:
    """One saved upload: the server's path (read this) and the client's name (show this)."""

    path: Path
    name: str


def _scrub(text: str, ups: list[Upload], folder: Path | None) -> str:
    for u in ups:
        text = text.replace(str(u.path), u.name).replace(u.path.as_posix(), u.name)
    if folder is not None:
        text = text.replace(str(folder), "<upload>")
    return text


def rename_problems(exc: CarbonpeakError, ups: list[Upload], folder: Path | None = None) -> CarbonpeakError:
    """``exc`` with every server path replaced by the client's file name."""
    by_path = {str(u.path): u.name for u in ups} | {u.path.name: u.name for u in ups}
    if isinstance(exc, ValidationError):
        return ValidationError(
            [
                Problem(
                    by_path.get(p.file, _scrub(p.file, ups, folder)),
                    p.row,
                    p.field,
                    map_text(p.message, lambda x: _scrub(x, ups, folder)),  # a message key stays one
                )
                for p in exc.problems
            ]
        )
    new = type(exc).__new__(type(exc))
    new.__dict__.update(exc.__dict__)
    new.args = tuple(_scrub(str(a), ups, folder) if isinstance(a, str) else a for a in exc.args)
    return new


@contextmanager
def client_names(ups: list[Upload], folder: Path | None = None) -> Iterator[None]:
    """Re-raise a :class:`CarbonpeakError` of the block with client names instead of server paths."""
    try:
        yield
    except CarbonpeakError as exc:
        raise rename_problems(exc, ups, folder) from None


__all__ = ["MARKER", "Upload", "client_names", "rename_problems"]
