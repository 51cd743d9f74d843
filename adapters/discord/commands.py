"""Application commands, as a discord.py extension (loaded in setup_hook, never synced there).

Shape (Discord does not let a command with subcommands also take options of its own, so
the concern lives in a subcommand):

    /triage ask concern:<text> [public]        the everyday command
    /triage help | topics [public] | reading id:<id> [public] | stats [window] [public]
    /triage forget-me
    /triage reload                              moderators (configured role ids)
    /triage feedback export                     moderators
    Message context menu: "Triage this message"

Every subcommand maps to the service's own text command, so Discord, Slack, mentions and
the console answer the same thing; role checks happen in the service.
"""
from __future__ import annotations

import discord
from discord import app_commands
from discord.app_commands import Choice

from bot.commands import WINDOWS
from bot.messages import ACTION, SLASH

CONTEXT_MENU = "Triage this message"
PUBLIC = "Post the answer in the channel for everyone (default: only you see it)"


def build() -> tuple[app_commands.Group, app_commands.ContextMenu]:
    triage = app_commands.Group(
        name="triage", description="Triage an AI-governance concern: technical safety, societal safety, or both"
    )

    @triage.command(name="ask", description="Triage a concern: technical, societal, or both, and what to do next")
    @app_commands.describe(concern="Describe the concern in a sentence or two", public=PUBLIC)
    async def ask(interaction: discord.Interaction, concern: app_commands.Range[str, 1, 4000], public: bool = False) -> None:
        await interaction.client.answer(interaction, f"triage {concern}", SLASH, public=public)

    @triage.command(name="help", description="What the bot does and how to use it")
    async def help_(interaction: discord.Interaction) -> None:
        await interaction.client.answer(interaction, "help", SLASH)

    @triage.command(name="topics", description="Intersection topics and common pitfalls")
    @app_commands.describe(public=PUBLIC)
    async def topics(interaction: discord.Interaction, public: bool = False) -> None:
        await interaction.client.answer(interaction, "topics", SLASH, public=public)

    @triage.command(name="reading", description="Further reading on a category, topic or pitfall")
    @app_commands.rename(entry="id")
    @app_commands.describe(entry="A category, topic or pitfall id, e.g. algorithmic-bias", public=PUBLIC)
    async def reading(interaction: discord.Interaction, entry: app_commands.Range[str, 1, 100], public: bool = False) -> None:
        await interaction.client.answer(interaction, f"reading {entry}", SLASH, public=public)

    @reading.autocomplete("entry")
    async def reading_ids(interaction: discord.Interaction, current: str) -> list[Choice[str]]:
        service = interaction.client.service
        if service is None:
            return []
        k = service.holder.current
        needle = current.strip().lower()
        ids = [i for i in (*k.categories, *k.topics, *k.pitfalls) if needle in i.lower()]
        return [Choice(name=i, value=i) for i in ids[:25]]

    @triage.command(name="stats", description="What concerns were raised, as a chart")
    @app_commands.describe(window="Time window (default: last 30 days)", public=PUBLIC)
    @app_commands.choices(window=[Choice(name=f"last {days} days", value=key) for key, days in WINDOWS.items()])
    async def stats(interaction: discord.Interaction, window: Choice[str] | None = None, public: bool = False) -> None:
        await interaction.client.answer(interaction, f"stats {window.value if window else '30d'}", SLASH, public=public)

    @triage.command(name="forget-me", description="Delete every record of your triages and feedback")
    async def forget_me(interaction: discord.Interaction) -> None:
        await interaction.client.answer(interaction, "forget me", SLASH)

    @triage.command(name="reload", description="Reload the knowledge files (moderators)")
    async def reload(interaction: discord.Interaction) -> None:
        await interaction.client.answer(interaction, "reload", SLASH)

    feedback = app_commands.Group(name="feedback", description="User feedback on triages", parent=triage)

    @feedback.command(name="export", description="Disagreements as candidate knowledge examples, YAML (moderators)")
    async def export(interaction: discord.Interaction) -> None:
        await interaction.client.answer(interaction, "feedback export", SLASH)

    async def triage_message(interaction: discord.Interaction, message: discord.Message) -> None:
        await interaction.client.answer(interaction, message_text(message), ACTION)

    menu = app_commands.ContextMenu(name=CONTEXT_MENU, callback=triage_message)
    return triage, menu


def message_text(message: discord.Message) -> str:
    """The target message's words: its content, else the text of its embeds (a shared
    article, another bot's card), so "Triage this message" works on those too."""
    if message.content.strip():
        return message.content
    pieces = []
    for embed in message.embeds:
        pieces += [embed.title or "", embed.description or ""]
        pieces += [f"{f.name}: {f.value}" for f in embed.fields]
    return "\n".join(p for p in pieces if p)


async def setup(bot) -> None:
    group, menu = build()
    bot.tree.add_command(group)
    bot.tree.add_command(menu)


async def teardown(bot) -> None:
    bot.tree.remove_command("triage")
    bot.tree.remove_command(CONTEXT_MENU, type=discord.AppCommandType.message)
