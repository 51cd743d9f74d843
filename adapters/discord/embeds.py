"""Reply -> Discord embeds and message text, always inside Discord's documented limits.

Limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits):
content 2,000; embed title 256, description 4,096, 25 fields, field name 256, field value
1,024, footer 2,048; 6,000 characters over all embeds of a message. Anything longer is cut
at a line or word boundary with an ellipsis, never rejected, so a huge knowledge entry can
make a reply shorter but never make it fail.

The content comes from `bot.render.sections`, so an embed shows the same parts in the same
order as the console and Slack replies.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import discord

from adapters.contract import Platform
from bot.messages import Chart
from bot.render import cut, sections
from bot.reply import Reply
from bot.vocabulary import CATEGORY_TABLE, int_colour

# Discord allows 2,000 characters of content; the service splits text a little shorter so
# defusing @everyone (one zero-width space each) can never push a part over the limit.
DISCORD = Platform("discord", message_chars=1900, mass_mentions=("everyone", "here"), mention_breaker="\u200b")

CONTENT = 2000
TITLE = 256
DESCRIPTION = 4096
FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
TOTAL = 6000

SHORTENED = "Shortened to fit Discord's limits."

# One colour per category, the same palette as the PNG charts and the report (bot.vocabulary).
COLOURS = {c.name: int_colour(c.rgb) for c in CATEGORY_TABLE}
NEUTRAL = 0x5865F2  # Discord blurple: help, stats and other non-verdict answers

MAX_NOTE_FIELDS = 3


@dataclass
class EmbedSpec:
    """An embed as plain data: sized here, turned into `discord.Embed` at the end."""

    title: str
    description: str = ""
    colour: int = NEUTRAL
    fields: list[tuple[str, str]] = field(default_factory=list)
    footer: str = ""
    image: str | None = None
    shortened: bool = False

    def fit(self) -> "EmbedSpec":
        """Enforce every per-part limit, then the 6,000 total, shortening the longest parts
        first (so short fields survive intact and one essay cannot crowd out the rest)."""
        before = self._size()
        self.title = cut(self.title, TITLE) or "Reply"
        self.description = cut(self.description, DESCRIPTION)
        fields = [(cut(n, FIELD_NAME) or "-", cut(v, FIELD_VALUE) or "-") for n, v in self.fields]
        if len(fields) > FIELDS:
            dropped = len(fields) - (FIELDS - 1)
            fields = fields[: FIELDS - 1] + [("More", f"{dropped} more section(s) did not fit.")]
        self.fields = fields
        footer = self.footer
        reserved = len(self.title) + len(cut(_marked(footer), FOOTER))
        budget = TOTAL - reserved - sum(len(n) for n, _ in fields)
        if budget < 0:  # absurdly long field names: shorten them too
            self.fields = fields = [(cut(n, 64), v) for n, v in fields]
            budget = TOTAL - reserved - sum(len(n) for n, _ in fields)
        texts = [self.description] + [v for _, v in fields]
        if sum(map(len, texts)) > budget:
            cap = _water_level([len(t) for t in texts], max(budget, 0))
            texts = [cut(t, cap) for t in texts]
            self.description = texts[0]
            self.fields = [(n, v or "-") for (n, _), v in zip(fields, texts[1:])]
        if self._size() < before or self.shortened:
            self.shortened = True
            footer = _marked(footer)
        self.footer = cut(footer, FOOTER)
        while self._size() > TOTAL and self.fields:  # rounding safety net; practically never
            self.fields.pop()
        return self

    def _size(self) -> int:
        return len(self.title) + len(self.description) + len(self.footer) + sum(len(n) + len(v) for n, v in self.fields)

    def to_embed(self) -> discord.Embed:
        embed = discord.Embed(title=self.title, description=self.description or None, colour=self.colour)
        for name, value in self.fields:
            embed.add_field(name=name, value=value, inline=False)
        if self.footer:
            embed.set_footer(text=self.footer)
        if self.image:
            embed.set_image(url=self.image)
        return embed


def _marked(footer: str) -> str:
    return f"{footer} · {SHORTENED}" if footer else SHORTENED


def _water_level(lengths: list[int], budget: int) -> int:
    """The largest cap c with sum(min(len, c)) <= budget."""
    lo, hi = 0, max(lengths, default=0)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if sum(min(n, mid) for n in lengths) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _bullets(lines: list[str]) -> str:
    return "\n".join(f"• {line}" for line in lines)


def triage_spec(reply: Reply) -> EmbedSpec:
    """The verdict embed: headline as title, the evidence ("why") in the description, one
    field per remaining section (questions, intersections, pitfalls, who to involve,
    oversight, readings as links), coloured by category."""
    description: list[str] = []
    fields: list[tuple[str, str]] = []
    for heading, lines in sections(reply):
        if heading == "Note":
            description.append("\n".join(f"> {line}" for line in lines))
        elif heading == "Why":  # quotes the user's words: no markdown of theirs gets rendered
            description.append("**Why**\n" + _bullets([discord.utils.escape_markdown(line) for line in lines]))
        elif heading == "Framing":
            description.append("\n".join(lines))
        elif heading == "Pitfall":  # the title by default; the explanation is behind "More"
            fields.append(("⚠️ Pitfall", _bullets(lines)))
        elif heading == "Where it intersects":
            fields += _notes("Where it intersects", reply.intersection)
        elif heading == "Further reading":
            fields.append((heading, "\n".join(f"• [{_link_text(link.title)}]({link.url})" for link in reply.readings)))
        elif heading == "Involve":
            fields.append(("Who to involve", _bullets(list(reply.involve))))
        else:
            fields.append((heading, _bullets(lines)))
    footer = f"Category: {reply.category}"
    if reply.confidence:
        footer += f" · confidence {reply.confidence:.0%}"
    return EmbedSpec(
        title=reply.headline,
        description="\n\n".join(description),
        colour=COLOURS.get(reply.category, NEUTRAL),
        fields=fields,
        footer=footer,
    ).fit()


def _notes(heading: str, notes) -> list[tuple[str, str]]:
    """A field per note while there are few; one shared field beyond that, so many
    pitfalls can't push the questions and readings out of the 25 fields."""
    if len(notes) <= MAX_NOTE_FIELDS:
        return [(f"{heading}: {n.title}", n.text) for n in notes]
    return [(heading + "s", "\n".join(f"• **{n.title}**: {n.text}" for n in notes))]


def _link_text(title: str) -> str:
    return title.replace("[", "(").replace("]", ")")


def chart_spec(chart: Chart, text: str, image: str | None = None) -> EmbedSpec:
    """Stats: the text bars in a code block (readable everywhere, even with images off),
    plus the PNG as the embed image when one is attached."""
    fence = "```\n{}\n```"
    body = cut(text, DESCRIPTION - len(fence) + 2)
    return EmbedSpec(title=chart.title, description=fence.format(body), footer=chart.footer, image=image).fit()


def content(text: str) -> str:
    """Message content: mass mentions defused (on top of AllowedMentions.none(), so an
    echoed one does not even look like one), within Discord's 2,000 characters."""
    return cut(DISCORD.defuse(text), CONTENT)
