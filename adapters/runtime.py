"""What every chat front end does around its platform code, written once: its command-line
flags, logging, and waiting for the signal to stop.

`triage-bot <front end> ...` hands everything after the front end's name to the front end
(`args.rest`), which parses it with `parser()` (plus flags of its own) and `own_flags()`.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys

from bot.logs import setup_logging

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def parser(name: str, description: str) -> argparse.ArgumentParser:
    """The flags every front end takes; each adds its own."""
    p = argparse.ArgumentParser(prog=f"triage-bot {name}", description=description)
    p.add_argument("--health-port", type=int, default=None, metavar="PORT", help="also serve GET /healthz on this port")
    p.add_argument("--log-level", default=os.environ.get("TRIAGE_LOG_LEVEL", "INFO"),
                   help="DEBUG, INFO, WARNING or ERROR (default $TRIAGE_LOG_LEVEL or INFO)")  # fmt: skip
    return p


def own_flags(args) -> list[str]:
    """The front end's words from the command line; in `triage-bot slack -- --http` the
    separator is the shell user's, not a flag."""
    rest = list(getattr(args, "rest", None) or [])
    return rest[1:] if rest[:1] == ["--"] else rest


def usage_error(message: str) -> int:
    """A setup problem the operator can fix: one line on stderr, exit code 2."""
    print(f"error: {message}", file=sys.stderr)
    return 2


def start_logging(level: str) -> str | None:
    """JSON logs at `level`; the problem with the level, or None."""
    try:
        setup_logging(level.upper())
    except ValueError:
        return f"unknown log level {level!r}"
    return None


async def wait_for_signal() -> None:
    """Return on SIGTERM or SIGINT (what an orchestrator or Ctrl-C sends), so the caller
    can stop accepting work and drain; the handlers are removed again on the way out."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)
