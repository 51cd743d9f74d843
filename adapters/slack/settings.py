"""The Slack front end's settings and the quiet logger handed to bolt and slack_sdk."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

DEFAULT_API_URL = "https://slack.com/api/"


def sdk_logger() -> logging.Logger:
    """The logger handed to bolt and slack_sdk: WARNING and up only. At INFO bolt logs the
    whole request body on a bad signature, and slack_sdk DEBUG-logs request parameters."""
    logger = logging.getLogger("adapters.slack.sdk")
    logger.setLevel(logging.WARNING)
    if not any(isinstance(f, _Expected) for f in logger.filters):
        logger.addFilter(_Expected())
    return logger


class _Expected(logging.Filter):
    """Drops bolt's warning that SLACK_BOT_TOKEN from the environment is unused because we
    pass our own client (which carries that same token)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith("As you gave `client` as well"))


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    """Secrets and switches, from the environment only (never from the config file)."""

    bot_token: str = field(repr=False)
    signing_secret: str = field(default="", repr=False)
    app_token: str = field(default="", repr=False)
    api_url: str = ""
    upload_charts: bool = False  # needs the files:write scope
    drain_seconds: float = 10.0

    @classmethod
    def from_env(cls, env=None, **overrides) -> Settings:
        env = os.environ if env is None else env
        values = {
            "bot_token": env.get("SLACK_BOT_TOKEN", ""),
            "signing_secret": env.get("SLACK_SIGNING_SECRET", ""),
            "app_token": env.get("SLACK_APP_TOKEN", ""),
            "api_url": env.get("SLACK_API_URL", ""),
            "upload_charts": _truthy(env.get("SLACK_UPLOAD_CHARTS")),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @property
    def base_url(self) -> str:
        url = self.api_url or DEFAULT_API_URL
        return url if url.endswith("/") else url + "/"
