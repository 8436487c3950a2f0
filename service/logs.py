"""Structured logs: one JSON object per line on stderr (python-json-logger), for the service's
own loggers and uvicorn's. `configure` is called by `huanjie serve`, never at import."""

from __future__ import annotations

import logging
import logging.config

from service.sanitize import RedactIds

JSON_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class DropColor(logging.Filter):
    """uvicorn adds an ANSI-coloured copy of each message; JSON logs keep the plain one."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.__dict__.pop("color_message", None)
        return True


def log_config(json_logs: bool = True, level: str = "INFO") -> dict:
    formatter = (
        {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": JSON_FORMAT,
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
        if json_logs
        else {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        # redact_ids: no whole ID number in any log line or traceback (service/sanitize.py).
        "filters": {"drop_color": {"()": DropColor}, "redact_ids": {"()": RedactIds}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["drop_color", "redact_ids"],
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "huanjie": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            # Requests are logged by the service's own middleware, with the route and the user.
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "apscheduler": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
        },
    }


def configure(json_logs: bool = True, level: str = "INFO") -> dict:
    config = log_config(json_logs, level)
    logging.config.dictConfig(config)
    return config
