"""Small but real exports, built the way Slack and DiscordChatExporter write them."""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

T0 = 1704103200.0  # 2024-01-01 10:00 UTC, a Monday


def slack_message(user, text, ts, **extra) -> dict:
    return {"type": "message", "user": user, "text": text, "ts": f"{ts:.6f}", **extra}


GENERAL_DAY1 = [
    slack_message("U0PERSON1", "the chatbot made up a citation", T0, client_msg_id="a"),
    {"type": "message", "subtype": "bot_message", "bot_id": "B01", "text": "deploy finished", "ts": f"{T0 + 1:.6f}"},
    slack_message("U0PERSON2", "<@U0PERSON2> has joined the channel", T0 + 2, subtype="channel_join"),
    slack_message("U0BOTUSER", "I am an app", T0 + 3, bot_id="B02", app_id="A1"),
    slack_message("U0PERSON1", "", T0 + 4),
    slack_message("U0PERSON2", "who decides where the surveillance goes?", T0 + 5, thread_ts=f"{T0:.6f}", parent_user_id="U0PERSON1"),
    slack_message("U0PERSON2", "<@U0PERSON1> :+1: https://example.com", T0 + 6),
    slack_message("U0PERSON3", "pinned a message", T0 + 7, subtype="pinned_item"),
]
GENERAL_DAY2 = [slack_message("U0PERSON3", "there is bias in the ai model", T0 + 7 * 86400)]
RANDOM_TRUNCATED = json.dumps([slack_message("U0PERSON1", "lunch anyone?", T0 + 86400)], indent=4)[:-30]
RANDOM_LATIN1 = json.dumps([slack_message("U0PERSON1", "café", T0 + 2 * 86400)], ensure_ascii=False).encode("cp1252")
CORRUPT_DAY = json.dumps([slack_message("U0PERSON1", "this member is damaged", T0 + 3 * 86400)]).encode()


def slack_zip(path: Path) -> Path:
    """7 messages read in #general (2 triaged + 1 thread reply, 2 bots, 2 system, 2 empty),
    a truncated day, a non-UTF-8 day and a member whose bytes are damaged in #random."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("channels.json", json.dumps([{"id": "C01", "name": "general"}, {"id": "C02", "name": "random"}]))
        z.writestr("users.json", json.dumps([{"id": "U0PERSON1", "name": "ada"}]))
        z.writestr("general/2024-01-01.json", json.dumps(GENERAL_DAY1, indent=4))
        z.writestr("general/2024-01-08.json", json.dumps(GENERAL_DAY2, indent=4))
        z.writestr("random/2024-01-02.json", RANDOM_TRUNCATED)
        z.writestr("random/2024-01-03.json", RANDOM_LATIN1)
        z.writestr(zipfile.ZipInfo("random/2024-01-04.json"), CORRUPT_DAY, compress_type=zipfile.ZIP_STORED)
    data = buf.getvalue()
    at = data.index(b"this member is damaged")
    data = data[:at] + b"THIS" + data[at + 4 :]  # same length, wrong CRC
    path.write_bytes(data)
    return path


def author(ident, name, bot=False) -> dict:
    return {"id": ident, "name": name, "discriminator": "0000", "nickname": name, "isBot": bot, "roles": []}


def discord_export(path: Path) -> Path:
    """DiscordChatExporter's JSON: 5 messages read (2 triaged of which 1 reply, 1 bot, 1 join, 1 pin... )."""
    messages = [
        {"id": "1001", "type": "Default", "timestamp": "2024-01-02T09:00:00.123+00:00", "content": "someone found a jailbreak to bypass the guardrails",
         "author": author("111111111111111111", "grace"), "attachments": [], "embeds": [], "reactions": [], "mentions": []},
        {"id": "1002", "type": "Default", "timestamp": "2024-01-02T09:01:00+00:00", "content": "beep", "author": author("999", "helper", bot=True)},
        {"id": "1003", "type": "GuildMemberJoin", "timestamp": "2024-01-02T09:02:00+00:00", "content": "", "author": author("222222222222222222", "linus")},
        {"id": "1004", "type": "Reply", "timestamp": "2024-01-09T09:03:00+00:00", "content": "<@111111111111111111> who decides on the kill switch?",
         "author": author("222222222222222222", "linus"), "reference": {"messageId": "1001", "channelId": "55", "guildId": "66"}},
        {"id": "1005", "type": "ChannelPinnedMessage", "timestamp": "2024-01-09T09:04:00+00:00", "content": "Pinned a message.", "author": author("222222222222222222", "linus")},
        {"id": "1006", "type": "Default", "timestamp": "2024-01-09T09:05:00+00:00", "content": "   ", "author": author("222222222222222222", "linus")},
    ]
    doc = {
        "guild": {"id": "66", "name": "Lab", "iconUrl": "https://cdn.discordapp.com/x.png"},
        "channel": {"id": "55", "type": "GuildTextChat", "categoryId": "7", "category": "Text", "name": "ethics", "topic": None},
        "dateRange": {"after": None, "before": None},
        "exportedAt": "2024-02-01T00:00:00+00:00",
        "messages": messages,
        "messageCount": len(messages),
    }
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return path
