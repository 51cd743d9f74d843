"""The Discord front end (discord.py 2.x): slash commands, a message context menu,
mentions and DMs, rendered as embeds with persistent feedback buttons.

    client.py    the bot: gateway events and interactions -> Service -> Discord
    commands.py  the /triage command tree and the context menu (an extension)
    embeds.py    Reply -> embeds within Discord's limits
    replies.py   Outgoing -> messages (content, embeds, files, buttons)
    views.py     persistent feedback / "Post publicly" buttons (dynamic items)
    shim.py      the discord.py internals the front end needs, and why
    cli.py       `triage-bot discord` (run, --sync)

/healthz, signal handling and the common flags are shared with Slack (`adapters/`).

Run it with `triage-bot discord`; see cli.py for flags and environment variables.
"""
