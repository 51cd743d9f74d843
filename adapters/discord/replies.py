"""Outgoing -> Discord messages ("posts"): what to send, before deciding how to send it.

Rendering is pure data (no discord.py objects that need the event loop), so it can run in
a worker thread next to the service call: PNG charts are drawn there, off the gateway loop.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field

import discord

from bot.chart import png
from bot.commands import HELP
from bot.messages import Kind, Outgoing
from bot.render import cut

from . import embeds as E
from .views import keep_view, verdict_view

DISCORD_HELP = (
    "On Discord: `/triage ask concern:…` (only you see the answer unless you choose `public`), "
    "`/triage help|topics|reading|stats`, right-click a message → Apps → **Triage this message**, "
    "or mention me / send me a DM with the concern."
)


MAX_PARTS = 3
LONG_NOTE = "\n\n(That's the beginning; the whole answer is in the attached file.)"


@dataclass
class Post:
    content: str | None = None
    embeds: list[E.EmbedSpec] = field(default_factory=list)
    files: list[tuple[str, bytes]] = field(default_factory=list)
    record_id: str | None = None  # feedback buttons
    verdict: bool = False  # a triage verdict: gets buttons
    private: bool = False  # only the caller should see it
    keep: tuple[str, str] | None = None  # (record id, choice): ask whether the message may be kept

    def view(self, *, offer_public: bool) -> discord.ui.View | None:
        if self.keep is not None:
            return keep_view(*self.keep)
        if not self.verdict:
            return None
        return verdict_view(self.record_id, private=offer_public and self.private)

    def kwargs(self, *, offer_public: bool = True) -> dict:
        """Arguments for send_message / followup.send / Messageable.send."""
        kw: dict = {}
        if self.content:
            kw["content"] = self.content
        if self.embeds:
            kw["embeds"] = [e.to_embed() for e in self.embeds]
        if self.files:
            kw["files"] = self.discord_files()
        view = self.view(offer_public=offer_public)
        if view is not None:
            kw["view"] = view
        return kw

    def discord_files(self) -> list[discord.File]:
        return [discord.File(io.BytesIO(data), filename=name) for name, data in self.files]


def _discord_help(text: str, parts: list[str]) -> list[str]:
    """The shared help text with its command list in a code block (Discord collapses the
    alignment otherwise) and a line on the Discord surfaces."""
    intro, sep, listing = HELP.partition("\n\nCommands:\n")
    if not sep:
        return [*parts, DISCORD_HELP]
    before = text[: text.index(HELP)]
    formatted = f"{before}{intro}\n```\n{listing}\n```\n{DISCORD_HELP}"
    return [formatted] if len(formatted) <= E.CONTENT - 100 else [*parts, DISCORD_HELP]


def render(out: Outgoing, *, public: bool = False, charts_as_png: bool = True) -> list[Post]:
    """One Outgoing as one or more posts. `public` is the caller's wish; the service's
    `private` flag (refusals, rate limits, exports) always wins."""
    private = out.private or not public
    if out.reply is not None:
        return [Post(embeds=[E.triage_spec(out.reply)], record_id=out.record_id, verdict=True, private=private)]
    if out.chart is not None:
        files, image = [], None
        if charts_as_png:
            files, image = [("stats.png", png(out.chart))], "attachment://stats.png"
        return [Post(embeds=[E.chart_spec(out.chart, out.text, image)], files=files, private=private)]
    if out.attachment is not None:
        return [Post(content=E.content(out.text), files=[(out.attachment.filename, out.attachment.content)], private=private)]
    if out.rating is not None and out.rating.keep_question:  # a disagreeing rating: ask the author
        return [Post(content=E.content(f"{out.text}\n\n{out.rating.keep_question}"), private=True,
                     keep=(out.rating.record_id, out.rating.choice))]
    parts = list(out.parts or (out.text,))
    if out.kind == Kind.HELP and HELP in out.text:
        parts = _discord_help(out.text, parts)
    if len(parts) > MAX_PARTS:
        # More than a few messages is a wall: the beginning as a message, the whole as a file.
        head = cut(E.DISCORD.defuse(parts[0]), E.CONTENT - len(LONG_NOTE)) + LONG_NOTE
        return [Post(content=head, files=[(f"{out.kind}.txt", out.text.encode())], private=private)]
    return [Post(content=E.content(p), private=private) for p in parts]
