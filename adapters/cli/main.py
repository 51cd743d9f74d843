"""`triage-bot`: the command line, i.e. the composition root.

The one place that knows both the core (`bot`) and the front ends (`adapters`): it parses
arguments, builds the service and hands it to the front end asked for. Chat front ends
(`slack`, `discord`) are imported only when asked for, so the core commands and their
tests never load a chat SDK.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import sys
import time
from pathlib import Path

from bot.check import check, format_report
from bot.classify import triage
from bot.store import StoreUnavailable
from bot.transformer import ENCODERS, TransformerError
from bot.transformer import configure as configure_encoder

from .wiring import build_service, default_knowledge_dir, load_holder


def cmd_check(args) -> int:
    directory = Path(args.dir) if args.dir else args.knowledge
    started = time.perf_counter()
    report = check(directory)
    if args.new is not None:
        from .checknew import NotInGit, changed_lines, only_new

        try:
            report.problems = only_new(report.problems, changed_lines(directory, args.new))
        except NotInGit as exc:
            print(f"error: --new needs the knowledge in a git work tree: {exc}", file=sys.stderr)
            return 2
    print(format_report(report, directory, quiet=args.quiet, misses=args.misses))
    print(f"checked in {time.perf_counter() - started:.2f}s")
    return 0 if report.ok else 1


def cmd_ask(args) -> int:
    """One answer as a person sees it. Through the service without a store, so `ask help`
    or `ask topics` runs the command and `ask hi` gets the small-talk hint, as in chat."""
    from adapters.console import TERMINAL
    from bot.messages import CONSOLE, Incoming
    from bot.service import Service

    text = " ".join(args.text) if args.text else sys.stdin.read()
    service = Service(load_holder(args), None)
    for out in service.handle(Incoming(TERMINAL.name, "local", "ask", "ask-user", text, CONSOLE), TERMINAL.limits):
        print(out.text)
    return 0


def cmd_classify(args) -> int:
    holder = load_holder(args)
    out = sys.stdout.buffer
    if not args.jsonl:
        text = " ".join(args.text) if args.text else sys.stdin.read()
        out.write(_strict_json(_classified(holder.current, None, _clean(text))))
        return 0
    for n, raw in enumerate(sys.stdin.buffer, 1):
        try:
            line = _strict_json(_classify_line(holder.current, raw))
        except Exception as exc:  # noqa: BLE001 - one line must never cost the lines after it
            line = _strict_json({"id": None, "line": n, "error": _line_error(exc)})
        out.write(line)
    out.flush()
    return 0


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# Line breaks JSON leaves raw inside strings; readers that split on them (str.splitlines,
# JavaScript) would see one row as two.
_RAW_BREAKS = {"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"}


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _classify_line(knowledge, raw: bytes) -> dict:
    if not raw.strip():
        raise ValueError("blank line")
    obj = json.loads(raw, parse_constant=_reject_constant)
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        raise ValueError('each line must be a JSON object with a "text" string')
    return _classified(knowledge, _clean(obj.get("id")), _clean(obj["text"]))


def _clean(value):
    """JSON escapes can spell lone surrogates, which no UTF-8 output can carry: U+FFFD."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    return value


def _strict_json(row: dict) -> bytes:
    text = json.dumps(row, ensure_ascii=False, allow_nan=False)
    for raw_break, escaped in _RAW_BREAKS.items():
        text = text.replace(raw_break, escaped)
    return text.encode("utf-8") + b"\n"


