"""Slack front end (slack-bolt, asyncio): Socket Mode or HTTP mode, Block Kit replies.

    triage-bot slack                      # Socket Mode (SLACK_APP_TOKEN)
    triage-bot slack --http --port 3000   # Events API over HTTP (SLACK_SIGNING_SECRET)

`app.SlackAdapter` holds the listeners, `blocks` renders Block Kit, `web` serves HTTP
(and supervises workers), `socket_mode` connects over WebSocket, `cli` parses flags.
`manifest.yaml` creates the Slack app with exactly the scopes and events used.
"""
from __future__ import annotations

__all__ = ["SlackAdapter", "Settings"]


def __getattr__(name: str):  # lazy: importing the package must not pull in bolt
    if name in __all__:
        from . import app

        return getattr(app, name)
    raise AttributeError(name)
