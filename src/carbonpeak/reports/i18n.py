"""One message catalog for the reports (``reports/messages.yaml``): every key has zh and en."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from carbonpeak.errors import CarbonpeakError

LANGS = ("zh", "en")
MESSAGES = Path(__file__).with_name("messages.yaml")


@lru_cache(maxsize=1)
def load_messages() -> dict[str, dict[str, str]]:
    with open(MESSAGES, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh) or {}
    for key, v in doc.items():
        if not isinstance(v, dict) or set(v) != set(LANGS):
            raise CarbonpeakError(f"reports/messages.yaml: key '{key}' needs exactly zh and en")
    return doc


class Messages:
    """``t(key, **fmt)`` → the text in ``lang`` formatted with ``fmt``."""

    def __init__(self, lang: str) -> None:
        if lang not in LANGS:
            raise CarbonpeakError(f"language must be one of {', '.join(LANGS)}, not '{lang}'")
        self.lang = lang
        self._m = load_messages()

    def __call__(self, key: str, **fmt: Any) -> str:
        try:
            text = self._m[key][self.lang]
        except KeyError:
            raise CarbonpeakError(f"reports/messages.yaml has no key '{key}'") from None
        return text.format(**fmt) if fmt else text
