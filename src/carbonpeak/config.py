"""One settings object for the whole platform.

Values come, in increasing priority, from the defaults below, an optional TOML file (path in
``CARBONPEAK_CONFIG``, default ``./carbonpeak.toml`` if present) and environment variables
``CARBONPEAK_*`` (e.g. ``CARBONPEAK_DB_PATH``).  Documented in ``docs/operations.md``.
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Platform settings (see ``docs/operations.md``)."""

    @property
    def store_location(self) -> str | Path:
        """Where the store is: ``database_url`` when set, else the DuckDB file ``db_path``."""
        return self.database_url or self.db_path

    model_config = SettingsConfigDict(env_prefix="CARBONPEAK_", extra="ignore")

    db_path: Path = Field(default=Path("carbonpeak.duckdb"), description="DuckDB file of the store")
    engine: Literal["duckdb", "spark"] = Field(
        default="duckdb", description="query engine for large aggregations (monitoring)"
    )
    spark_master: str = Field(default="local[2]", description="Spark master URL when engine=spark")
    monitor_duckdb_memory_limit: str | None = Field(
        default=None,
        description="DuckDB memory_limit of a monitoring run over a lake (e.g. 512MB; default: DuckDB's 80 % of RAM)",
    )
    monitor_duckdb_threads: int | None = Field(
        default=None, ge=1, description="DuckDB threads of a monitoring run over a lake (default: all cores)"
    )
    monitor_duckdb_temp_directory: Path | None = Field(
        default=None,
        description="where DuckDB spills a monitoring run over a lake beyond its memory_limit (default: <temp>/carbonpeak-duckdb)",
    )
    lake_path: Path | None = Field(
        default=None, description="root of a Parquet data lake of readings (partitioned by date)"
    )
    gwp: Literal["AR4", "AR5", "AR6"] = Field(default="AR5", description="default GWP set")
    lang: Literal["zh", "en"] = Field(
        default="en", description="language of the CLI's error messages and of the headers of its Excel output (--format xlsx)"
    )
    electricity_method: Literal["calorific", "coal_substitution"] = Field(
        default="calorific", description="standard-coal method for electricity (GB/T 2589-2020)"
    )
    reports_dir: Path = Field(default=Path("reports"), description="where reports are written")
    timezone: str = Field(
        default="Asia/Shanghai", description="IANA time zone of the timestamps printed in reports"
    )
    service_url: str | None = Field(
        default=None, description="URL of a running carbonpeak service the CLI should talk to"
    )
    secret_key: str | None = Field(default=None, description="token-signing key of the service")
    database_url: str | None = Field(
        default=None,
        description="the store's database: postgresql+psycopg://user@host:port/db (several service "
        "workers, the CLI beside them) or duckdb:///path; unset: the DuckDB file db_path",
    )
    upload_dir: Path | None = Field(
        default=None,
        description="server-owned folder for uploads being processed (default: the system temp folder)",
    )
    max_upload_bytes: int = Field(
        default=64 * 1024 * 1024, ge=1, description="largest accepted uploaded file (HTTP 413 beyond it)"
    )
    max_request_bytes: int = Field(
        default=256 * 1024 * 1024,
        ge=1,
        description="largest accepted request body, checked while it streams in (HTTP 413 beyond it)",
    )
    max_unzipped_bytes: int = Field(
        default=512 * 1024 * 1024,
        ge=1,
        description="largest total uncompressed size of an .xlsx (zip) input; refuses zip bombs",
    )
    # -- security (docs/security.md) ---------------------------------------------------------------
    audit_key_file: Path | None = Field(
        default=None,
        description="keyring file of the audit chain (default: <store>.audit-keys.json beside the store)",
    )
    audit_keyring: SecretStr | None = Field(
        default=None, description="the audit keyring's JSON text (an environment secret; wins over the file)"
    )
    checkpoint_dir: Path | None = Field(
        default=None, description="where signed audit checkpoints are written (default: <store>.checkpoints/)"
    )
    checkpoint_interval_minutes: float = Field(
        default=60.0, ge=0, description="the service signs a checkpoint this often when the chain grew (0: off)"
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="addresses or networks of reverse proxies whose X-Forwarded-For is honoured",
    )
    tls: bool = Field(
        default=False, description="the service is reached over HTTPS: send HSTS and Secure cookies"
    )
    map_boundaries: Path | None = Field(
        default=None,
        description="GeoJSON of the 21 prefecture boundaries for the city map, with its metadata sidecar "
        "<name>.yaml (source, licence, edition, attribution, processing; docs/dashboard.md); "
        "none: the package's file if it ships one, else the tile map",
    )
    docs_require_login: bool = Field(
        default=False, description="serve /docs and /openapi.json to logged-in users only"
    )
    login_limit_user: int = Field(default=5, ge=1, description="failed logins per user before a lock-out")
    login_limit_address: int = Field(
        default=20, ge=1, description="failed logins per client address before a lock-out (spraying)"
    )
    login_lockout_seconds: float = Field(
        default=900.0, gt=0, description="how long a lock-out lasts (and the window failures count in)"
    )

    # -- background jobs (docs/operations.md, "Background jobs") ----------------------------------
    job_lease_seconds: int = Field(
        default=60, ge=2, le=86400,
        description="a running job's lease; its worker renews it, and another worker takes the job over "
        "when it ran out (the worker died)",
    )
    job_max_attempts: int = Field(
        default=3, ge=1, le=100, description="attempts of a job in all when its workers die (then it fails)"
    )
    job_poll_seconds: float = Field(
        default=2.0, gt=0, le=3600, description="how often an idle worker looks for jobs submitted elsewhere"
    )

    # -- scheduled work and notifications (docs/operations.md, "Scheduled work and notifications") --
    schedule_file: Path | None = Field(
        default=None,
        description="YAML schedule of the scheduled work (default: schedule.yaml beside the config file "
        "if present, else the packaged schedule)",
    )
    scheduler: bool = Field(
        default=False, description="run the schedule inside the service (APScheduler; one firing per job)"
    )
    schedule_timezone: str = Field(
        default="Asia/Shanghai", description="time zone of the schedule's cron expressions (unless it names one)"
    )
    smtp_host: str | None = Field(default=None, description="SMTP server for e-mail notifications (none: off)")
    smtp_port: int = Field(default=587, ge=1, le=65535, description="SMTP port")
    smtp_security: Literal["starttls", "ssl", "none"] = Field(
        default="starttls", description="starttls (port 587), ssl (port 465) or none (a local relay only)"
    )
    smtp_user: str | None = Field(default=None, description="SMTP login (none: no login)")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password (a secret; never logged)")
    mail_from: str | None = Field(default=None, description="sender address of notifications")
    mail_to: list[str] = Field(default_factory=list, description="recipients of e-mail notifications")
    webhook_urls: list[SecretStr] = Field(
        default_factory=list,
        description="webhook URLs notified by JSON POST (WeCom/DingTalk robots or any JSON receiver; secrets)",
    )
    webhook_format: Literal["auto", "wecom", "dingtalk", "json"] = Field(
        default="auto", description="payload shape; auto: from the URL's host (qyapi.weixin.qq.com, oapi.dingtalk.com)"
    )
    webhook_secret: SecretStr | None = Field(
        default=None, description="DingTalk robot signing secret (adds timestamp and sign to the URL)"
    )
    notify_lang: Literal["zh", "en"] = Field(
        default="zh", description="language of notifications (e-mails and webhooks): zh or en"
    )
    mail_lang: dict[str, Literal["zh", "en"]] = Field(
        default_factory=dict, description="an e-mail recipient's own language ({address: zh|en}; default notify_lang)"
    )
    notify_events: list[str] = Field(
        default_factory=lambda: ["alerts", "deadline", "report", "failure"],
        description="which events are notified: alerts, deadline, report, failure",
    )
    notify_retries: int = Field(default=3, ge=1, le=10, description="attempts per notification channel")
    notify_retry_seconds: float = Field(
        default=5.0, ge=0, description="wait before the 2nd attempt (doubles for each further one)"
    )
    notify_timeout_seconds: float = Field(default=10.0, gt=0, description="timeout of one SMTP/HTTP attempt")


def _toml_values() -> dict[str, Any]:
    path = Path(os.environ.get("CARBONPEAK_CONFIG", "carbonpeak.toml"))
    if not path.exists():
        return {}
    with open(path, "rb") as fh:
        doc = tomllib.load(fh)
    return dict(doc.get("carbonpeak", doc))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process (TOML file first, environment on top)."""
    toml = _toml_values()
    env = Settings()
    merged = {**toml, **{k: v for k, v in env.model_dump().items() if k in env.model_fields_set}}
    return Settings(**merged) if toml else env
