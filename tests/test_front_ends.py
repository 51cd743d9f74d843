"""The front-end contract (adapters/contract.py): each front end declares its platform as
data and implements the contract, and the shared pieces behave the same for all."""
from __future__ import annotations

import inspect

from adapters.contract import Adapter, ChatAdapter, Platform


def _front_ends():
    from adapters.console import ConsoleAdapter
    from adapters.discord.client import ShardedTriageBot, TriageBot
    from adapters.slack.app import SlackAdapter

    return {"console": ConsoleAdapter, "slack": SlackAdapter, "discord": TriageBot, "discord-sharded": ShardedTriageBot}


def test_every_front_end_implements_the_contract():
    chat = {"slack", "discord", "discord-sharded"}
    for name, cls in _front_ends().items():
        assert isinstance(cls.platform, Platform), name
        assert callable(cls.render), name
        for method in ("health", "aclose"):
            assert (name in chat) == inspect.iscoroutinefunction(getattr(cls, method, None)), (name, method)
    from adapters.console import ConsoleAdapter

    assert isinstance(ConsoleAdapter(None), Adapter) and not isinstance(ConsoleAdapter(None), ChatAdapter)
    assert len({cls.platform.name for cls in _front_ends().values()}) == 3


def test_mass_mentions_are_defused_the_platform_s_way():
    slack = _front_ends()["slack"].platform
    discord = _front_ends()["discord"].platform
    assert slack.defuse("@channel @Here @everyone @channels") == "@\u2060channel @\u2060Here @\u2060everyone @channels"
    assert discord.defuse("@everyone @here @channel") == "@\u200beveryone @\u200bhere @channel"
    assert _front_ends()["console"].platform.defuse("@everyone") == "@everyone"  # a terminal notifies nobody
