"""Issue 12: notifications (e-mail, webhook) in the recipient's language, zh or en, rendered from the
message keys of catalog/data/messages/notify.yaml; delivered to a local aiosmtpd server and a local
robot (fixtures of test_notify.py)."""

from __future__ import annotations

import datetime as dt
import re
from email import message_from_bytes, policy
from typing import Any

import pandas as pd
import pytest
from tests.platform.test_notify import _hook_settings, _mail_settings, robot, smtp_server  # noqa: F401

import carbonpeak.monitoring.quality  # noqa: F401  (declares the alert_obs.* keys used below)
from carbonpeak.i18n import Msg
from carbonpeak.reports.scheduled import alerts_message, deadline_message, notify_test
from carbonpeak.workflows.notify import Message, Notifier

CJK = re.compile(r"[\u4e00-\u9fff]")
# English words a zh notification must not contain (ids, codes and the [carbonpeak] tag aside)
ENGLISH = re.compile(r"\b(enterprise|missed|deadline|alerts?|new|monitoring|report|written|unit|meter|readings|"
                     r"spike|gap|warning|error|run|review|failed|test|notification|and|more)\b", re.I)


def _mails(sink: Any) -> dict[str, tuple[str, str, Any]]:
    """The received mails by recipient: (subject, body, message)."""
    out = {}
    for _from, rcpt, raw in sink.messages:
        em = message_from_bytes(raw, policy=policy.default)
        subject = str(em["Subject"])
        body = em.get_content()
        for r in rcpt:
            out[r] = (subject, body, em)
    return out


def _alerts() -> pd.DataFrame:
    """Two stored alerts as the monitoring run reads them back (message key + JSON params)."""
    spike = Msg("alert_obs.spike", energy=37520.0, unit="kWh", vmax=13750.0, z=974.6,
                span=Msg("alert_obs.span_day", day="2025-01-24"))  # fmt: skip
    gap = Msg("alert_obs.gap_none", span=Msg("alert_obs.span_days", first="2025-01-10", last="2025-01-17", days=8))
    import json

    rows = [
        {"alert_id": "a1", "kind": "spike", "severity": "warning", "unit_id": "U00010", "city": "GD-ZS",
         "period_start": "2025-01-24", "why": "…", "observed": str(spike), **_rec(spike)},
        {"alert_id": "a2", "kind": "gap", "severity": "error", "unit_id": "U00011", "city": "GD-YF",
         "period_start": "2025-01-10", "why": "…", "observed": str(gap), **_rec(gap)},
    ]  # fmt: skip
    for r in rows:
        r["params"] = json.dumps(r["params"], ensure_ascii=False)
    return pd.DataFrame(rows)


def _rec(m: Msg) -> dict[str, Any]:
    return m.to_dict()


def test_each_recipient_gets_the_mail_in_its_language(smtp_server) -> None:  # noqa: F811
    port, sink, _auth = smtp_server
    cfg = _mail_settings(port, mail_to=["officer@gd.example", "analyst@gd.example", "guest@gd.example"],
                         notify_lang="zh", mail_lang={"guest@gd.example": "en"})  # fmt: skip
    msg = deadline_message(["91440101MA5CXXXX1A", "91440300MA5DYYYY2B"], "readings", "2025-01", dt.date(2025, 2, 15))
    out = Notifier(cfg).send(msg)
    assert sorted((d.channel, d.lang, d.target, d.ok) for d in out) == [
        ("email", "en", "guest@gd.example", True),
        ("email", "zh", "officer@gd.example, analyst@gd.example", True),
    ]
    assert len(sink.messages) == 2  # one e-mail per language, not one per recipient
    mails = _mails(sink)
    zh_subject, zh_body, zh_em = mails["officer@gd.example"]
    assert mails["analyst@gd.example"][0] == zh_subject
    assert zh_subject == "[carbonpeak] 2家企业未按期报送2025-01的计量读数(截止2025-02-15)"
    assert zh_em["Content-Language"] == "zh-CN"
    assert "截至2025-02-15(北京时间),以下企业未报送2025-01的计量读数:" in zh_body
    assert "- 91440101MA5CXXXX1A" in zh_body
    assert "信用事件" in zh_body
    assert not ENGLISH.search(zh_subject.replace("[carbonpeak]", "") + zh_body.replace("missed_deadline", "")), zh_body
    en_subject, en_body, en_em = mails["guest@gd.example"]
    assert en_subject == "[carbonpeak] 2 enterprise(s) missed the readings deadline for 2025-01 (due 2025-02-15)"
    assert en_em["Content-Language"] == "en"
    assert "No readings submission for 2025-01 arrived by 2025-02-15" in en_body
    assert not CJK.search(en_subject + en_body)


