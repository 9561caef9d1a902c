"""Notifications by e-mail (SMTP, against a local aiosmtpd server) and by webhook (a local HTTP
server standing in for a WeCom/DingTalk robot): delivered, retried, recorded, secrets never logged."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import socket
import threading
import urllib.parse
from collections.abc import Iterator
from email import message_from_bytes
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from carbonpeak.config import Settings
from carbonpeak.workflows.notify import Message, Notifier, dingtalk_signed, redact_url, webhook_payload

SMTP_PASSWORD = "s3cret-smtp-pass"
ROBOT_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- a local SMTP server (aiosmtpd) ------------------------------------------------------------
class _Sink:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


class _Auth:
    def __init__(self) -> None:
        self.logins: list[tuple[str, str]] = []

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        if isinstance(auth_data, LoginPassword):
            user, pw = auth_data.login.decode(), auth_data.password.decode()
            self.logins.append((user, pw))
            # handled=False: the server itself answers (235, or 535 for wrong credentials); with
            # aiosmtpd's default handled=True a failure gets no answer and the client waits for its timeout
            return AuthResult(success=user == "robot" and pw == SMTP_PASSWORD, handled=False)
        return AuthResult(success=False, handled=False)


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, _Sink, _Auth]]:
    from aiosmtpd.controller import Controller

    sink, auth = _Sink(), _Auth()
    port = _free_port()
    ctl = Controller(sink, hostname="127.0.0.1", port=port, authenticator=auth, auth_require_tls=False)
    ctl.start()
    try:
        yield port, sink, auth
    finally:
        ctl.stop()


def _mail_settings(port: int, **kw: Any) -> Settings:
    base: dict[str, Any] = {
        "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none", "smtp_user": "robot",
        "smtp_password": SMTP_PASSWORD, "mail_from": "carbonpeak@gd.example", "mail_to": ["officer@gd.example"],
        "notify_retries": 3, "notify_retry_seconds": 0.0,
    }  # fmt: skip
    return Settings(**{**base, **kw})


def test_email_is_delivered_with_login(smtp_server: tuple[int, _Sink, _Auth]) -> None:
    port, sink, auth = smtp_server
    n = Notifier(_mail_settings(port))
    out = n.send(Message("alerts", "3 条新告警 new alerts", "广州 GD-GZ: spike on M1\nsecond line"))
    assert [(d.channel, d.ok, d.attempts) for d in out] == [("email", True, 1)]
    assert auth.logins == [("robot", SMTP_PASSWORD)]
    assert len(sink.messages) == 1
    mail_from, rcpt, raw = sink.messages[0]
    assert mail_from == "carbonpeak@gd.example"
    assert rcpt == ["officer@gd.example"]
    em = message_from_bytes(raw)
    assert str(make_header(decode_header(em["Subject"]))) == "[carbonpeak] 3 条新告警 new alerts"
    assert em["X-Carbonpeak-Event"] == "alerts"
    body = em.get_payload(decode=True).decode(em.get_content_charset())
    assert "广州 GD-GZ: spike on M1" in body


def test_email_failure_is_retried_recorded_and_never_raised(caplog: pytest.LogCaptureFixture) -> None:
    port = _free_port()  # nothing listens there
    waits: list[float] = []
    n = Notifier(_mail_settings(port, notify_retry_seconds=1.5), sleep=waits.append)
    with caplog.at_level(logging.WARNING, logger="carbonpeak.notify"):
        out = n.send(Message("deadline", "missed deadline", "ENT-A"))
    assert len(out) == 1
    d = out[0]
    assert (d.channel, d.ok, d.attempts) == ("email", False, 3)
    assert d.error
    assert "Connection" in d.error
    assert waits == [1.5, 3.0]  # doubling wait between attempts
    assert len([r for r in caplog.records if "failed (attempt" in r.getMessage()]) == 3
    assert SMTP_PASSWORD not in caplog.text


def test_wrong_smtp_password_is_a_recorded_failure(smtp_server: tuple[int, _Sink, _Auth],
                                                   caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    port, sink, _auth = smtp_server
    n = Notifier(_mail_settings(port, smtp_password="wrong-password-xyz", notify_retries=2))
    with caplog.at_level(logging.WARNING, logger="carbonpeak.notify"):
        (d,) = n.send(Message("report", "report written", "files"))
    assert not d.ok
    assert d.attempts == 2
    assert "SMTPAuthenticationError" in (d.error or "")  # refused by the server, not a timeout
    assert sink.messages == []
    assert "wrong-password-xyz" not in caplog.text
    assert "wrong-password-xyz" not in (d.error or "")


# -- a local webhook receiver ------------------------------------------------------------------
class _Robot:
    """Answers like a WeCom/DingTalk robot; ``fail_first`` requests get HTTP 500 first."""

    def __init__(self, fail_first: int = 0, errcode: int = 0) -> None:
        self.requests: list[tuple[str, dict[str, Any], str]] = []
        self.fail_first = fail_first
        self.errcode = errcode


@pytest.fixture
def robot() -> Iterator[tuple[str, _Robot]]:
    state = _Robot()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append((self.path, json.loads(body), self.headers["Content-Type"]))
            if len(state.requests) <= state.fail_first:
                self.send_response(500)
                self.end_headers()
                return
            out = json.dumps({"errcode": state.errcode, "errmsg": "ok" if not state.errcode else "invalid"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *args: Any) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}", state
    finally:
        srv.shutdown()
        srv.server_close()


def _hook_settings(url: str, **kw: Any) -> Settings:
    return Settings(**{"webhook_urls": [url], "notify_retries": 3, "notify_retry_seconds": 0.0, **kw})


def test_wecom_robot_gets_a_text_message(robot: tuple[str, _Robot], caplog: pytest.LogCaptureFixture) -> None:
    base, state = robot
    url = f"{base}/cgi-bin/webhook/send?key={ROBOT_KEY}"
    n = Notifier(_hook_settings(url, webhook_format="wecom"))
    with caplog.at_level(logging.DEBUG):
        (d,) = n.send(Message("alerts", "2 new alerts", "GD-GZ spike"))
    assert d.ok
    assert d.attempts == 1
    assert ROBOT_KEY not in d.target
    path, payload, ctype = state.requests[0]
    assert path == f"/cgi-bin/webhook/send?key={ROBOT_KEY}"
    assert payload == {"msgtype": "text", "text": {"content": "[carbonpeak] 2 new alerts\nGD-GZ spike"}}
    assert ctype.startswith("application/json")
    assert ROBOT_KEY not in caplog.text


def test_webhook_is_retried_until_it_answers(robot: tuple[str, _Robot]) -> None:
    base, state = robot
    state.fail_first = 2
    (d,) = Notifier(_hook_settings(f"{base}/hook?token=abc", webhook_format="json")).send(
        Message("report", "monthly report", "written")
    )
    assert d.ok
    assert d.attempts == 3
    assert len(state.requests) == 3
    payload = state.requests[-1][1]
    assert payload["event"] == "report"
    assert payload["subject"] == "monthly report"
    assert payload["text"] == "written"


def test_robot_refusal_is_a_failure_without_the_key_in_the_record(
    robot: tuple[str, _Robot], caplog: pytest.LogCaptureFixture
) -> None:
    base, state = robot
    state.errcode = 93000
    url = f"{base}/robot/send?access_token={ROBOT_KEY}"
    with caplog.at_level(logging.WARNING, logger="carbonpeak.notify"):
        (d,) = Notifier(_hook_settings(url, webhook_format="dingtalk", notify_retries=2)).send(
            Message("deadline", "missed", "ENT-A")
        )
    assert not d.ok
    assert d.attempts == 2
    assert "93000" in (d.error or "")
    assert ROBOT_KEY not in caplog.text
    assert ROBOT_KEY not in d.target
    assert ROBOT_KEY not in json.dumps(d.to_dict())


def test_dingtalk_signature_follows_the_robot_scheme(robot: tuple[str, _Robot]) -> None:
    base, state = robot
    secret = "SEC000000000000000000000"
    n = Notifier(_hook_settings(f"{base}/robot/send?access_token=t0k", webhook_format="dingtalk",
                                webhook_secret=secret))  # fmt: skip
    (d,) = n.send(Message("test", "test notification", "hello"))
    assert d.ok
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(state.requests[0][0]).query)
    ts = q["timestamp"][0]
    # the documented 加签: base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\n{secret}"))
    expect = base64.b64encode(hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()).decode()
    assert q["sign"][0] == expect
    assert q["access_token"] == ["t0k"]


def test_payload_shapes_and_redaction() -> None:
    m = Message("alerts", "subject", "body")
    assert webhook_payload(m, "dingtalk") == {"msgtype": "text", "text": {"content": "[carbonpeak] subject\nbody"}}
    long = Message("alerts", "s", "告" * 2000)
    content = webhook_payload(long, "wecom")["text"]["content"]
    assert len(content.encode("utf-8")) <= 2048  # WeCom's limit for a text message
    assert redact_url("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc") == (
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?***"
    )
    assert redact_url("https://user:pw@example.org:8443/hook") == "https://example.org:8443/hook"
    signed = dingtalk_signed("https://oapi.dingtalk.com/robot/send?access_token=x", "s", now_ms=1)
    assert signed.startswith("https://oapi.dingtalk.com/robot/send?access_token=x&timestamp=1&sign=")


def test_events_not_wanted_are_not_sent(robot: tuple[str, _Robot]) -> None:
    base, state = robot
    n = Notifier(_hook_settings(f"{base}/h", notify_events=["deadline"]))
    assert n.send(Message("alerts", "a", "b")) == []
    assert state.requests == []
    assert [d.ok for d in n.send(Message("deadline", "a", "b"))] == [True]
