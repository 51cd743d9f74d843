"""`GET /healthz` for every chat front end, written once.

The adapter decides what healthy means (`ChatAdapter.health`: Slack's HTTP worker is
unhealthy while it drains, Discord's while the gateway is down); this module only serves
it: the status code a load balancer or an orchestrator acts on, and the report as JSON.
"""
from __future__ import annotations

from aiohttp import web

from .contract import ChatAdapter

HEALTH_PATH = "/healthz"


def add_health_route(app: web.Application, adapter: ChatAdapter) -> None:
    async def healthz(request: web.Request) -> web.StreamResponse:
        status, report = await adapter.health()
        return web.json_response(report, status=status)

    app.router.add_get(HEALTH_PATH, healthz)


async def start_health_server(adapter: ChatAdapter, host: str, port: int) -> web.AppRunner:
    """Serve only /healthz on `host:port` (for front ends whose traffic is not HTTP: Slack's
    Socket Mode, Discord's gateway). The caller cleans the runner up."""
    app = web.Application()
    add_health_route(app, adapter)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
