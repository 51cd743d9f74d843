"""Socket Mode: the app opens a WebSocket to Slack (SLACK_APP_TOKEN, xapp-...), so no public
URL, TLS certificate or signing secret is needed. The default for small teams."""
from __future__ import annotations

import logging
import os

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from adapters.health import start_health_server
from adapters.runtime import wait_for_signal

from .app import SlackAdapter, sdk_logger

log = logging.getLogger("adapters.slack.socket")


async def connect(adapter: SlackAdapter) -> AsyncSocketModeHandler:
    app = await adapter.start()
    handler = AsyncSocketModeHandler(app, app_token=adapter.settings.app_token, logger=sdk_logger())
    await handler.connect_async()
    return handler


async def disconnect(adapter: SlackAdapter, handler: AsyncSocketModeHandler) -> None:
    """Stop receiving, drain the replies in flight, close the Service."""
    adapter.draining = True
    try:
        await handler.close_async()
    finally:
        await adapter.aclose()


async def serve_socket_mode(adapter: SlackAdapter, *, health_host: str = "127.0.0.1", health_port: int | None = None) -> None:
    handler = await connect(adapter)
    runner = await start_health_server(adapter, health_host, health_port) if health_port is not None else None
    log.info("slack socket mode connected", extra={"pid": os.getpid(), "health_port": health_port})
    try:
        await wait_for_signal()
        log.info("slack socket mode stopping", extra={"pid": os.getpid()})
    finally:
        await disconnect(adapter, handler)
        if runner is not None:
            await runner.cleanup()
