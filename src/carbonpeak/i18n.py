"""One message catalog for user-facing text in Chinese (zh, simplified) and English (en).

Messages live in ``catalog/data/messages/*.yaml`` as ``key: {zh: ..., en: ...}``; every area
keeps its keys in its own file (``web.yaml`` for the dashboard, ``reports.yaml`` for the
reports).  Every key must have both languages and a key may be defined once.

* :func:`t` looks a key up leniently (a missing key returns the key, so a gap shows on a page
  instead of breaking it) — the dashboard uses it;
* :class:`Messages` is strict (a missing key is an error) — the reports use it, and their tests
  prove every key they print exists.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from carbonpeak.catalog.loader import DATA_DIR, load_yaml
from carbonpeak.errors import CarbonpeakError

LANGS = ("zh", "en")


@lru_cache(maxsize=1)
def load_messages() -> dict[str, dict[str, str]]:
    """All keys of all message files; raises on a key without both languages or defined twice."""
    out: dict[str, dict[str, str]] = {}
    where: dict[str, str] = {}
    for f in sorted((DATA_DIR / "messages").glob("*.yaml")):
        for key, val in (load_yaml(f) or {}).items():
            key = str(key)
            if not isinstance(val, dict) or set(val) != set(LANGS):
                raise CarbonpeakError(f"messages/{f.name}: key '{key}' needs exactly zh and en")
            if key in out:
                raise CarbonpeakError(f"message key '{key}' defined in {where[key]} and {f.name}")
            out[key] = {str(k): str(v) for k, v in val.items()}
            where[key] = f.name
    return out


def messages() -> dict[str, dict[str, str]]:
    return load_messages()


def t(key: str, lang: str = "zh", **kw: object) -> str:
    """The message ``key`` in ``lang``, formatted with ``kw`` (the key itself if unknown)."""
    m = load_messages().get(key)
    if not m:
        return key
    text = m.get(lang) or m.get("en") or key
    return text.format(**kw) if kw else text


class Messages:
    """Strict lookup in one language: ``Messages("zh")("report.title", year=2023)``."""

    def __init__(self, lang: str) -> None:
        if lang not in LANGS:
            raise CarbonpeakError(f"language must be one of {', '.join(LANGS)}, not '{lang}'")
        self.lang = lang
        self._m = load_messages()

    def __call__(self, key: str, **fmt: Any) -> str:
        try:
            text = self._m[key][self.lang]
        except KeyError:
            raise CarbonpeakError(f"no message '{key}' in catalog/data/messages/") from None
        return text.format(**fmt) if fmt else text
