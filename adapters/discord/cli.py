"""`triage-bot discord`: run the Discord bot, or sync its commands and exit.

    triage-bot discord [--sharded] [--health-port PORT] [--health-host HOST]
    triage-bot discord --sync [--guild ID] [--clear]

Environment:
    DISCORD_TOKEN                the bot token (required; never logged)
    DISCORD_API_URL              REST base override, e.g. http://127.0.0.1:8080/api/v10 (tests,
                                 proxies); "/api/v10" is appended when missing. The gateway is
                                 then discovered from that API (GET /gateway/bot).
    DISCORD_GATEWAY_URL          explicit gateway websocket URL (wins over discovery)
    DISCORD_GUILD_READY_TIMEOUT  seconds to wait for guilds before on_ready (default 2)
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import sys

import discord

from adapters import runtime
from adapters.health import start_health_server

from . import shim
from .client import make_bot

log = logging.getLogger("adapters.discord")

_INTERACTION_TOKEN = re.compile(r"(/(?:webhooks|interactions)/\d+/)[A-Za-z0-9_.\-]{20,}")


def _parser() -> argparse.ArgumentParser:
    p = runtime.parser("discord", "Run the Discord front end.")
    p.add_argument("--sync", action="store_true", help="register the slash commands with Discord, then exit")
    p.add_argument("--guild", type=int, metavar="ID", help="with --sync: only this guild (instant; for testing)")
    p.add_argument("--clear", action="store_true", help="with --sync: remove the commands instead")
    p.add_argument("--sharded", action="store_true", help="run all shards Discord asks for (needed above ~1,000 guilds)")
    p.add_argument("--health-host", default="127.0.0.1", help="address for /healthz (default 127.0.0.1; 0.0.0.0 in containers)")
    return p


def run(args, build_service) -> int:
    parser = _parser()
    opts = parser.parse_args(runtime.own_flags(args))
    if (opts.guild or opts.clear) and not opts.sync:
        parser.error("--guild and --clear only go with --sync")
    token = os.environ.get("DISCORD_TOKEN", "").strip()
    if not token:
        return runtime.usage_error("set DISCORD_TOKEN to the bot token (Developer Portal → your app → Bot → Reset Token)")
    problem = runtime.start_logging(opts.log_level)
    if problem:
        return runtime.usage_error(problem)
    quiet_library_logs()
    api = configure_endpoints()
    try:
        ready_timeout = float(os.environ.get("DISCORD_GUILD_READY_TIMEOUT", "2"))
    except ValueError:
        return runtime.usage_error("DISCORD_GUILD_READY_TIMEOUT must be a number of seconds")
    if opts.sync:
        return asyncio.run(sync_commands(token, opts.guild, clear=opts.clear))

    service = build_service(args, watch=True)
    try:
        return asyncio.run(serve(service, token, opts, discover_gateway=api is not None, guild_ready_timeout=ready_timeout))
    finally:
        service.close()


def configure_endpoints() -> str | None:
    """Apply DISCORD_API_URL to discord.py's REST base (see `shim`)."""
    api = os.environ.get("DISCORD_API_URL", "").strip().rstrip("/")
    if not api:
        return None
    if not re.search(r"/api/v\d+$", api):
        api += "/api/v10"
    shim.set_api_base(api)
    return api


def quiet_library_logs() -> None:
    """discord.py at WARNING (no payload dumps, no session chatter), and interaction tokens
    masked in anything that is still logged (they appear in webhook URLs)."""
    for name in ("discord", "discord.http", "discord.gateway", "discord.client", "discord.state"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        handler.addFilter(_mask_interaction_tokens)


def _mask_interaction_tokens(record: logging.LogRecord) -> bool:
    message = record.getMessage()
    if _INTERACTION_TOKEN.search(message):
        record.msg, record.args = _INTERACTION_TOKEN.sub(r"\1[redacted]", message), ()
    return True


async def sync_commands(token: str, guild_id: int | None, *, clear: bool = False) -> int:
    """Log in over REST only (no gateway), register the command tree, exit."""
    bot = make_bot(None)
    try:
        async with bot:
            await bot.login(token)  # runs setup_hook: the command extension is loaded
            guild = discord.Object(id=guild_id) if guild_id else None
            if clear:
                bot.tree.clear_commands(guild=guild)
            elif guild is not None:
                bot.tree.copy_global_to(guild=guild)
            synced = await bot.tree.sync(guild=guild)
    except discord.LoginFailure:
        return runtime.usage_error("Discord rejected DISCORD_TOKEN")
    except discord.HTTPException as exc:
        print(f"error: sync failed: {exc.status} {exc.text or ''}".rstrip(), file=sys.stderr)
        return 1
    where = f"in guild {guild_id}" if guild_id else "globally"
    if clear:
        print(f"removed the commands {where}")
    else:
        names = ", ".join(sorted(c.name for c in synced))
        print(f"synced {len(synced)} command(s) {where}: {names}")
    return 0


async def serve(service, token: str, opts, *, discover_gateway: bool = False, guild_ready_timeout: float = 2.0) -> int:
    """Run until SIGTERM/SIGINT, then close the Discord connection cleanly (the caller
    closes the service, which flushes the record store)."""
    bot = make_bot(
        service,
        sharded=opts.sharded,
        guild_ready_timeout=guild_ready_timeout,
        gateway_url=os.environ.get("DISCORD_GATEWAY_URL") or None,
        discover_gateway=discover_gateway,
    )
    stopper = asyncio.create_task(runtime.wait_for_signal())
    await asyncio.sleep(0)  # let it install the handlers: from here on SIGTERM stops cleanly
    health = None
    try:
        async with bot:
            if opts.health_port is not None:
                health = await start_health_server(bot, opts.health_host, opts.health_port)
            runner = asyncio.create_task(bot.start(token))
            done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if stopper in done:
                log.info("shutting down")
                await bot.aclose()
            await runner
    except discord.LoginFailure:
        return runtime.usage_error("Discord rejected DISCORD_TOKEN")
    except (discord.HTTPException, discord.GatewayNotFound, discord.ConnectionClosed) as exc:
        log.error("discord connection failed", extra={"error": type(exc).__name__, "code": getattr(exc, "code", None)})
        return 1
    finally:
        stopper.cancel()
        if health is not None:
            await health.cleanup()
    log.info("stopped")
    return 0
