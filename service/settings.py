"""Service settings from the environment (HUANJIE_*), read when the app is built, never at import."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUANJIE_", extra="ignore")

    db: str | None = None  # database URL; default: the SQLite file in the user's data directory
    session_hours: int = 12  # dashboard login lifetime
    cookie_secure: bool = False  # set true behind HTTPS so cookies are never sent in clear
    json_logs: bool = True
    migrate_on_start: bool = True  # `upgrade heads` when the app starts (off when ops run Alembic)
