"""The terminal front end: the whole service without any chat platform or token.

Interactive when stdin is a terminal (with readline's line editing and history; readline
also reads a long paste whole, where the terminal's own line discipline cuts lines at
4,095 bytes); otherwise one message per line, so it can be scripted. A line starting with
`/triage ` is the slash command, as in Slack or Discord. `more` shows the details of the
last reply, the console's counterpart of the chat "More" button.
"""
from __future__ import annotations

import sys

from adapters.contract import Platform
from bot.messages import CONSOLE, SLASH, Incoming, Outgoing
from bot.render import MORE_HINT, has_details, plain_details
from bot.service import Service
from bot.vocabulary import FEEDBACK_CHOICES

BANNER = "Governance triage bot. Describe an AI concern, or type 'help'. 'quit' leaves."
# One local person at a terminal: no message limit worth splitting for, nobody to notify.
TERMINAL = Platform("console", message_chars=100_000)
USER = "console-user"
CHOICES = "|".join(FEEDBACK_CHOICES)
FORGET_PROMPT = "This deletes every record of your console triages and feedback in the data directory. Delete them? [y/N] "


class ConsoleAdapter:
    """The terminal as an `adapters.contract.Adapter`: an answer is the lines it prints."""

    platform = TERMINAL

    def __init__(self, service: Service) -> None:
        self.service = service

    def render(self, out: Outgoing) -> list[str]:
        lines = [out.text]
        if out.record_id:
            more = f"; {MORE_HINT}" if out.reply is not None and has_details(out.reply) else ""
            lines.append(f"(Was this right? `feedback {out.record_id} {CHOICES}`{more})")
        if out.attachment is not None:
            lines += ["", out.attachment.content.decode("utf-8", errors="replace").removesuffix("\n")]
        return lines


def run(args, build_service) -> int:
    moderator = (TERMINAL.name, USER) if getattr(args, "as_moderator", False) else None
    service = build_service(args, extra_moderator=moderator, watch=True)  # notices edits while idle
    service.on_reload = lambda event: print(event.describe(), file=sys.stderr, flush=True)
    console = ConsoleAdapter(service)
    interactive = sys.stdin.isatty()
    if interactive:
        _enable_line_editing()
        print(BANNER)
    last = None
    try:
        while True:
            line = _read(interactive)
            if line is None:
                return 0
            word = line.strip().lower()
            if interactive and word in ("quit", "exit"):
                return 0
            if word == "more":
                print(plain_details(last) if last is not None and has_details(last) else "There is nothing more to show yet: triage a concern first.")
                print("---", flush=True)
                continue
            if word == "forget me" and not _confirmed(interactive, FORGET_PROMPT):
                print("Nothing deleted.")
                print("---", flush=True)
                continue
            via, text = (SLASH, line[len("/triage "):]) if line.startswith("/triage ") else (CONSOLE, line)
            incoming = Incoming(TERMINAL.name, "local", "console", USER, text, via, event_id=None)
            for out in service.handle(incoming, TERMINAL.limits):
                print("\n".join(console.render(out)))
                if out.reply is not None:
                    last = out.reply
                rating = out.rating
                if rating is not None and rating.keep_question:  # a disagreeing rating: may the message be kept?
                    yes = _confirmed(interactive, f"{rating.keep_question} [y/N] ")
                    print(service.keep_text(TERMINAL.name, USER, rating.record_id, rating.choice, yes).text)
            print("---", flush=True)
    finally:
        service.close()


def _enable_line_editing() -> None:
    try:
        import readline  # noqa: F401 - importing it is what gives input() editing and history
    except ImportError:  # e.g. Windows without pyreadline: plain input() still works
        pass


def _confirmed(interactive: bool, prompt: str) -> bool:
    """A yes/no question, default no (`forget me` deletes every console record at once;
    keeping a message's text needs its author's yes). A script answers on the next line."""
    print(prompt, end="", flush=True)
    answer = _read(interactive, prompt="")
    if not interactive:
        print()
    return (answer or "").strip().lower() in ("y", "yes")


def _read(interactive: bool, prompt: str = "> ") -> str | None:
    if interactive:
        try:
            return input(prompt)
        except EOFError:
            print()
            return None
    raw = sys.stdin.buffer.readline()
    if not raw:
        return None
    return raw.decode("utf-8", errors="replace").rstrip("\r\n")
