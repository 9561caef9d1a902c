"""Notifications of scheduled work: new alerts, missed deadlines, finished reports, failed jobs.

Two channels, both configured in the settings (docs/operations.md, "Scheduled work and
notifications"):

* **e-mail** through an SMTP server (:mod:`smtplib`, :mod:`email`): ``smtp_host``, ``smtp_port``,
  ``smtp_security`` (starttls | ssl | none), ``smtp_user``/``smtp_password``, ``mail_from``,
  ``mail_to``;
* **webhook**: a JSON POST to each of ``webhook_urls``.  The payload fits the group robots of
  WeCom (企业微信, ``qyapi.weixin.qq.com``) and DingTalk (钉钉, ``oapi.dingtalk.com``):
  ``{"msgtype": "text", "text": {"content": ...}}``; a DingTalk ``webhook_secret`` signs the
  call (``timestamp`` and ``sign`` = base64 HMAC-SHA256 of ``"{timestamp}\\n{secret}"``, the
  robot's documented "加签" scheme); any other URL gets a plain JSON object
  (``event``, ``subject``, ``text``, ``sent_at``).

Notifications are written in the recipient's language: ``notify_lang`` (zh | en, default zh) for
every channel, ``mail_lang`` (``{address: zh|en}``) for an e-mail recipient who reads the other
one (recipients of one language get one e-mail).  A :class:`Message` carries its subject and
body as message keys with parameters (:class:`carbonpeak.i18n.Msg`, catalog
``messages/notify.yaml``) and is rendered per language when it is sent; a plain string is sent
as it is.

Every channel is tried ``notify_retries`` times with a doubling wait; the outcome of every
channel is returned as :class:`Delivery` records (the scheduled job keeps them in its result), a
failure is logged without its secrets and never raised: a notification that cannot be sent must
not fail the work it reports on.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import smtplib
import ssl
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from carbonpeak.config import Settings, get_settings
from carbonpeak.i18n import LANGS, Msg, render_dict

log = logging.getLogger("carbonpeak.notify")

#: The events a notification can be about (``notify_events`` selects among them).
EVENTS = ("alerts", "deadline", "report", "failure", "test")

WECOM_HOST = "qyapi.weixin.qq.com"
DINGTALK_HOST = "oapi.dingtalk.com"


#: One piece of a notification's text: a message key with parameters (rendered in the recipient's
#: language), its ``{"message_key", "params"}`` record, or a plain string (sent as it is).
Text = Msg | dict[str, Any] | str


def render_text(text: Text | Sequence[Text], lang: str) -> str:
    """``text`` in ``lang``; a sequence is rendered line by line."""
    if isinstance(text, Msg):
        return text.render(lang)
    if isinstance(text, dict):
        return render_dict(text, lang)
    if isinstance(text, str):
        return text
    return "\n".join(render_text(x, lang) for x in text)


@dataclass(frozen=True)
class Message:
    """One notification: ``event`` (see :data:`EVENTS`), a one-line subject and a plain-text body,
    each a message key with parameters (or lines of them) rendered per recipient language."""

    event: str
    subject: Text
    body: Text | tuple[Text, ...] = ""

    def text(self, lang: str) -> tuple[str, str]:
        """The subject and the body in ``lang``."""
        return render_text(self.subject, lang), render_text(self.body, lang)


@dataclass
class Delivery:
    """What became of one message on one channel (kept in the job's result; no secrets)."""

    channel: str  # email | webhook
    target: str  # recipients, or the webhook URL without its query (keys)
    event: str
    ok: bool
    attempts: int
    error: str | None = None
    lang: str = "zh"  # the language the message was written in
    sent_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def redact_url(url: str) -> str:
    """``url`` without its query string and credentials (robot keys and tokens live there)."""
    u = urllib.parse.urlsplit(url)
    host = u.hostname or ""
    if u.port:
        host = f"{host}:{u.port}"
    return urllib.parse.urlunsplit((u.scheme, host, u.path, "***" if u.query else "", ""))


def _scrub(text: str, secrets: Sequence[str]) -> str:
    for s in secrets:
        if s:
            text = text.replace(s, "***")
    return text


def webhook_format(url: str, setting: str = "auto") -> str:
    """``wecom``, ``dingtalk`` or ``json``: the setting, or for ``auto`` the URL's host."""
    if setting != "auto":
        return setting
    host = (urllib.parse.urlsplit(url).hostname or "").lower()
    if host == WECOM_HOST:
        return "wecom"
    if host == DINGTALK_HOST:
        return "dingtalk"
    return "json"


def webhook_payload(msg: Message, fmt: str, lang: str = "zh") -> dict[str, Any]:
    """The JSON body of the POST for a robot format (``wecom``/``dingtalk``) or plain ``json``,
    in ``lang``."""
    subject, body = msg.text(lang)
    text = f"[carbonpeak] {subject}\n{body}".strip()  # the tag doubles as a DingTalk keyword
    if fmt in ("wecom", "dingtalk"):
        # both robots take the same text message (WeCom limits it to 2048 bytes, DingTalk to 20000)
        limit = 2048 if fmt == "wecom" else 20000
        data = text.encode("utf-8")
        if len(data) > limit:
            text = data[: limit - 3].decode("utf-8", errors="ignore") + "…"
        return {"msgtype": "text", "text": {"content": text}}
    return {
        "event": msg.event,
        "lang": lang,
        "subject": subject,
        "text": body,
        "sent_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def dingtalk_signed(url: str, secret: str, now_ms: int | None = None) -> str:
    """``url`` with DingTalk's ``timestamp`` and ``sign`` query parameters (the robot's 加签)."""
    ts = str(now_ms if now_ms is not None else int(time.time() * 1000))
    digest = hmac.new(secret.encode("utf-8"), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    sep = "&" if urllib.parse.urlsplit(url).query else "?"
    return f"{url}{sep}timestamp={ts}&sign={sign}"


class Notifier:
    """Sends :class:`Message` s on every configured channel, with retries; never raises."""

    def __init__(self, settings: Settings | None = None, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.cfg = settings or get_settings()
        self.sleep = sleep

    @property
    def channels(self) -> list[str]:
        out = []
        if self.cfg.smtp_host and self.cfg.mail_to:
            out.append("email")
        if self.cfg.webhook_urls:
            out.append("webhook")
        return out

    def mail_groups(self) -> list[tuple[str, list[str]]]:
        """The e-mail recipients by language (``mail_lang``, else ``notify_lang``), in settings order."""
        groups: dict[str, list[str]] = {}
        for addr in self.cfg.mail_to:
            groups.setdefault(self.cfg.mail_lang.get(addr, self.cfg.notify_lang), []).append(addr)
        return [(lang, groups[lang]) for lang in LANGS if lang in groups]

    def wants(self, event: str) -> bool:
        return event == "test" or event in self.cfg.notify_events

    def _secrets(self) -> list[str]:
        c = self.cfg
        out = [u.get_secret_value() for u in c.webhook_urls]
        out += [urllib.parse.urlsplit(u).query for u in out if urllib.parse.urlsplit(u).query]
        for s in (c.smtp_password, c.webhook_secret):
            if s is not None:
                out.append(s.get_secret_value())
        return sorted(set(out), key=len, reverse=True)

    def _retry(self, channel: str, target: str, event: str, send: Callable[[], None], lang: str) -> Delivery:
        n = self.cfg.notify_retries
        err: str | None = None
        for attempt in range(1, n + 1):
            try:
                send()
                return Delivery(channel, target, event, True, attempt, lang=lang)
            except Exception as exc:  # any failure of the channel: retried, recorded, never raised
                err = _scrub(f"{type(exc).__name__}: {exc}", self._secrets())
                log.warning("notification by %s to %s failed (attempt %d of %d): %s", channel, target,
                            attempt, n, err)  # fmt: skip
                if attempt < n:
                    self.sleep(self.cfg.notify_retry_seconds * 2 ** (attempt - 1))
        return Delivery(channel, target, event, False, n, err, lang=lang)

    def send(self, msg: Message) -> list[Delivery]:
        """Send ``msg`` on every channel (when its event is wanted); the outcome per channel."""
        if not self.wants(msg.event):
            return []
        out: list[Delivery] = []
        c = self.cfg
        if c.smtp_host and c.mail_to:
            for lang, to in self.mail_groups():
                out.append(self._retry("email", ", ".join(to), msg.event,
                                       lambda lang=lang, to=to: self._send_mail(msg, lang, to), lang))  # type: ignore[misc]  # fmt: skip
        for secret_url in c.webhook_urls:
            url = secret_url.get_secret_value()
            out.append(self._retry("webhook", redact_url(url), msg.event, lambda u=url: self._post(u, msg), c.notify_lang))  # type: ignore[misc]
        return out

    def send_all(self, msgs: Sequence[Message]) -> list[Delivery]:
        return [d for m in msgs for d in self.send(m)]

    # -- channels ------------------------------------------------------------------------------
    def email_message(self, msg: Message, lang: str | None = None, to: Sequence[str] | None = None) -> EmailMessage:
        """The e-mail of ``msg`` in ``lang`` (default ``notify_lang``) to ``to`` (default ``mail_to``)."""
        c = self.cfg
        lang = lang or c.notify_lang
        subject, body = msg.text(lang)
        em = EmailMessage()
        em["Subject"] = f"[carbonpeak] {subject}"
        em["From"] = c.mail_from or (c.smtp_user or "carbonpeak@localhost")
        em["To"] = ", ".join(to if to is not None else c.mail_to)
        em["Date"] = formatdate(localtime=False)
        em["Message-ID"] = make_msgid(domain="carbonpeak")
        em["X-Carbonpeak-Event"] = msg.event
        em.set_content(body or subject, charset="utf-8")
        em["Content-Language"] = "zh-CN" if lang == "zh" else "en"  # after set_content, which clears Content-*
        return em

    def _send_mail(self, msg: Message, lang: str, to: Sequence[str]) -> None:
        c = self.cfg
        assert c.smtp_host is not None
        timeout = c.notify_timeout_seconds
        if c.smtp_security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(c.smtp_host, c.smtp_port, timeout=timeout,
                                                  context=ssl.create_default_context())  # fmt: skip
        else:
            smtp = smtplib.SMTP(c.smtp_host, c.smtp_port, timeout=timeout)
        with smtp:
            if c.smtp_security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if c.smtp_user:
                smtp.login(c.smtp_user, c.smtp_password.get_secret_value() if c.smtp_password else "")
            smtp.send_message(self.email_message(msg, lang, to))

    def _post(self, url: str, msg: Message) -> None:
        # urllib, not httpx: httpx logs every request's full URL (with the robot's key) at INFO
        import urllib.error
        import urllib.request

        fmt = webhook_format(url, self.cfg.webhook_format)
        target = url
        if fmt == "dingtalk" and self.cfg.webhook_secret is not None:
            target = dingtalk_signed(url, self.cfg.webhook_secret.get_secret_value())
        if urllib.parse.urlsplit(target).scheme not in ("http", "https"):
            raise ValueError("a webhook URL must be http or https")
        req = urllib.request.Request(
            target,
            data=json.dumps(webhook_payload(msg, fmt, self.cfg.notify_lang), ensure_ascii=False).encode("utf-8"),
            headers={"Content-Type": "application/json; charset=utf-8"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(req, timeout=self.cfg.notify_timeout_seconds) as r:
                status, raw = r.status, r.read(65536)
        except urllib.error.HTTPError as exc:  # its text names the URL: only the status is kept
            raise RuntimeError(f"HTTP {exc.code}") from None
        except urllib.error.URLError as exc:
            raise RuntimeError(f"cannot reach the webhook: {exc.reason}") from None
        if status >= 300:
            raise RuntimeError(f"HTTP {status}")
        if fmt in ("wecom", "dingtalk"):
            # the robots answer 200 with {"errcode": 0, "errmsg": "ok"}, a non-zero errcode on refusal
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {}
            if isinstance(body, dict) and body.get("errcode", 0) != 0:
                raise RuntimeError(f"robot refused: errcode {body.get('errcode')} {body.get('errmsg', '')}")
