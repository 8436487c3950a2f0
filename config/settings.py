"""Process settings from the environment (HUANJIE_*), read at the edges, never at import time.

Other parts add their fields here; keep each group together under a comment.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUANJIE_", extra="ignore")

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
