"""Every use of a discord.py internal (2.x) by the front end and its test kit, and why no
public API does it.

  * Where REST goes: discord.py builds every URL from the class attribute `Route.BASE`
    (the HTTP client and the webhook adapter that sends interaction callbacks alike), and
    has no setting for it; `DISCORD_API_URL` (a proxy, the tests' fake Discord) is applied
    there.
  * Where the gateway is: `Client.connect()` opens `DiscordWebSocket.DEFAULT_GATEWAY` and
    never asks the API (only `AutoShardedClient` calls GET /gateway/bot); there is no
    parameter for it either.
  * A member's role ids: the public `Member.roles` resolves ids through the guild cache and
    drops the ones it cannot resolve, so a member of a guild not (yet) cached would have no
    roles; the ids Discord sent with the member are kept in `Member._roles`.
  * The voice warnings: the bot never joins voice, yet `Client.__init__` warns about
    missing voice libraries unless the undocumented `VoiceClient.warn_*` flags are off.
"""
from __future__ import annotations

import contextlib
from typing import Iterator

import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route


def set_api_base(url: str) -> None:
    Route.BASE = url


def set_gateway(url: str) -> None:
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)


@contextlib.contextmanager
def endpoints(api_base: str, gateway: str) -> Iterator[None]:
    """REST and gateway pointed at another Discord (the tests' fake) while inside."""
    before = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    set_api_base(api_base)
    set_gateway(gateway)
    try:
        yield
    finally:
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = before


def role_ids(user: discord.abc.User) -> frozenset[str]:
    """Role ids of a guild member, from the member payload itself; empty outside a guild."""
    ids = getattr(user, "_roles", None)
    if ids is None:
        ids = [r.id for r in getattr(user, "roles", ())]
    return frozenset(str(i) for i in ids)


def no_voice_warnings() -> None:
    discord.VoiceClient.warn_nacl = False
    if hasattr(discord.VoiceClient, "warn_dave"):
        discord.VoiceClient.warn_dave = False
