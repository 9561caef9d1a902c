"""Issue 12: an import's validation errors from the API in the request's language (?lang, the
dashboard's cookie, Accept-Language), with file, row, field, message_key and params (the CLI and
the messages themselves: tests/io/test_import_errors_i18n.py)."""

from __future__ import annotations

from pathlib import Path

from tests.io.test_import_errors_i18n import BAD_ACTIVITY


def test_api_answers_in_the_request_language(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient
    from tests.platform.conftest import login, seed_users
    from tests.stores import db_location

    from carbonpeak.api.app import create_app
    from carbonpeak.store import Store

    store = Store(db_location(tmp_path / "api.duckdb"))
    seed_users(store, {"analyst": {"role": "province_analyst"}})
    try:
        client = TestClient(create_app(store))
        h = login(client, "analyst")
        files = {"files": ("填报.csv", BAD_ACTIVITY.encode("utf-8"), "text/csv")}
        zh = client.post("/api/activity", headers={**h, "Accept-Language": "zh-CN,zh;q=0.9"}, files=files)
        en = client.post("/api/activity?lang=en", headers={**h, "Accept-Language": "zh-CN"}, files=files)
        assert zh.status_code == en.status_code == 422
        zp = {(p["row"], p["field"]): p for p in zh.json()["problems"]}
        ep = {(p["row"], p["field"]): p for p in en.json()["problems"]}
        assert zh.json()["message"].startswith("发现")
        assert en.json()["message"].endswith("problems found; nothing was imported")
        assert zp[(2, "amount")]["file"] == "填报.csv"  # the client's name, never the server's path
        assert zp[(2, "amount")]["message"] == "不是数字:“12x”"
        assert ep[(2, "amount")]["message"] == "not a number: '12x'"
        assert zp[(2, "amount")]["message_key"] == ep[(2, "amount")]["message_key"] == "io.not_number"
        assert zp[(2, "amount")]["params"] == {"value": "12x"}
        assert all(p["message_key"] for p in zh.json()["problems"])
    finally:
        store.close()
