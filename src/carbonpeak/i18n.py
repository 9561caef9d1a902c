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


# -- messages with parameters: what domain code emits instead of an English sentence -------------
#: Every message key a domain package can emit, with its parameters and their types
#: (``str``, ``int``, ``float``, ``Msg`` for a nested message, ``object`` for a date or an id
#: printed as it is).  Filled by :func:`declare` when the emitting module is imported; the
#: tests walk it and check both catalogs have the key with exactly these placeholders.
DECLARED: dict[str, dict[str, type]] = {}


def declare(specs: dict[str, dict[str, type]]) -> None:
    """Register message keys and their parameters (called at import by the module that emits them)."""
    for key, params in specs.items():
        if DECLARED.get(key, params) != params:
            raise CarbonpeakError(f"message key '{key}' declared twice with different parameters")
        DECLARED[key] = dict(params)


def placeholders(text: str) -> set[str]:
    """The names of the ``{name:spec}`` placeholders of a message text."""
    import string

    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(text) if name}


def render(key: str, params: dict[str, Any] | None, lang: str) -> str:
    """The message ``key`` in ``lang`` with its ``params``; nested messages (a :class:`Msg` or its
    ``{"message_key", "params"}`` dict) are rendered in the same language."""
    m = load_messages().get(key)
    if not m:
        raise CarbonpeakError(f"no message '{key}' in catalog/data/messages/")
    kw = {k: _param(v, lang) for k, v in (params or {}).items()}
    return (m.get(lang) or m["en"]).format(**kw)


def _param(v: Any, lang: str) -> Any:
    if isinstance(v, (list, tuple)):  # a list of items (nested messages or words), joined
        return "; ".join(str(_param(x, lang)) for x in v)
    if isinstance(v, Msg):
        return v.render(lang)
    if isinstance(v, dict) and "message_key" in v:
        return render(str(v["message_key"]), v.get("params") or {}, lang)
    if isinstance(v, dict) and set(v) == set(LANGS):  # a name given in both languages (a catalog's name_zh/name_en)
        return v.get(lang) or v["en"]
    return v


def names(zh: str, en: str) -> dict[str, str]:
    """A parameter named in both languages (a catalog item's ``name_zh``/``name_en``, a region's
    name): rendered in the message's language, kept as ``{"zh", "en"}`` in the JSON params."""
    return {"zh": zh or en, "en": en or zh}


def render_dict(d: dict[str, Any] | None, lang: str, default: str = "") -> str:
    """Render a ``{"message_key": ..., "params": ...}`` record (``default`` without a key)."""
    if not d or not d.get("message_key"):
        return default
    params = d.get("params") or {}
    if isinstance(params, str):  # stored as JSON text
        import json

        params = json.loads(params)
    return render(str(d["message_key"]), params, lang)


class Msg(str):
    """A user-facing message as data: a catalog key and typed parameters.

    Domain code emits ``Msg("warning.grid_factor_year", year=2023, ...)`` instead of an English
    sentence.  The value as a ``str`` is the English rendering (so logs, the CLI and older
    consumers keep working); :meth:`render` gives it in any language and :meth:`to_dict` the
    ``{"message_key", "params"}`` pair a machine reads (parameters JSON-safe)."""

    key: str
    params: dict[str, Any]

    def __new__(cls, key: str, /, **params: Any) -> Msg:
        spec = DECLARED.get(key)
        if spec is None:
            raise CarbonpeakError(f"message key '{key}' is not declared (carbonpeak.i18n.declare)")
        if set(params) != set(spec):
            raise CarbonpeakError(f"message '{key}' takes {sorted(spec)}, not {sorted(params)}")
        obj = super().__new__(cls, render(key, params, "en"))
        obj.key, obj.params = key, params
        return obj

    @classmethod
    def of(cls, record: dict[str, Any]) -> Msg:
        """The message of a stored ``{"message", "message_key", "params"}`` record (its English text
        kept, not rendered again)."""
        obj = str.__new__(cls, record["message"])
        obj.key, obj.params = str(record["message_key"]), dict(record.get("params") or {})
        return obj

    def __reduce__(self) -> tuple[Any, ...]:
        return (_make_msg, (self.key, self.params))

    def __deepcopy__(self, memo: dict[int, Any]) -> Msg:
        return self

    def render(self, lang: str) -> str:
        return render(self.key, self.params, lang)

    def to_dict(self) -> dict[str, Any]:
        return {"message_key": self.key, "params": {k: _jsonable(v) for k, v in self.params.items()}}


