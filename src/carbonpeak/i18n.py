"""One message catalog for user-facing text in Chinese (zh, simplified) and English (en).

Messages live in ``catalog/data/messages/*.yaml`` as ``key: {zh: ..., en: ...}``; every area
(web, reports, cli) keeps its keys in its own file, and :func:`t` looks any key up.  A key
missing in one language falls back to the other, and a missing key returns the key itself
(so a gap is visible, never a crash).
"""

from __future__ import annotations

from functools import lru_cache

from carbonpeak.catalog.loader import DATA_DIR, load_yaml

LANGS = ("zh", "en")


@lru_cache(maxsize=1)
def messages() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for f in sorted((DATA_DIR / "messages").glob("*.yaml")):
        for key, val in (load_yaml(f) or {}).items():
            out[str(key)] = {str(k): str(v) for k, v in (val or {}).items()}
    return out


def t(key: str, lang: str = "zh", **kw: object) -> str:
    """The message ``key`` in ``lang``, formatted with ``kw``."""
    m = messages().get(key)
    if not m:
        return key
    text = m.get(lang) or m.get("en") or m.get("zh") or key
    return text.format(**kw) if kw else text
