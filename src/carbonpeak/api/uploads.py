"""Uploaded files: saved under server-generated names in a server-owned folder, size-bounded.

The client's file name is kept for messages only (:attr:`Upload.name`, cleaned of control
characters and path parts); it never becomes a path, and never reaches SQL.  A file that an
engine reads (pandas, openpyxl, DuckDB's ``read_parquet``) is ``<folder>/<NNN><suffix>``, where
``folder`` is a fresh ``mkdtemp`` folder (mode 0700) under the ``upload_dir`` setting and the
suffix comes from an allow-list.

Two size limits (docs/operations.md):

* ``max_request_bytes``: the whole request body, enforced while the body streams in by
  :class:`BodyLimitMiddleware` (HTTP 413 without reading the rest);
* ``max_upload_bytes``: one file, enforced chunk by chunk while it is copied to disk.

A folder is removed when its request or job ends; one left behind by a killed process is
removed at the next start of the service by :func:`sweep_stale_uploads` (dedicated
``upload_dir`` only; folders this module made, recognised by name *and* marker file, older than
a grace period; symbolic links never followed).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi import UploadFile

from carbonpeak.errors import Problem, TooLarge, ValidationError
from carbonpeak.i18n import Msg, declare
from carbonpeak.workflows.uploads import MARKER, Upload, client_names, rename_problems  # noqa: F401 -- re-exported

declare({"io.upload_type": {"suffixes": str}})

#: Suffixes an upload may have (lower-case); anything else is refused before it is written.
UPLOAD_SUFFIXES = (".csv", ".xlsx", ".parquet")
CHUNK = 1 << 20
_NAME_MAX = 120
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class UploadTooLarge(TooLarge):
    """An upload (or the whole request) is larger than the configured limit (HTTP 413)."""


def display_name(raw: str | None, index: int) -> str:
    """The client's file name as safe display text: no control characters, no folders, bounded."""
    text = _CONTROL.sub("", raw or "")
    text = re.split(r"[\\/]", text)[-1].strip()
    if not text or text in (".", ".."):
        text = f"upload{index + 1}"
    if len(text) > _NAME_MAX:
        text = text[: _NAME_MAX - 1] + "…"
    return text


def _suffix(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def upload_root() -> Path:
    """The server-owned folder under which upload folders are made (``upload_dir`` setting)."""
    from carbonpeak.config import get_settings

    root = get_settings().upload_dir
    if root is None:
        return Path(tempfile.gettempdir())
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    return root


#: The prefixes of the folders this module makes (``mkdtemp`` adds 8 characters of [a-z0-9_]).
FOLDER_PREFIXES = ("cp-upload-", "cp-ingest-")
_FOLDER_NAME = re.compile(r"^(?:cp-upload-|cp-ingest-)[a-z0-9_]{8}$")
#: A folder younger than this is left alone by the start-up sweep (a job of another process).
SWEEP_GRACE_SECONDS = 6 * 3600


def new_upload_folder(prefix: str = "cp-upload-") -> Path:
    """A fresh folder (mode 0700) that only this process writes, marked as an upload folder."""
    if prefix not in FOLDER_PREFIXES:
        raise ValueError(f"not an upload folder prefix: {prefix!r}")
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=upload_root()))
    (folder / MARKER).touch(mode=0o600, exist_ok=False)
    return folder