def test_new_alerts_mail_names_kind_severity_and_city_in_the_language(smtp_server) -> None:  # noqa: F811
    port, sink, _auth = smtp_server
    msg = alerts_message(_alerts(), dt.date(2025, 1, 1), dt.date(2025, 2, 4), "R20250205-7")
    Notifier(_mail_settings(port, mail_to=["a@gd.example", "b@gd.example"], mail_lang={"b@gd.example": "en"})).send(msg)
    mails = _mails(sink)
    zh_subject, zh_body, _ = mails["a@gd.example"]
    assert zh_subject == "[carbonpeak] 2025-01-01至2025-02-04新增2条监测告警"
    assert "- [警告] 读数突增 U00010(中山市)2025-01-24:日用能3.752e+04 kWh" in zh_body
    assert "- [错误] 数据缺失 U00011(云浮市)2025-01-10:无读数,2025-01-10至2025-01-17(共8天)" in zh_body
    assert "运行编号 R20250205-7" in zh_body
    assert not ENGLISH.search(zh_body), zh_body
    en_subject, en_body, _ = mails["b@gd.example"]
    assert en_subject == "[carbonpeak] 2 new monitoring alert(s), 2025-01-01 – 2025-02-04"
    assert "- [warning] spike U00010 (Zhongshan) 2025-01-24: daily energy 3.752e+04 kWh" in en_body
    assert "- [error] data gap U00011 (Yunfu) 2025-01-10: no readings from 2025-01-10 to 2025-01-17 (8 days)" in en_body
    assert not CJK.search(en_subject + en_body)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_webhook_text_in_the_configured_language(robot, lang) -> None:  # noqa: F811
    base, state = robot
    n = Notifier(_hook_settings(f"{base}/cgi-bin/webhook/send?key=k", webhook_format="wecom", notify_lang=lang))
    (d,) = n.send(alerts_message(_alerts(), dt.date(2025, 1, 1), dt.date(2025, 2, 4), "R20250205-7"))
    assert d.ok
    assert d.lang == lang
    content = state.requests[0][1]["text"]["content"]
    assert content.startswith("[carbonpeak] ")  # the tag stays: it is the DingTalk robot's keyword
    if lang == "zh":
        assert "新增2条监测告警" in content
        assert "读数突增" in content
        assert not ENGLISH.search(content.replace("[carbonpeak]", "")), content
    else:
        assert "2 new monitoring alert(s)" in content
        assert not CJK.search(content)


def test_json_webhook_says_its_language(robot) -> None:  # noqa: F811
    base, state = robot
    task = notify_test(None, {}, dt.datetime(2025, 3, 1, 8, 0, tzinfo=dt.UTC))  # type: ignore[arg-type]
    Notifier(_hook_settings(f"{base}/hook", webhook_format="json", notify_lang="zh")).send_all(task.messages)
    payload = state.requests[0][1]
    assert payload["lang"] == "zh"
    assert payload["subject"] == "测试通知"
    assert payload["text"] == "碳达峰平台可以联系到您(发送于 2025-03-01T08:00:00+00:00)。"


def test_failure_of_a_scheduled_job_is_notified_in_the_language(robot) -> None:  # noqa: F811
    from carbonpeak.workflows.schedule import Entry, run_entry

    base, state = robot
    calls: list[dict[str, Any]] = []

    def boom(store: Any, params: Any, due: Any) -> Any:
        raise KeyError("x")

    entry = Entry(name="nightly", task="boom", cron="0 2 * * *", timezone="Asia/Shanghai")
    n = Notifier(_hook_settings(f"{base}/hook", webhook_format="json", notify_lang="zh"))
    import carbonpeak.workflows.schedule as sch

    orig = sch.job_table.update
    sch.job_table.update = lambda *a, **k: calls.append(k)  # type: ignore[assignment]  # the job row is not the point
    try:
        out = run_entry(None, entry, {"boom": boom}, dt.datetime(2025, 3, 1, tzinfo=dt.UTC), notifier=n, jid="j1")  # type: ignore[arg-type]
    finally:
        sch.job_table.update = orig  # type: ignore[assignment]
    assert out["status"] == "failed"
    assert out["error"] == "internal error in scheduled job nightly (KeyError); see the service log"  # the job row: English
    payload = state.requests[0][1]
    assert payload["subject"] == "定时任务 nightly 失败"
    assert payload["text"] == "定时任务 nightly 发生内部错误(KeyError);详见服务日志"


def test_plain_strings_are_sent_as_they_are() -> None:
    m = Message("alerts", "subject", ("line 1", Msg("notify.more", n=3)))
    assert m.text("zh") == ("subject", "line 1\n…… 另有3项")
    assert m.text("en") == ("subject", "line 1\n… and 3 more")
