"""Command words, the same on every platform, and their parsing.

A message that does not start with a command word is a concern to triage: people write
"@bot the model invents citations", not "@bot triage the model invents citations".
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .vocabulary import FEEDBACK_CHOICES

WINDOWS = {"7d": 7, "30d": 30, "90d": 90}
MODERATOR_COMMANDS = frozenset({"reload", "feedback export"})

HELP = """I triage AI-governance concerns: technical safety (does the system behave as intended?), societal safety (who decides, who benefits, who bears the costs?), or both.

Commands:
  triage <concern>        classify a concern and suggest next steps (or just write the concern)
  topics                  list the intersection topics and pitfalls
  reading <id>            readings for a category, topic or pitfall (e.g. reading algorithmic-bias)
  stats [7d|30d|90d]      what concerns have been raised, and how often my calls held up
  feedback <id> <choice>  rate a triage: """ + ", ".join(FEEDBACK_CHOICES) + """
  forget me               delete every record of your triages and feedback
  reload                  reload the knowledge files (moderators)
  feedback export         disagreements as candidate examples (moderators)
  help                    this text"""


@dataclass(frozen=True)
class Command:
    name: str  # triage | help | topics | reading | stats | reload | feedback export | feedback | forget me
    arg: str = ""
    problem: str = ""  # why the arguments were not understood; the reply shows help with it


_WORD = re.compile(r"\s+")


def parse(text: str) -> Command:
    stripped = text.strip()
    words = _WORD.split(stripped, maxsplit=2) if stripped else []
    if not words:
        return Command("help")
    head = words[0].lower().lstrip("/")
    rest = stripped[len(words[0]) :].strip()
    if head == "help" and not rest:
        return Command("help")
    if head == "topics" and not rest:
        return Command("topics")
    if head == "reload" and not rest:
        return Command("reload")
    if head in ("reading", "readings"):
        if not rest or " " in rest:
            return Command("reading", rest, "reading needs one category, topic or pitfall id")
        return Command("reading", rest.lower())
    if head == "stats":
        window = rest.lower() or "30d"
        if window not in WINDOWS:
            return Command("stats", window, f"stats takes {', '.join(WINDOWS)}, not '{rest}'")
        return Command("stats", window)
    if head == "forget" and rest.lower() == "me":
        return Command("forget me")
    if head == "feedback":
        if rest.lower() == "export":
            return Command("feedback export")
        parts = rest.split()
        if len(parts) == 2:
            return Command("feedback", f"{parts[0]} {parts[1].lower()}")
        # "feedback <id>" with no choice (or too many words) is a mistyped command, not a concern
        return Command("feedback", rest, f"use: feedback <record id> <{'|'.join(FEEDBACK_CHOICES)}>")
    if head == "triage":
        return Command("triage", rest) if rest else Command("help", "", "triage needs a concern to look at")
    return Command("triage", stripped)
