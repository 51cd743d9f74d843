"""Builders for raw Discord gateway/REST payloads, shaped as Discord documents them.

Everything here returns plain ``dict`` objects (the JSON Discord would send), so
they can be pushed through discord.py's own parsing path (a fake gateway, see
``discord_api.FakeDiscord.dispatch``) instead of constructing discord.py
objects by hand.

References (Discord developer docs):
  * Gateway events: READY, GUILD_CREATE, MESSAGE_CREATE, INTERACTION_CREATE
  * Interaction object: type 2 APPLICATION_COMMAND, 3 MESSAGE_COMPONENT,
    4 APPLICATION_COMMAND_AUTOCOMPLETE
  * Application command types: 1 CHAT_INPUT, 3 MESSAGE
  * Option types: 1 SUB_COMMAND, 2 SUB_COMMAND_GROUP, 3 STRING, 5 BOOLEAN
  * Component types: 1 ACTION_ROW, 2 BUTTON

Snowflakes are strings in payloads (as on the wire). Most builders have a
convenience wrapper on :class:`World`, which holds a small consistent universe
(bot user, application, one guild with roles/members/channel, a DM channel).
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional, Sequence

DISCORD_EPOCH_MS = 1420070400000

# Interaction types
APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
APPLICATION_COMMAND_AUTOCOMPLETE = 4

# Application command types
CHAT_INPUT = 1
MESSAGE_COMMAND = 3

# Option types
OPT_SUB_COMMAND = 1
OPT_SUB_COMMAND_GROUP = 2
OPT_STRING = 3
OPT_BOOLEAN = 5

# Component types
COMP_ACTION_ROW = 1
COMP_BUTTON = 2

# Channel types
GUILD_TEXT = 0
DM = 1

# Interaction context types
CTX_GUILD = 0
CTX_BOT_DM = 1

EPHEMERAL_FLAG = 1 << 6

# Permissions as decimal strings (Discord sends them as strings)
PERM_MEMBER = str(
    (1 << 10)  # VIEW_CHANNEL
    | (1 << 11)  # SEND_MESSAGES
    | (1 << 14)  # EMBED_LINKS
    | (1 << 15)  # ATTACH_FILES
    | (1 << 16)  # READ_MESSAGE_HISTORY
    | (1 << 31)  # USE_APPLICATION_COMMANDS
)
PERM_MANAGE_GUILD = str(int(PERM_MEMBER) | (1 << 5) | (1 << 13))  # + MANAGE_GUILD, MANAGE_MESSAGES


# ---------------------------------------------------------------------------
# snowflakes / time
# ---------------------------------------------------------------------------

_counter = itertools.count()
_counter_lock = threading.Lock()


def snowflake(at: Optional[float] = None) -> str:
    """A fresh, strictly increasing snowflake (as a string) for time ``at`` (epoch seconds)."""
    ms = int((time.time() if at is None else at) * 1000)
    with _counter_lock:
        inc = next(_counter) & 0xFFF
    return str(((ms - DISCORD_EPOCH_MS) << 22) | (1 << 17) | inc)


def _id(value: Optional[Any]) -> Optional[str]:
    return None if value is None else str(value)


def _put(data: Dict[str, Any], **optional: Any) -> Dict[str, Any]:
    """``data`` plus each optional field that was given: Discord leaves absent ones out."""
    data.update({key: value for key, value in optional.items() if value is not None})
    return data


def iso_now() -> str:
    return datetime.now(timezone.utc).isoformat()


def new_token() -> str:
    """An opaque interaction token (Discord's are long url-safe strings)."""
    return "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)


# ---------------------------------------------------------------------------
# basic objects
# ---------------------------------------------------------------------------


def user(user_id: str, username: str, *, bot: bool = False, global_name: Optional[str] = None) -> Dict[str, Any]:
    """A User object."""
    data: Dict[str, Any] = {
        "id": str(user_id),
        "username": username,
        "discriminator": "0",
        "global_name": global_name if global_name is not None else (None if bot else username.title()),
        "avatar": None,
        "public_flags": 0,
    }
    if bot:
        data["bot"] = True
    return data


def client_user(user_id: str, username: str) -> Dict[str, Any]:
    """The bot's own user as in READY / GET /users/@me."""
    data = user(user_id, username, bot=True)
    data.update({"verified": True, "mfa_enabled": False, "flags": 0, "email": None, "locale": "en-US"})
    return data


def role(role_id: str, name: str, *, position: int = 1, permissions: str = PERM_MEMBER, color: int = 0) -> Dict[str, Any]:
    """A Role object."""
    return {
        "id": str(role_id),
        "name": name,
        "color": color,
        "colors": {"primary_color": color, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": position,
        "permissions": permissions,
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }


def member(
    user_obj: Optional[Dict[str, Any]],
    *,
    roles: Sequence[str] = (),
    nick: Optional[str] = None,
    permissions: Optional[str] = None,
    joined_at: Optional[str] = None,
) -> Dict[str, Any]:
    """A Guild Member object. ``user_obj`` None gives the partial member used inside
    MESSAGE_CREATE (``member`` without ``user``); ``permissions`` is only present on
    members inside interactions."""
    data: Dict[str, Any] = {
        "roles": [str(r) for r in roles],
        "nick": nick,
        "avatar": None,
        "joined_at": joined_at or "2024-01-01T00:00:00.000000+00:00",
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "communication_disabled_until": None,
    }
    return _put(data, user=user_obj, permissions=permissions)


def text_channel(channel_id: str, guild_id: str, name: str = "general", *, position: int = 0) -> Dict[str, Any]:
    """A GUILD_TEXT Channel object."""
    return {
        "id": str(channel_id),
        "type": GUILD_TEXT,
        "guild_id": str(guild_id),
        "name": name,
        "position": position,
        "permission_overwrites": [],
        "nsfw": False,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "parent_id": None,
        "flags": 0,
    }


def dm_channel(channel_id: str, recipient: Dict[str, Any]) -> Dict[str, Any]:
    """A DM Channel object."""
    return {"id": str(channel_id), "type": DM, "last_message_id": None, "recipients": [recipient], "flags": 0}


def message(
    *,
    message_id: Optional[str] = None,
    channel_id: str,
    author: Dict[str, Any],
    content: str = "",
    guild_id: Optional[str] = None,
    member_obj: Optional[Dict[str, Any]] = None,
    mentions: Iterable[Dict[str, Any]] = (),
    mention_roles: Iterable[str] = (),
    embeds: Optional[List[Dict[str, Any]]] = None,
    components: Optional[List[Dict[str, Any]]] = None,
    flags: int = 0,
    msg_type: int = 0,
    webhook_id: Optional[str] = None,
    application_id: Optional[str] = None,
    message_reference: Optional[Dict[str, Any]] = None,
    attachments: Optional[List[Dict[str, Any]]] = None,
) -> Dict[str, Any]:
    """A Message object (as in MESSAGE_CREATE / REST responses). ``guild_id`` and
    ``member`` are the gateway-only extra fields of MESSAGE_CREATE."""
    data: Dict[str, Any] = {
        "id": str(message_id or snowflake()),
        "type": msg_type,
        "channel_id": str(channel_id),
        "author": author,
        "content": content,
        "timestamp": iso_now(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": list(mentions),
        "mention_roles": [str(r) for r in mention_roles],
        "attachments": attachments or [],
        "embeds": embeds or [],
        "components": components or [],
        "pinned": False,
        "flags": flags,
    }
    return _put(data, guild_id=_id(guild_id), member=member_obj, webhook_id=_id(webhook_id),
                application_id=_id(application_id), message_reference=message_reference)


def mention_user(user_obj: Dict[str, Any], member_obj: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """An entry of MESSAGE_CREATE ``mentions``: a user with an optional partial ``member``."""
    data = dict(user_obj)
    if member_obj is not None:
        partial = {k: v for k, v in member_obj.items() if k != "user"}
        data["member"] = partial
    return data


def button(custom_id: str, label: str, *, style: int = 2, disabled: bool = False) -> Dict[str, Any]:
    return {"type": COMP_BUTTON, "custom_id": custom_id, "label": label, "style": style, "disabled": disabled}


def action_row(*components: Dict[str, Any]) -> Dict[str, Any]:
    return {"type": COMP_ACTION_ROW, "components": list(components)}


# ---------------------------------------------------------------------------
# application command options
# ---------------------------------------------------------------------------


def option(name: str, value: Any, *, type: int = OPT_STRING, focused: bool = False) -> Dict[str, Any]:
    """A value option of an APPLICATION_COMMAND interaction (default: STRING)."""
    data: Dict[str, Any] = {"name": name, "type": type, "value": value}
    if focused:
        data["focused"] = True
    return data


def subcommand(name: str, options: Sequence[Dict[str, Any]] = ()) -> Dict[str, Any]:
    """A SUB_COMMAND option wrapping its own value options."""
    return {"name": name, "type": OPT_SUB_COMMAND, "options": list(options)}


def subcommand_group(name: str, sub: Dict[str, Any]) -> Dict[str, Any]:
    """A SUB_COMMAND_GROUP option wrapping one SUB_COMMAND (e.g. ``/triage feedback export``)."""
    return {"name": name, "type": OPT_SUB_COMMAND_GROUP, "options": [sub]}


# ---------------------------------------------------------------------------
# gateway events
# ---------------------------------------------------------------------------


def ready(
    *,
    bot_user: Dict[str, Any],
    application_id: str,
    guild_ids: Sequence[str],
    session_id: str,
    resume_gateway_url: str,
    shard: Optional[Sequence[int]] = None,
    application_flags: int = 0,
) -> Dict[str, Any]:
    """READY: guilds are listed as unavailable; full data follows in GUILD_CREATE."""
    data: Dict[str, Any] = {
        "v": 10,
        "user": bot_user,
        "guilds": [{"id": str(g), "unavailable": True} for g in guild_ids],
        "session_id": session_id,
        "resume_gateway_url": resume_gateway_url,
        "application": {"id": str(application_id), "flags": application_flags},
        "private_channels": [],
        "relationships": [],
        "presences": [],
        "user_settings": {},
        "guild_join_requests": [],
        "geo_ordered_rtc_regions": [],
    }
    if shard is not None:
        data["shard"] = list(shard)
    return data


def guild_create(
    *,
    guild_id: str,
    name: str,
    owner_id: str,
    roles: Sequence[Dict[str, Any]],
    members: Sequence[Dict[str, Any]],
    channels: Sequence[Dict[str, Any]],
) -> Dict[str, Any]:
    """GUILD_CREATE: a full Guild object plus the gateway extras (members, channels, ...).

    ``roles`` must include the @everyone role, whose id equals the guild id."""
    return {
        "id": str(guild_id),
        "name": name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "owner_id": str(owner_id),
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": list(roles),
        "emojis": [],
        "stickers": [],
        "features": [],
        "mfa_level": 0,
        "application_id": None,
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "vanity_url_code": None,
        "description": None,
        "banner": None,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "public_updates_channel_id": None,
        "nsfw_level": 0,
        "premium_progress_bar_enabled": False,
        # gateway-only extras
        "joined_at": "2024-01-01T00:00:00.000000+00:00",
        "large": False,
        "unavailable": False,
        "member_count": len(members),
        "voice_states": [],
        "members": list(members),
        "channels": list(channels),
        "threads": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
    }


def interaction_create(
    *,
    interaction_type: int,
    application_id: str,
    data: Optional[Dict[str, Any]],
    channel: Dict[str, Any],
    guild_id: Optional[str] = None,
    member_obj: Optional[Dict[str, Any]] = None,
    user_obj: Optional[Dict[str, Any]] = None,
    message_obj: Optional[Dict[str, Any]] = None,
    interaction_id: Optional[str] = None,
    token: Optional[str] = None,
    app_permissions: str = PERM_MEMBER,
    locale: str = "en-US",
) -> Dict[str, Any]:
    """INTERACTION_CREATE (an Interaction object). In a guild pass ``guild_id`` and
    ``member_obj`` (with ``user`` and ``permissions``); in a DM pass ``user_obj``."""
    payload: Dict[str, Any] = {
        "id": str(interaction_id or snowflake()),
        "application_id": str(application_id),
        "type": interaction_type,
        "token": token or new_token(),
        "version": 1,
        "channel": channel,
        "channel_id": channel["id"],
        "app_permissions": app_permissions,
        "locale": locale,
        "entitlements": [],
        "authorizing_integration_owners": {"0": str(guild_id)} if guild_id else {"1": (user_obj or {}).get("id", "0")},
        "context": CTX_GUILD if guild_id else CTX_BOT_DM,
        "attachment_size_limit": 10 * 1024 * 1024,
    }
    if data is not None:
        payload["data"] = data
    if guild_id is not None:
        payload["guild_id"] = str(guild_id)
        payload["guild"] = {"id": str(guild_id), "locale": "en-US", "features": []}
        payload["guild_locale"] = "en-US"
        if member_obj is None:
            raise ValueError("guild interactions carry a member object")
        payload["member"] = member_obj
    else:
        if user_obj is None:
            raise ValueError("DM interactions carry a user object")
        payload["user"] = user_obj
    if message_obj is not None:
        payload["message"] = message_obj
    return payload


def chat_input_data(
    name: str,
    options: Sequence[Dict[str, Any]] = (),
    *,
    command_id: Optional[str] = None,
    command_guild_id: Optional[str] = None,
    resolved: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    """``data`` of a CHAT_INPUT application command. ``command_guild_id`` is present
    only for guild-registered commands (discord.py then looks in that guild's
    commands first, falling back to global ones)."""
    data: Dict[str, Any] = {"id": str(command_id or snowflake()), "name": name, "type": CHAT_INPUT}
    return _put(data, options=list(options) or None, guild_id=_id(command_guild_id), resolved=resolved)


def message_command_data(
    name: str,
    target: Dict[str, Any],
    *,
    command_id: Optional[str] = None,
    command_guild_id: Optional[str] = None,
) -> Dict[str, Any]:
    """``data`` of a MESSAGE context-menu command: ``target_id`` plus ``resolved.messages``."""
    resolved_msg = {k: v for k, v in target.items() if k not in ("guild_id", "member")}
    data: Dict[str, Any] = {
        "id": str(command_id or snowflake()),
        "name": name,
        "type": MESSAGE_COMMAND,
        "target_id": target["id"],
        "resolved": {"messages": {target["id"]: resolved_msg}},
    }
    return _put(data, guild_id=_id(command_guild_id))


def button_data(custom_id: str) -> Dict[str, Any]:
    """``data`` of a MESSAGE_COMPONENT interaction for a button."""
    return {"custom_id": custom_id, "component_type": COMP_BUTTON}


# ---------------------------------------------------------------------------
# a consistent little universe
# ---------------------------------------------------------------------------


@dataclass
class World:
    """A small consistent Discord universe: one application/bot, one guild with an
    @everyone role, a moderator role, a text channel, an ordinary member, a
    moderator, another bot, and a DM channel with the member.

    All ids are strings. Builders return raw payload dicts."""

    application_id: str = field(default_factory=snowflake)
    bot_id: str = ""
    bot_name: str = "triage-bot"
    guild_id: str = field(default_factory=snowflake)
    guild_name: str = "AI Governance Lab"
    channel_id: str = field(default_factory=snowflake)
    dm_channel_id: str = field(default_factory=snowflake)
    moderator_role_id: str = field(default_factory=snowflake)
    member_id: str = field(default_factory=snowflake)
    moderator_id: str = field(default_factory=snowflake)
    other_bot_id: str = field(default_factory=snowflake)
    owner_id: str = field(default_factory=snowflake)

    def __post_init__(self) -> None:
        if not self.bot_id:
            # bots' user id equals the application id for modern applications
            self.bot_id = self.application_id

    # -- users / members ---------------------------------------------------
    @property
    def bot_user(self) -> Dict[str, Any]:
        return client_user(self.bot_id, self.bot_name)

    @property
    def member_user(self) -> Dict[str, Any]:
        return user(self.member_id, "alice")

    @property
    def moderator_user(self) -> Dict[str, Any]:
        return user(self.moderator_id, "mod")

    @property
    def other_bot_user(self) -> Dict[str, Any]:
        return user(self.other_bot_id, "otherbot", bot=True)

    def roles(self) -> List[Dict[str, Any]]:
        return [
            role(self.guild_id, "@everyone", position=0, permissions=PERM_MEMBER),
            role(self.moderator_role_id, "Moderator", position=1, permissions=PERM_MANAGE_GUILD),
        ]

    def member_of(self, user_id: str, *, with_permissions: bool = False) -> Dict[str, Any]:
        table = {
            self.member_id: (self.member_user, []),
            self.moderator_id: (self.moderator_user, [self.moderator_role_id]),
            self.other_bot_id: (self.other_bot_user, []),
            self.bot_id: (user(self.bot_id, self.bot_name, bot=True), []),
        }
        u, roles = table[user_id]
        perms = None
        if with_permissions:
            perms = PERM_MANAGE_GUILD if self.moderator_role_id in roles else PERM_MEMBER
        return member(u, roles=roles, permissions=perms)

    @property
    def channel(self) -> Dict[str, Any]:
        return text_channel(self.channel_id, self.guild_id)

    @property
    def dm_channel(self) -> Dict[str, Any]:
        return dm_channel(self.dm_channel_id, self.member_user)

    # -- gateway handshake payloads -----------------------------------------
    def ready(self, *, session_id: str, resume_gateway_url: str, shard: Optional[Sequence[int]] = None) -> Dict[str, Any]:
        return ready(
            bot_user=self.bot_user,
            application_id=self.application_id,
            guild_ids=[self.guild_id],
            session_id=session_id,
            resume_gateway_url=resume_gateway_url,
            shard=shard,
        )

    def guild_create(self) -> Dict[str, Any]:
        return guild_create(
            guild_id=self.guild_id,
            name=self.guild_name,
            owner_id=self.owner_id,
            roles=self.roles(),
            members=[self.member_of(self.bot_id), self.member_of(self.member_id), self.member_of(self.moderator_id)],
            channels=[self.channel],
        )

    # -- REST objects --------------------------------------------------------
    def application(self) -> Dict[str, Any]:
        """GET /oauth2/applications/@me and /applications/@me."""
        return {
            "id": self.application_id,
            "name": self.bot_name,
            "icon": None,
            "description": "",
            "bot_public": False,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": 0,
            "owner": user(self.owner_id, "owner"),
            "team": None,
            "interactions_endpoint_url": None,  # must be null or the gateway gets no interactions
            "redirect_uris": [],
            "tags": [],
        }

    # -- MESSAGE_CREATE ------------------------------------------------------
    def guild_message(
        self,
        content: str,
        *,
        author_id: Optional[str] = None,
        mention_bot: bool = False,
        mention_roles: Sequence[str] = (),
    ) -> Dict[str, Any]:
        """MESSAGE_CREATE in the guild text channel. ``mention_bot`` prefixes
        ``<@bot_id>`` and adds the bot to ``mentions``. Without the privileged
        MESSAGE_CONTENT intent Discord blanks ``content`` unless the bot is
        mentioned; pass ``content=""`` to simulate that."""
        author_id = author_id or self.member_id
        m = self.member_of(author_id)
        author = m["user"]
        mentions = []
        if mention_bot:
            content = f"<@{self.bot_id}> {content}".rstrip()
            mentions.append(mention_user(user(self.bot_id, self.bot_name, bot=True), self.member_of(self.bot_id)))
        return message(
            channel_id=self.channel_id,
            guild_id=self.guild_id,
            author=author,
            member_obj={k: v for k, v in m.items() if k != "user"},
            content=content,
            mentions=mentions,
            mention_roles=mention_roles,
        )

    def mention_message(self, text: str, *, author_id: Optional[str] = None) -> Dict[str, Any]:
        return self.guild_message(text, author_id=author_id, mention_bot=True)

    def bot_message(self, text: str, *, mention_bot: bool = False) -> Dict[str, Any]:
        """MESSAGE_CREATE from another bot (author.bot = true)."""
        return self.guild_message(text, author_id=self.other_bot_id, mention_bot=mention_bot)

    def own_message(self, text: str) -> Dict[str, Any]:
        """MESSAGE_CREATE echoing a message the bot itself sent."""
        return message(
            channel_id=self.channel_id,
            guild_id=self.guild_id,
            author=user(self.bot_id, self.bot_name, bot=True),
            member_obj={k: v for k, v in self.member_of(self.bot_id).items() if k != "user"},
            content=text,
        )

    def dm_message(self, text: str) -> Dict[str, Any]:
        """MESSAGE_CREATE in a DM with the bot: no guild_id, no member."""
        return message(channel_id=self.dm_channel_id, author=self.member_user, content=text)

    # -- INTERACTION_CREATE --------------------------------------------------
    def _interaction(
        self, interaction_type: int, data: Dict[str, Any], *, user_id: Optional[str] = None, in_dm: bool = False,
        message_obj: Optional[Dict[str, Any]] = None,
    ) -> Dict[str, Any]:
        """In the guild channel a member (with permissions) acts; in the DM, the member's user."""
        if in_dm:
            where: Dict[str, Any] = {"channel": self.dm_channel, "user_obj": self.member_user}
        else:
            member_obj = self.member_of(user_id or self.member_id, with_permissions=True)
            where = {"channel": self.channel, "guild_id": self.guild_id, "member_obj": member_obj}
        return interaction_create(
            interaction_type=interaction_type, application_id=self.application_id, data=data, message_obj=message_obj, **where
        )

    def slash(
        self,
        name: str,
        options: Sequence[Dict[str, Any]] = (),
        *,
        user_id: Optional[str] = None,
        in_dm: bool = False,
        command_guild_id: Optional[str] = None,
    ) -> Dict[str, Any]:
        """INTERACTION_CREATE for ``/name`` (type 2, data.type 1). For a subcommand pass
        ``options=[subcommand("topics")]`` or ``[subcommand_group("feedback", subcommand("export"))]``."""
        data = chat_input_data(name, options, command_guild_id=command_guild_id)
        return self._interaction(APPLICATION_COMMAND, data, user_id=user_id, in_dm=in_dm)

    def message_context_menu(
        self, name: str, target: Dict[str, Any], *, user_id: Optional[str] = None, command_guild_id: Optional[str] = None
    ) -> Dict[str, Any]:
        """INTERACTION_CREATE for a MESSAGE context-menu command (type 2, data.type 3)."""
        data = message_command_data(name, target, command_guild_id=command_guild_id)
        return self._interaction(APPLICATION_COMMAND, data, user_id=user_id)

    def bot_posted_message(
        self, *, content: str = "", components: Optional[List[Dict[str, Any]]] = None, flags: int = 0,
        embeds: Optional[List[Dict[str, Any]]] = None, in_dm: bool = False,
    ) -> Dict[str, Any]:
        """A message the bot posted earlier (e.g. a verdict with feedback buttons)."""
        return message(
            channel_id=self.dm_channel_id if in_dm else self.channel_id,
            author=user(self.bot_id, self.bot_name, bot=True),
            content=content,
            components=components,
            embeds=embeds,
            flags=flags,
            webhook_id=self.application_id,
            application_id=self.application_id,
            msg_type=20,
        )

    def button_click(
        self,
        custom_id: str,
        *,
        message_obj: Optional[Dict[str, Any]] = None,
        user_id: Optional[str] = None,
        in_dm: bool = False,
        label: str = "button",
    ) -> Dict[str, Any]:
        """INTERACTION_CREATE for a button press (type 3, data.component_type 2). The
        clicked message is required by Discord; by default a bot message holding
        just that button is synthesised (no prior REST call needed, which is what
        happens after a restart: persistent views dispatch by custom_id alone)."""
        if message_obj is None:
            message_obj = self.bot_posted_message(
                content="verdict", components=[action_row(button(custom_id, label))], in_dm=in_dm
            )
        data = button_data(custom_id)
        return self._interaction(MESSAGE_COMPONENT, data, user_id=user_id, in_dm=in_dm, message_obj=message_obj)



# ---------------------------------------------------------------------------
# limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits)
# ---------------------------------------------------------------------------

LIMIT_CONTENT = 2000
LIMIT_EMBEDS = 10
LIMIT_EMBED_TITLE = 256
LIMIT_EMBED_DESCRIPTION = 4096
LIMIT_EMBED_FIELDS = 25
LIMIT_FIELD_NAME = 256
LIMIT_FIELD_VALUE = 1024
LIMIT_FOOTER = 2048
LIMIT_AUTHOR = 256
LIMIT_EMBEDS_TOTAL = 6000
LIMIT_ACTION_ROWS = 5
LIMIT_CUSTOM_ID = 100
LIMIT_BUTTON_LABEL = 80


def embed_size(embed: Dict[str, Any]) -> int:
    """Characters counted towards the 6,000 total: title, description, field names
    and values, footer text, author name."""
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    for f in embed.get("fields") or []:
        total += len(f.get("name") or "") + len(f.get("value") or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    return total


def message_limit_errors(payload: Optional[Dict[str, Any]]) -> List[str]:
    """Violations of Discord's documented message limits in a create/edit message
    payload (or an interaction callback's ``data``). Empty list means valid."""
    errors: List[str] = []
    if not payload:
        return errors
    content = payload.get("content")
    if content is not None and len(content) > LIMIT_CONTENT:
        errors.append(f"content: {len(content)} > {LIMIT_CONTENT}")
    embeds = payload.get("embeds") or []
    if len(embeds) > LIMIT_EMBEDS:
        errors.append(f"embeds: {len(embeds)} > {LIMIT_EMBEDS}")
    total = 0
    for i, e in enumerate(embeds):
        if len(e.get("title") or "") > LIMIT_EMBED_TITLE:
            errors.append(f"embeds[{i}].title > {LIMIT_EMBED_TITLE}")
        if len(e.get("description") or "") > LIMIT_EMBED_DESCRIPTION:
            errors.append(f"embeds[{i}].description: {len(e['description'])} > {LIMIT_EMBED_DESCRIPTION}")
        fields = e.get("fields") or []
        if len(fields) > LIMIT_EMBED_FIELDS:
            errors.append(f"embeds[{i}].fields: {len(fields)} > {LIMIT_EMBED_FIELDS}")
        for j, f in enumerate(fields):
            if not f.get("name") or len(f["name"]) > LIMIT_FIELD_NAME:
                errors.append(f"embeds[{i}].fields[{j}].name empty or > {LIMIT_FIELD_NAME}")
            if not f.get("value") or len(f["value"]) > LIMIT_FIELD_VALUE:
                errors.append(f"embeds[{i}].fields[{j}].value empty or > {LIMIT_FIELD_VALUE}")
        if len((e.get("footer") or {}).get("text") or "") > LIMIT_FOOTER:
            errors.append(f"embeds[{i}].footer.text > {LIMIT_FOOTER}")
        if len((e.get("author") or {}).get("name") or "") > LIMIT_AUTHOR:
            errors.append(f"embeds[{i}].author.name > {LIMIT_AUTHOR}")
        color = e.get("color")
        if color is not None and not (0 <= int(color) <= 0xFFFFFF):
            errors.append(f"embeds[{i}].color out of range")
        total += embed_size(e)
    if total > LIMIT_EMBEDS_TOTAL:
        errors.append(f"embeds total: {total} > {LIMIT_EMBEDS_TOTAL}")
    rows = payload.get("components") or []
    if len(rows) > LIMIT_ACTION_ROWS:
        errors.append(f"components: {len(rows)} rows > {LIMIT_ACTION_ROWS}")
    for r, row in enumerate(rows):
        for c, comp in enumerate(row.get("components") or []):
            cid = comp.get("custom_id")
            if comp.get("type") == COMP_BUTTON and comp.get("style") != 5 and not cid:
                errors.append(f"components[{r}][{c}]: non-link button without custom_id")
            if cid is not None and len(cid) > LIMIT_CUSTOM_ID:
                errors.append(f"components[{r}][{c}].custom_id > {LIMIT_CUSTOM_ID}")
            if len(comp.get("label") or "") > LIMIT_BUTTON_LABEL:
                errors.append(f"components[{r}][{c}].label > {LIMIT_BUTTON_LABEL}")
    return errors
