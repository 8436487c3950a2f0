"""The one settings class: process settings from the environment (HUANJIE_*), read at the edges
(the app factory, the CLI, the worker), never at import time. Keep each group under its comment.
"""

from __future__ import annotations

import os
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUANJIE_", extra="ignore")

    # -- service (`huanjie serve`, the app factory) -------------------------------------------
    db: str | None = None  # database URL; default: the SQLite file in the user's data directory
    session_hours: int = 12  # dashboard login lifetime
    # Cookies are Secure by default (never sent in clear); browsers accept them on
    # http://localhost too. Set false only for a plain-HTTP demo on another host.
    cookie_secure: bool = True
    json_logs: bool = True
    migrate_on_start: bool = True  # `upgrade heads` when the app starts (off when ops run Alembic)
    # The audit chain's HMAC key (may be "env:NAME"); unset: a published development key, which
    # detects deletions but not a forger (docs/security.md). `audit verify` names the key in use.
    audit_secret: str | None = None

    # -- security (docs/security.md) -------------------------------------------------------------
    max_body_bytes: int = Field(2 * 1024 * 1024, ge=1024)  # any request body but uploads
    max_upload_bytes: int = Field(200 * 1024 * 1024 + 64 * 1024, ge=1024)  # multipart uploads
    metrics_token: str | None = None  # /metrics wants "Bearer <token>"; unset: loopback callers only
    metrics_cache_seconds: float = Field(5.0, ge=0)  # scrapes within this share one database read
    # Argon2 runs in this many threads at most (default: half the cores, at least one), so a
    # login flood leaves CPU for everyone else.
    password_hash_workers: int = Field(default_factory=lambda: max(1, (os.cpu_count() or 2) // 2), ge=1, le=16)
    # Render jobs (workflow/commands/render_jobs.py): how many run at once, each in a child
    # process (False: a thread of the service process, for tests and small machines).
    render_workers: int = Field(default=1, ge=1, le=8)
    render_processes: bool = True
    # Who runs render jobs: "service" (the pool above, in each service process) or "worker" (the
    # service only queues them; `huanjie render-worker` processes claim them, on PostgreSQL with
    # FOR UPDATE SKIP LOCKED). A running job's heartbeat is written every
    # `render_heartbeat_seconds`; one silent for `render_stale_seconds` (its process died) is
    # queued again, up to `render_max_attempts` starts. Finished jobs and their files are deleted
    # after `render_retention_days` (by the worker and the scheduler's daily job).
    render_runner: Literal["service", "worker"] = "service"
    render_poll_seconds: float = Field(2.0, gt=0)
    render_heartbeat_seconds: float = Field(10.0, gt=0)
    render_stale_seconds: float = Field(120.0, gt=0)
    render_max_attempts: int = Field(3, ge=1)
    render_retention_days: float = Field(7.0, gt=0)
    # A grid of more elections than this offers its 进度通报 (XLSX/DOCX) as a background job
    # (its page and download: /exports/{id}); smaller ones are written on the request.
    export_job_rows: int = Field(2000, ge=0)
    login_free_attempts: int = Field(5, ge=1)  # per account and address, then growing delays
    login_free_attempts_per_address: int = Field(20, ge=1)
    login_free_attempts_per_account: int = Field(50, ge=1)  # from every address together
    login_max_delay_seconds: float = Field(900.0, gt=0)  # the longest wait (per address, per pair)
    login_max_account_delay_seconds: float = Field(60.0, gt=0)  # never locks the real user out

    # -- scheduler (`huanjie worker`, or the service's own scheduler) -------------------------
    sweep_seconds: float = 60.0
    sweep_batch: int = 500
    digest_hour: int = 8
    timezone: str = "Asia/Shanghai"
    delivery_seconds: float = 10.0
    delivery_batch: int = 100

    # -- delivery: SMTP (the e-mail channel) --------------------------------------------------
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_from: str = "huanjie@localhost"
    smtp_user: str | None = None
    smtp_password: str | None = None  # may be "env:NAME": read from the environment at send time
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_timeout_seconds: float = Field(10.0, gt=0)

    # -- delivery: the outbox worker ------------------------------------------------------------
    delivery_http_timeout_seconds: float = Field(10.0, gt=0)
    delivery_max_attempts: int = Field(8, ge=1)  # then parked as failed
    delivery_backoff_base_seconds: float = Field(60.0, ge=0)  # wait after the first failure
    delivery_backoff_factor: float = Field(2.0, ge=1)
    delivery_backoff_max_seconds: float = Field(6 * 3600.0, ge=0)
    # A claimed row is leased for this long; a worker killed mid-send leaves it to be re-claimed
    # after the lease. Must exceed the time one batch takes to send.
    delivery_lease_seconds: float = Field(300.0, gt=0)


def get_settings() -> Settings:
    """Fresh settings from the current environment (cheap; tests set env vars and call again)."""
    return Settings()
