"""`GET /healthz`: is the bot connected to Discord, and how is the service?

200 when on_ready has fired and the gateway socket(s) are open, else 503. The service's
own health (knowledge version, record store) is reported in the body but does not fail
the probe: with the store down the bot keeps answering (records are spooled), and
restarting it would not bring the database back.
"""
from __future__ import annotations

import asyncio

from aiohttp import web


async def start_health_server(bot, service, host: str, port: int) -> web.AppRunner:
    async def healthz(request: web.Request) -> web.Response:
        discord_status = bot.status()
        service_status = await asyncio.to_thread(service.health, True) if service is not None else None
        ok = discord_status["ready"] and discord_status["connected"]
        body = {"ok": ok, "discord": discord_status, "service": service_status}
        return web.json_response(body, status=200 if ok else 503)

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