def _line_error(exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return "JSON nested too deeply"
    if isinstance(exc, ValueError):  # JSONDecodeError, UnicodeDecodeError, NaN/Infinity
        return _LONE_SURROGATE.sub("\ufffd", str(exc))
    return f"cannot classify this line ({type(exc).__name__})"


def _classified(knowledge, ident, text: str) -> dict:
    verdict = triage(knowledge, text)
    return {"id": ident, **verdict.to_dict(), "knowledge_version": knowledge.version, "evidence": verdict.evidence_dict()}


def cmd_eval(args) -> int:
    from bot.evaluate import evaluate, format_result, progress_bar, read_labeled

    knowledge = load_holder(args).current
    path = Path(args.file)
    if not path.is_file():
        print(f"error: no such file: {path}", file=sys.stderr)
        return 2
    items, bad = read_labeled(path)
    show = None if args.no_progress or len(items) < 200 else progress_bar()
    result = evaluate(knowledge, items, show)
    result.bad_lines.extend(bad)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(format_result(result))
    return 0


def cmd_stats(args) -> int:
    from bot.chart import png, text_bars
    from bot.commands import WINDOWS

    if args.window not in WINDOWS:
        print(f"error: --window takes {', '.join(WINDOWS)}", file=sys.stderr)
        return 2

    def show(service) -> int:
        chart = service.stats_chart(WINDOWS[args.window])
        print(text_bars(chart))
        if args.png:
            Path(args.png).write_bytes(png(chart))
            print(f"chart written to {args.png}")
        return 0

    return _with_store(args, show)


def cmd_feedback(args) -> int:
    return _with_store(args, lambda service: _feedback(args, service))


def _with_store(args, work) -> int:
    """Operator commands that read the record store: one place that opens it, says so when
    there is none or the database is down, and closes it."""
    service = build_service(args)
    try:
        if service.store is None:
            print("error: no record store could be opened", file=sys.stderr)
            return 2
        try:
            return work(service)
        except StoreUnavailable as exc:
            return _unavailable(exc)
    finally:
        service.close()


def _unavailable(exc) -> int:
    """The database is down: say so, and that nothing was lost (records wait in the spool)."""
    print(f"error: the record store is unavailable right now ({exc}); records keep being spooled "
          "and are written when it is back. Try again later.", file=sys.stderr)
    return 2


def _feedback(args, service) -> int:
    """`feedback export` or `feedback stats` from the store."""
    if args.feedback_command == "export":
        content, count, without_text = service.export_feedback()
        if args.out:
            Path(args.out).write_text(content)
            print(f"{count} disagreement(s) written to {args.out} ({without_text} without stored text)")
        else:
            sys.stdout.write(content)
        return 0
    per = service.store.feedback_stats().per_category
    print(f"{'category':12}{'agree':>8}{'rated':>8}{'rate':>8}")
    for category in ("technical", "societal", "both", "unclear"):
        agree, total = per.get(category, (0, 0))
        rate = f"{agree / total:.0%}" if total else "-"
        print(f"{category:12}{agree:8d}{total:8d}{rate:>8}")
    agree = sum(a for a, _ in per.values())
    total = sum(t for _, t in per.values())
    print(f"{'all':12}{agree:8d}{total:8d}{(f'{agree / total:.0%}' if total else '-'):>8}")
    return 0


def cmd_console(args) -> int:
    from adapters.console import run

    return run(args, build_service)


def cmd_adapter(args) -> int:
    module = importlib.import_module(f"adapters.{args.command}.cli")
    return module.run(args, build_service)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        default=argparse.SUPPRESS,
        help="settings file, TOML or YAML (default: $TRIAGE_CONFIG)",
    )
    common.add_argument(
        "--knowledge",
        type=Path,
        default=argparse.SUPPRESS,
        help="knowledge directory (default: $TRIAGE_KNOWLEDGE_DIR or the project's knowledge/)",
    )
    common.add_argument(
        "--encoder",
        choices=ENCODERS,
        default=argparse.SUPPRESS,
        help="static (default: fast) or transformer (accurate mode: the fine-tuned MiniLM as a fourth "
        "view, 10-20 ms a message; default: $TRIAGE_ENCODER, else static)",
    )
    parser = argparse.ArgumentParser(prog="triage-bot", description=__doc__.splitlines()[0], parents=[common])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("console", parents=[common], help="chat with the bot in the terminal (no tokens needed)")
    p.add_argument("--as-moderator", action="store_true", help="run with the moderator role")
    p.set_defaults(func=cmd_console)

    p = sub.add_parser("ask", parents=[common], help="print one reply, as a person sees it")
    p.add_argument("text", nargs="*")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("classify", parents=[common], help="machine-readable verdicts (JSON)")
    p.add_argument("--jsonl", action="store_true", help='read {"id":..,"text":..} JSON Lines on stdin')
    p.add_argument("text", nargs="*")
    p.set_defaults(func=cmd_classify)

    p = sub.add_parser("eval", parents=[common], help="score the decision on labeled messages (ablation, calibration, misses)")
    p.add_argument("file", help="JSON Lines with text and label (or a knowledge examples .yaml)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("knowledge", parents=[common], help="knowledge files: check")
    ksub = p.add_subparsers(dest="knowledge_command", required=True)
    c = ksub.add_parser("check", parents=[common], help="validate a knowledge directory and run its examples")
    c.add_argument("dir", nargs="?", help="directory to check (default: --knowledge)")
    c.add_argument("--quiet", action="store_true", help="errors and the summary only, no warnings")
    c.add_argument("--new", nargs="?", const="HEAD", default=None, metavar="VERSION",
                   help="only warnings on lines changed since the last commit (or since VERSION, a git revision)")
    c.add_argument("--misses", type=int, default=0, metavar="N",
                   help="also list N of the examples the decision calls wrong out of fold, most confident first")
    c.set_defaults(func=cmd_check)

    p = sub.add_parser("stats", parents=[common], help="what concerns were raised (for ethics leads)")
    p.add_argument("--window", default="30d", help="7d, 30d or 90d (default 30d)")
    p.add_argument("--png", metavar="FILE", help="also write the chart as a PNG image")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("feedback", parents=[common], help="user feedback on triages")
    fsub = p.add_subparsers(dest="feedback_command", required=True)
    e = fsub.add_parser("export", parents=[common], help="disagreements as candidate knowledge examples (YAML)")
    e.add_argument("--out", metavar="FILE", help="write to FILE instead of stdout")
    e.set_defaults(func=cmd_feedback)
    fs = fsub.add_parser("stats", parents=[common], help="agreement rate per category")
    fs.set_defaults(func=cmd_feedback)

    from .report import add_parser as add_report

    add_report(sub, [common])

    p = sub.add_parser("bench", parents=[common], help="measure speed and memory")
    p.add_argument("--quick", action="store_true", help="fewer iterations (for smoke runs)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(func=lambda a: importlib.import_module("bot.bench").run(a))

    for name in _ADAPTER_COMMANDS:
        p = sub.add_parser(name, parents=[common], help=f"run the {name} front end ({name} --help for its options)", add_help=False)
        p.set_defaults(func=cmd_adapter, rest=[])
    return parser


_ADAPTER_COMMANDS: tuple[str, ...] = ("slack", "discord")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = build_parser()
    argv = list(argv)
    # Front ends parse their own flags (`triage-bot slack --http --port 3000`): argparse's
    # REMAINDER refuses a leading option, so everything after the front end's name is handed
    # over untouched.
    rest = None
    for i, word in enumerate(argv):
        if word in _ADAPTER_COMMANDS:
            argv, rest = argv[: i + 1], argv[i + 1 :]
            break
    args = parser.parse_args(argv)
    if rest is not None:
        args.rest = rest
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if getattr(args, "knowledge", None) is None:
        args.knowledge = default_knowledge_dir()
    if getattr(args, "encoder", None):
        os.environ["TRIAGE_ENCODER"] = args.encoder  # processes this one starts (bench's) choose the same
    try:
        configure_encoder(None)
    except TransformerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        return args.func(args) or 0
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
