"""Persistent buttons: feedback on a verdict, and "Post publicly" under a private answer.

Each button is a `DynamicItem` whose custom_id carries its state (the record id and the
choice), so one handler registered at start-up (`Client.add_dynamic_items` in setup_hook)
answers clicks on any message, including messages sent before the last restart. Views are
`timeout=None` and made only of dynamic items, so discord.py keeps no per-message state.
"""
from __future__ import annotations

import re

import discord

from bot.vocabulary import FEEDBACK, FEEDBACK_CHOICES

_RECORD = r"[0-9A-Za-z-]{1,64}"
FEEDBACK_PREFIX = "triage:fb:"
PUBLIC_PREFIX = "triage:pub:"
MORE_PREFIX = "triage:more:"
KEEP_PREFIX = "triage:keep:"
_LABELS = {  # agreeing is the green button; every correction looks alike
    c.name: (c.long_button, discord.ButtonStyle.success if c.export is None else discord.ButtonStyle.secondary)
    for c in FEEDBACK
}


def feedback_id(record_id: str, choice: str) -> str:
    return f"{FEEDBACK_PREFIX}{record_id}:{choice}"


class FeedbackButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=FEEDBACK_PREFIX + rf"(?P<record>{_RECORD}):(?P<choice>{'|'.join(map(re.escape, FEEDBACK_CHOICES))})",
):
    def __init__(self, record_id: str, choice: str) -> None:
        label, style = _LABELS[choice]
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=feedback_id(record_id, choice), row=0))
        self.record_id = record_id
        self.choice = choice

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]):
        return cls(match["record"], match["choice"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.client.answer_feedback(interaction, self.record_id, self.choice)


class PublicButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=PUBLIC_PREFIX + rf"(?P<record>{_RECORD}|-)",
):
    """Re-posts the (ephemeral) verdict it sits under as a normal channel message."""

    def __init__(self, record_id: str | None) -> None:
        super().__init__(discord.ui.Button(label="Post publicly", style=discord.ButtonStyle.primary,
                                           custom_id=f"{PUBLIC_PREFIX}{record_id or '-'}", row=1))
        self.record_id = record_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]):
        return cls(None if match["record"] == "-" else match["record"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.client.answer_post_publicly(interaction, self.record_id)


class MoreButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=MORE_PREFIX + rf"(?P<record>{_RECORD})",
):
    """The details of a verdict (framing, interventions, full evidence), answered ephemerally."""

    def __init__(self, record_id: str) -> None:
        super().__init__(discord.ui.Button(label="More", style=discord.ButtonStyle.secondary,
                                           custom_id=f"{MORE_PREFIX}{record_id}", row=1))
        self.record_id = record_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]):
        return cls(match["record"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.client.answer_more(interaction, self.record_id)


class KeepButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=KEEP_PREFIX + rf"(?P<record>{_RECORD}):(?P<choice>{'|'.join(map(re.escape, FEEDBACK_CHOICES))}):(?P<answer>yes|no)",
):
    """The author's answer to "may I keep your message?" after a disagreeing rating. It
    carries the rating, so any process can take the click; nothing is kept without a yes."""

    def __init__(self, record_id: str, choice: str, answer: str) -> None:
        label, style = ("Yes, keep it", discord.ButtonStyle.secondary) if answer == "yes" else ("No", discord.ButtonStyle.secondary)
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=f"{KEEP_PREFIX}{record_id}:{choice}:{answer}"))
        self.record_id, self.choice, self.answer = record_id, choice, answer

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]):
        return cls(match["record"], match["choice"], match["answer"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.client.answer_keep(interaction, self.record_id, self.choice, self.answer == "yes")


DYNAMIC_ITEMS = (FeedbackButton, PublicButton, MoreButton, KeepButton)


def keep_view(record_id: str, choice: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for answer in ("yes", "no"):
        view.add_item(KeepButton(record_id, choice, answer))
    return view


def verdict_view(record_id: str | None, *, private: bool) -> discord.ui.View | None:
    """Feedback buttons (when the triage was recorded) and, under a private answer, a
    "Post publicly" button. None when there is nothing to click."""
    view = discord.ui.View(timeout=None)
    if record_id:
        for choice in FEEDBACK_CHOICES:
            view.add_item(FeedbackButton(record_id, choice))
        view.add_item(MoreButton(record_id))
    if private:
        view.add_item(PublicButton(record_id))
    return view if view.children else None
