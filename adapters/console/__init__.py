"""The terminal front end: the whole service without any chat platform or token.

Interactive when stdin is a terminal; otherwise one message per line, so it can be
scripted. A line starting with `/triage ` is the slash command, as in Slack or Discord.
"""
from __future__ import annotations

import sys

from bot.messages import CONSOLE, SLASH, Incoming, Limits

BANNER = "Governance triage bot. Describe an AI concern, or type 'help'. 'quit' leaves."
LIMITS = Limits(message_chars=100_000)  # a terminal has no message limit worth splitting for
USER = "console-user"


def run(args, build_service) -> int:
    moderator = ("console", USER) if getattr(args, "as_moderator", False) else None
    service = build_service(args, extra_moderator=moderator)
    service.on_reload = lambda event: print(event.describe(), file=sys.stderr, flush=True)
    interactive = sys.stdin.isatty()
    if interactive:
        print(BANNER)
    n = 0
    try:
        while True:
            line = _read(interactive)
            if line is None:
                return 0
            if interactive and line.strip() in ("quit", "exit"):
                return 0
            n += 1
            via, text = (SLASH, line[len("/triage "):]) if line.startswith("/triage ") else (CONSOLE, line)
            incoming = Incoming("console", "local", "console", USER, text, via, event_id=None)
            for out in service.handle(incoming, LIMITS):
                print(out.text)
                if out.record_id:
                    print(f"\n(Was this right? `feedback {out.record_id} right|technical|societal|both|not-governance`)")
                if out.attachment is not None:
                    print()
                    print(out.attachment.content.decode("utf-8", errors="replace"), end="")
            print("---", flush=True)
    finally:
        service.close()


def _read(interactive: bool) -> str | None:
    if interactive:
        try:
            return input("> ")
        except EOFError:
            print()
            return None
    raw = sys.stdin.buffer.readline()
    if not raw:
        return None
    return raw.decode("utf-8", errors="replace").rstrip("\r\n")
