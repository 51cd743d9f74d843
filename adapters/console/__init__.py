"""The terminal front end: the bot without any chat platform or token."""
from __future__ import annotations

import sys

from bot.classify import triage
from bot.compose import compose
from bot.render import plain

BANNER = "Governance triage bot. Describe an AI concern; 'quit' to leave."


def run(args) -> int:
    from bot.cli import _holder

    holder = _holder(args)
    interactive = sys.stdin.isatty()
    if interactive:
        print(BANNER)
    while True:
        if interactive:
            try:
                line = input("> ")
            except EOFError:
                print()
                return 0
        else:
            raw = sys.stdin.buffer.readline()
            if not raw:
                return 0
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if interactive and line.strip() in ("quit", "exit"):
            return 0
        event = holder.maybe_reload()
        if event is not None:
            print(event.describe(), file=sys.stderr)
        knowledge = holder.current
        print(plain(compose(knowledge, triage(knowledge, line))))
        print("---", flush=True)
