"""The words every front end shares, in one place: categories and feedback choices.

A category's cue (Slack's emoji and title, the report's name) and colour, and a feedback
choice's button labels, confirmation and export label are declared once here; the store,
the service, the charts, the report and every front end read them. Adding a choice or
renaming a category is one edit, and no front end can drift out of step.
"""
from __future__ import annotations

from dataclasses import dataclass

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Category:
    name: str
    title: str  # the chat cue: "Category: *Technical safety*"
    report_name: str  # how report.html names it
    emoji: str  # Slack's cue in front of the headline
    rgb: RGB  # one colour everywhere: PNG charts, report.html, Discord embeds


@dataclass(frozen=True)
class Choice:
    name: str
    button: str  # short button text (Slack)
    long_button: str  # button text where there is room for a sentence (Discord)
    thanks: str  # "Thanks, recorded: <thanks>."
    export: str | None  # the label a disagreement gets in `feedback export` (None: agreed)


CATEGORY_TABLE = (
    Category("technical", "Technical safety", "Technical safety", ":large_blue_circle:", (52, 120, 246)),
    Category("societal", "Societal safety", "Societal safety", ":large_orange_circle:", (230, 126, 34)),
    Category("both", "Technical and societal", "Both", ":large_purple_circle:", (142, 68, 173)),
    Category("unclear", "Unclear", "Not a governance concern", ":white_circle:", (149, 165, 166)),
)
FEEDBACK = (
    Choice("right", "Right call", "Right call", "right", None),
    Choice("technical", "Technical", "Should be technical", "should be technical", "technical"),
    Choice("societal", "Societal", "Should be societal", "should be societal", "societal"),
    Choice("both", "Both", "Should be both", "should be both", "both"),
    Choice("not-governance", "Not governance", "Not governance", "not a governance concern", "unclear"),
)

LABELS = tuple(c.name for c in CATEGORY_TABLE)  # everything a verdict can say
CATEGORIES = LABELS[:3]  # the governance categories ("unclear" is none of them)
BY_CATEGORY = {c.name: c for c in CATEGORY_TABLE}
PALETTE: dict[str, RGB] = {c.name: c.rgb for c in CATEGORY_TABLE}
NEUTRAL_RGB: RGB = (52, 152, 219)  # bars and spans that are no category

FEEDBACK_CHOICES = tuple(c.name for c in FEEDBACK)
FEEDBACK_BY_NAME = {c.name: c for c in FEEDBACK}
FEEDBACK_LABELS = {c.name: c.thanks for c in FEEDBACK}
EXPORT_LABELS = {c.name: c.export for c in FEEDBACK if c.export}


def css_colour(rgb: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def int_colour(rgb: RGB) -> int:
    r, g, b = rgb
    return (r << 16) | (g << 8) | b