def map_text(text: Any, fn: Any) -> Any:
    """``text`` with ``fn`` applied to its words: to a plain string, or to every string parameter of
    a :class:`Msg` (nested ones too), which stays a message (e.g. server paths replaced by the
    client's file names in an error)."""
    if isinstance(text, Msg):
        obj = str.__new__(Msg, fn(str(text)))
        obj.key = text.key
        obj.params = {k: map_text(v, fn) for k, v in text.params.items()}
        return obj
    if isinstance(text, str):
        return fn(text)
    return text


def localize_problems(d: Any, lang: str) -> Any:
    """A stored ``ValidationError.to_dict()`` answer (a failed job's result) with its headline and
    each problem's message rendered in ``lang`` (problems without a message key keep their text)."""
    if not isinstance(d, dict) or not isinstance(d.get("problems"), list):
        return d
    probs = []
    for p in d["problems"]:
        if isinstance(p, dict) and p.get("message_key") and p["message_key"] in load_messages():
            p = {**p, "message": render(str(p["message_key"]), p.get("params") or {}, lang)}
        probs.append(p)
    n = len(probs)
    return {**d, "message": t("problem.head_one" if n == 1 else "problem.head", lang, n=n), "problems": probs}


def _make_msg(key: str, params: dict[str, Any]) -> Msg:
    return Msg(key, **params)


def _jsonable(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, Msg):
        return v.to_dict()
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    if hasattr(v, "item"):  # numpy scalar
        return v.item()
    return str(v)  # a date, a path: printed as it is


def message_record(text: Any, lang: str) -> dict[str, Any]:
    """``{"message", "message_key", "params"}`` of a warning for a JSON answer: the message rendered in
    ``lang``; a plain string (an older or free-text warning) has no key."""
    if isinstance(text, Msg):
        return {"message": text.render(lang), **text.to_dict()}
    if isinstance(text, dict) and text.get("message_key"):
        return {"message": render_dict(text, lang), "message_key": text["message_key"],
                "params": text.get("params") or {}}
    return {"message": str(text), "message_key": None, "params": {}}


def alert_text(a: dict[str, Any], lang: str, *, with_why: bool = True) -> str:
    """A stored monitoring alert (``kind``, ``observed``, ``why``, ``message_key``, ``params``) in
    ``lang``: what was observed, then why it matters.  An alert stored without a message key shows
    its English text."""
    observed = render_dict(a, lang, default=str(a.get("observed") or ""))
    if not with_why:
        return observed
    return f"{observed} — {alert_why(str(a.get('kind')), lang, default=str(a.get('why') or ''))}"


def alert_location(a: dict[str, Any], lang: str) -> str:
    """Where a stored alert is, in ``lang``: ``unit U1 (name, city), meter M1`` / ``用能单位 U1(名称,
    广州市),计量表 M1``.  Built from its ``unit_id``, ``meter_id`` and ``city``; the unit's name is
    taken from the stored (English) ``location``."""
    uid, meter, city = a.get("unit_id"), a.get("meter_id"), a.get("city")
    uid = uid if isinstance(uid, str) and uid else None
    meter = meter if isinstance(meter, str) and meter else None
    loc = str(a.get("location") or "")
    if uid is None:
        return t("alert_loc.all_figures", lang) if loc in ("", "all reported figures") else loc
    name = None
    body = loc[len(f"unit {uid} ("):] if loc.startswith(f"unit {uid} (") else ""
    if meter and body.endswith(f", meter {meter}"):
        body = body[: -len(f", meter {meter}")]
    if isinstance(city, str) and city and body.endswith(f", {city})"):
        name = body[: -len(f", {city})")]
    if name is not None:
        from carbonpeak.catalog.regions import load_regions

        r = load_regions().get(str(city))
        out = t("alert_loc.unit_named", lang, unit=uid, name=name, city=r.name(lang) if r is not None else city)
    else:
        out = t("alert_loc.unit", lang, unit=uid)
    return out + (t("alert_loc.meter", lang, meter=meter) if meter else "")


def alert_why(kind: str, lang: str, default: str = "") -> str:
    """Why an alert of ``kind`` matters, in ``lang`` (``default`` for a kind the catalog lacks)."""
    key = f"alert_why.{kind}"
    return t(key, lang) if key in load_messages() else default


def with_messages(out: Any, lang: str) -> Any:
    """Add ``warning_messages`` beside every ``warnings`` list of an answer (and of each year's in
    ``by_year``): each warning in ``lang`` with its ``message_key`` and ``params``.  ``warnings``
    keeps the English text, so that the JSON a machine already reads does not change."""
    if not isinstance(out, dict):
        return out
    if isinstance(out.get("warnings"), list):
        out["warning_messages"] = [message_record(w, lang) for w in out["warnings"]]
        out["warnings"] = [str(w) for w in out["warnings"]]
    for s in (out.get("by_year") or {}).values():
        if isinstance(s, dict):
            with_messages(s, lang)
    return out