def sweep_stale_uploads(root: Path | None = None, *, grace_seconds: float = SWEEP_GRACE_SECONDS) -> list[str]:
    """Remove upload folders a killed process left in the dedicated ``upload_dir``; return their names.

    ``root`` defaults to the ``upload_dir`` setting; without one (uploads in the shared system temp
    folder) nothing is swept.  A folder is removed only when all hold: it is a direct child of
    ``root``, a real directory (not a symbolic link), owned by this process's user, named like the
    folders :func:`new_upload_folder` makes, holding its marker file (a regular file, not a link),
    and last changed more than ``grace_seconds`` ago.  ``shutil.rmtree`` removes links inside it
    without following them.
    """
    if root is None:
        from carbonpeak.config import get_settings

        configured = get_settings().upload_dir
        if configured is None:
            return []
        root = Path(configured)
    try:
        root_st = os.lstat(root)
    except FileNotFoundError:
        return []
    if not stat.S_ISDIR(root_st.st_mode):  # a link or a file where the folder should be: leave it
        return []
    now = time.time()
    removed: list[str] = []
    for entry in os.scandir(root):
        if not _FOLDER_NAME.fullmatch(entry.name) or entry.is_symlink() or not entry.is_dir(follow_symlinks=False):
            continue
        st = entry.stat(follow_symlinks=False)
        if hasattr(os, "getuid") and st.st_uid != os.getuid():
            continue
        try:
            marker = os.lstat(os.path.join(entry.path, MARKER))
        except (FileNotFoundError, NotADirectoryError):
            continue
        if not stat.S_ISREG(marker.st_mode) or now - st.st_mtime <= grace_seconds:
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(entry.name)
    if removed:
        logging.getLogger("carbonpeak.uploads").warning(
            "removed %d upload folder(s) left behind by an earlier process: %s", len(removed), ", ".join(removed)
        )
    return removed


def save_uploads(files: list[UploadFile], folder: Path, *, max_bytes: int) -> list[Upload]:
    """Copy each upload to ``folder/NNN.<suffix>`` in chunks, refusing one larger than ``max_bytes``."""
    out: list[Upload] = []
    for i, f in enumerate(files):
        name = display_name(f.filename, i)
        suffix = _suffix(name)
        if suffix not in UPLOAD_SUFFIXES:
            raise ValidationError(
                [Problem(name, None, None, Msg("io.upload_type", suffixes=", ".join(UPLOAD_SUFFIXES)))]
            )
        path = folder / f"{i:03d}{suffix}"
        size = 0
        with open(path, "xb") as fh:
            while chunk := f.file.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise UploadTooLarge(f"{name}: larger than the limit of {max_bytes:,} bytes")
                fh.write(chunk)
        out.append(Upload(path, name))
    return out


@contextmanager
def uploaded(files: list[UploadFile], *, max_bytes: int) -> Iterator[list[Upload]]:
    """The uploads saved in a fresh server folder, removed afterwards; errors speak client names."""
    folder = new_upload_folder()
    try:
        ups = save_uploads(files, folder, max_bytes=max_bytes)
        with client_names(ups, folder):
            yield ups
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -- the request-body limit (checked while the body streams in) -------------------------------------
class BodyLimitMiddleware:
    """ASGI middleware: answer 413 as soon as a request body exceeds ``limit`` bytes.

    A declared ``Content-Length`` over the limit is refused before anything is read; otherwise
    the bytes are counted as they arrive and the rest of the body is not read.
    """

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for k, v in scope.get("headers", []):
            if k == b"content-length":
                try:
                    declared = int(v)
                except ValueError:
                    declared = 0
                if declared > self.limit:
                    await self._too_large(send)
                    return
        seen = 0
        over = False
        started = False

        async def limited_receive() -> dict[str, Any]:
            nonlocal seen, over
            if over:
                return {"type": "http.disconnect"}
            msg: dict[str, Any] = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.limit:
                    over = True
                    raise UploadTooLarge(f"request body larger than the limit of {self.limit:,} bytes")
            return msg

        async def guarded_send(msg: dict[str, Any]) -> None:
            nonlocal started
            if over:  # whatever the app made of the interrupted body, the answer is 413
                if not started and msg["type"] == "http.response.start":
                    started = True
                    await self._too_large(send)
                return
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except UploadTooLarge:
            if not started:
                await self._too_large(send)

    async def _too_large(self, send: Any) -> None:
        import json

        body = json.dumps(
            {"error": "too_large", "message": f"the request is larger than the limit of {self.limit:,} bytes"}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})
