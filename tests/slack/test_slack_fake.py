"""The fake Slack itself (tests/fakes/slack_api.py), driven by the real slack_sdk clients:
Slack's answers, its Block Kit limits and the file upload flow are what the adapter tests
rely on when they assert on what "Slack" received."""
from __future__ import annotations

import asyncio
from typing import Any, Dict

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.fakes.slack_api import FakeSlackAPI, block_kit_problems, message_texts
from tests.slack.kit import BOT_TOKEN


def test_block_kit_limits_are_enforced_by_the_fake(slack: FakeSlackAPI) -> None:
    client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.base_url)

    async def go() -> Dict[str, Any]:
        too_many = [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}] * 51
        try:
            await client.chat_postMessage(channel="C1", text="fallback", blocks=too_many)
        except SlackApiError as e:
            return e.response.data  # type: ignore[return-value]
        return {}

    data = asyncio.run(go())
    assert data["error"] == "invalid_blocks"
    assert set(block_kit_problems({"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "y" * 3001}}]})) == {
        "invalid_blocks: section 0 text 3001 > 3000",
        "warning: blocks without top-level text fallback",
    }
    assert "<!channel>" in message_texts({"text": "a", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "<!channel>"}}]})


def test_files_upload_v2_flow(slack: FakeSlackAPI) -> None:
    client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.base_url)
    res = asyncio.run(client.files_upload_v2(content="report body", filename="report.txt", channel="C1", title="Report"))
    assert res["ok"] and res["file"]["title"] == "Report"
    assert [c.method for c in slack.calls()] == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    assert slack.calls("upload")[0].body == b"report body"


def test_fake_web_api_basics(slack: FakeSlackAPI) -> None:
    client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.base_url)
    anon = AsyncWebClient(base_url=slack.base_url)
    slack.add_user("U9", name="robo", is_bot=True)

    async def go() -> None:
        with pytest.raises(SlackApiError) as e:
            await anon.auth_test()
        assert e.value.response["error"] == "not_authed"
        assert (await client.auth_test())["user_id"] == "UBOT"
        eph = await client.chat_postEphemeral(channel="C1", user="U123", text="only you")
        assert eph["message_ts"]
        up = await client.chat_update(channel="C1", ts="1700000000.000001", text="edited")
        assert up["ts"] == "1700000000.000001"
        assert (await client.users_info(user="U9"))["user"]["is_bot"] is True
        slack.enqueue("response_url", "expired_url", status=404)
        hook = AsyncWebhookClient(slack.response_url("gone"))
        assert (await hook.send(text="late")).status_code == 404

    asyncio.run(go())
    assert [c.method for c in slack.calls()] == [
        "auth.test", "auth.test", "chat.postEphemeral", "chat.update", "users.info", "response_url"
    ]
    assert slack.calls("auth.test")[0].token_type is None
    assert slack.calls("chat.postEphemeral")[0]["user"] == "U123"
