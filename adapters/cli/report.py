"""The `report` command: arguments in, three files out, an exit code that tells a script
whether the whole export was read.

Exit codes: 0 every input was read; 1 something could not be read (each problem was printed
on stderr and listed in summary.json, and everything else was processed); 2 nothing was run
(bad arguments, unloadable knowledge, an output folder that cannot be written).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import sys
import time
from pathlib import Path

from bot.report import html
from bot.report.pipeline import Options, default_workers, run

from .wiring import load_holder

PROG = "triage-bot report"


def add_parser(sub, parents) -> None:
    p = sub.add_parser("report", parents=parents, help="triage exported chat history into a report (verdicts, summary, HTML)",
                       description="Triage Slack exports (zip or folder), DiscordChatExporter JSON and JSON Lines.")
    p.add_argument("exports", nargs="+", metavar="EXPORT", help="export files or folders, any mix (detected by content)")
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="folder for verdicts.jsonl, summary.json, report.html")
    p.add_argument("--since", type=_date, metavar="DATE", help="only messages on or after DATE (YYYY-MM-DD, UTC)")
    p.add_argument("--until", type=_date, metavar="DATE", help="only messages up to and including DATE")
    p.add_argument("--channel", action="extend", nargs="+", default=[], metavar="NAME", help="only these channels")
    p.add_argument("--include-text", action="store_true", help="write message text into verdicts.jsonl and examples into the report")
    p.add_argument("--workers", type=int, default=None, metavar="N", help="worker processes (default: the CPU count)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar even on a terminal")
    p.set_defaults(func=cmd_report)


def cmd_report(args) -> int:
    knowledge = load_holder(args).current
    workers = args.workers if args.workers is not None else default_workers()
    if workers < 1:
        return _usage("--workers takes a number of at least 1")
    until = args.until + 86400 if args.until is not None else None  # the whole last day
    if args.since is not None and until is not None and until <= args.since:
        return _usage("--until is before --since")
    try:
        args.out.mkdir(parents=True, exist_ok=True)
        verdicts = (args.out / "verdicts.jsonl").open("w", encoding="utf-8")
    except OSError as exc:
        return _usage(f"cannot write to {args.out}: {exc.strerror or exc}")
    salt = os.environ.get("TRIAGE_REPORT_SALT", "").encode() or secrets.token_bytes(16)
    options = Options(args.knowledge, salt, args.since, until, frozenset(c.lstrip("#").casefold() for c in args.channel),
                      args.include_text, workers)
    live = sys.stderr.isatty() and not args.no_progress
    started = time.perf_counter()
    with verdicts:
        outcome = run(args.exports, options, verdicts, _print_error, sys.stderr if live else None, knowledge)
    elapsed = time.perf_counter() - started
    tally = outcome.tally
    meta = {
        "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "knowledge_version": knowledge.version,
        "inputs": outcome.inputs,
        "filters": {"since": _iso(args.since), "until": _iso(args.until), "channels": sorted(options.channels),
                    "include_text": args.include_text},
        "period": {"first": _iso(tally.first, True), "last": _iso(tally.last, True)},
        "seconds": round(elapsed, 3),
        "workers": workers,
    }
    summary = tally.summary(outcome.errors, meta)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (args.out / "report.html").write_text(html.render(summary), encoding="utf-8")
    skipped = sum(tally.skipped.values())
    print(f"{tally.read:,} messages read, {tally.triaged:,} triaged, {skipped:,} skipped, {len(outcome.errors):,} errors "
          f"in {elapsed:.1f}s; wrote {args.out}/report.html, summary.json, verdicts.jsonl")
    return 1 if outcome.errors else 0


def _print_error(problem) -> None:
    print(f"{PROG}: skipped {problem}", file=sys.stderr, flush=True)


def _usage(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2


def _date(text: str) -> float:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp()


def _iso(ts: float | None, seconds: bool = False) -> str | None:
    if ts is None:
        return None
    when = dt.datetime.fromtimestamp(ts, dt.timezone.utc)
    return when.isoformat(timespec="seconds") if seconds else when.date().isoformat()
