"""Proves the Slack test harness (fake Web API + signed payload builders) against the
REAL slack-bolt AsyncApp served over HTTP on loopback by aiohttp.

The bolt app here is a minimal throwaway, NOT the product adapter; it only shows the
patterns the adapter is expected to follow:

* ``AsyncWebClient(base_url=SLACK_API_URL, retry_handlers=[...Async RateLimit...])``
  passed to ``AsyncApp(client=...)`` (bolt copies base_url/retry handlers into the
  per-request client, so ``say``/``client`` calls hit the fake);
* ``process_before_response=True`` + "ack, then spawn a tracked task" listeners;
* a global middleware deduplicating Events API deliveries by ``event_id``;
* an aiohttp ``web.Application`` with ``POST /slack/events`` and ``GET /healthz``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, Dict, Optional, Set
from urllib.parse import parse_qsl

import pytest
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes import slack_payloads as sp
from tests.fakes.slack_api import (
    BackgroundLoop,
    FakeSlackAPI,
    LoopbackServer,
    block_kit_problems,
    message_texts,
)

SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-not-a-real-token"
APP_TOKEN = "xapp-test-not-a-real-token"


# --------------------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # slack_sdk loads HTTP(S)_PROXY into every client and ignores NO_PROXY; a proxy in
    # the environment would swallow our loopback calls.
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def slack_module():
    with FakeSlackAPI() as fake:
        yield fake


@pytest.fixture
def slack(slack_module: FakeSlackAPI) -> FakeSlackAPI:
    slack_module.reset()
    return slack_module


class Throwaway:
    """Holds the tiny bolt app + its background tasks for one test."""

    def __init__(self, api_url: str, *, dedupe: bool = True, logger: Optional[logging.Logger] = None) -> None:
        self.api_url = api_url
        self.dedupe = dedupe
        self.logger = logger
        self.tasks: Set[asyncio.Task] = set()
        self.seen_event_ids: Set[str] = set()
        self.bolt: Optional[AsyncApp] = None

    def spawn(self, coro: Any) -> None:
        t = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(t)
        t.add_done_callback(self.tasks.discard)

    def build_bolt(self) -> AsyncApp:
        # slack_sdk DEBUG-logs full request params (message text): give it the quiet logger too
        client = AsyncWebClient(token=BOT_TOKEN, base_url=self.api_url, logger=self.logger)
        client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
        app = AsyncApp(signing_secret=SECRET, client=client, process_before_response=True, logger=self.logger)

        if self.dedupe:

            @app.middleware
            async def dedupe_events(body: Dict[str, Any], next) -> Optional[BoltResponse]:
                eid = body.get("event_id")
                if eid:
                    if eid in self.seen_event_ids:  # product: INSERT .. ON CONFLICT in Postgres
                        return BoltResponse(status=200, body="")
                    self.seen_event_ids.add(eid)
                return await next()

        @app.event("app_mention")
        async def on_mention(event, say):
            self.spawn(say(text="triaged", thread_ts=event.get("thread_ts") or event["ts"]))

        @app.event("message")
        async def on_message(event, say):
            if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
                return  # edits, unfurls, bot posts: ignore
            self.spawn(say(text="triaged (dm)"))

        @app.command("/triage")
        async def on_triage(ack, command, respond):
            await ack(text="Working on it…", response_type="ephemeral")

            async def later() -> None:
                await respond(
                    text="verdict",
                    response_type="ephemeral",
                    blocks=[
                        {"type": "section", "text": {"type": "mrkdwn", "text": "verdict"}},
                        {
                            "type": "actions",
                            "elements": [
                                {"type": "button", "action_id": "share", "text": {"type": "plain_text", "text": "Share in channel"}, "value": "x"}
                            ],
                        },
                    ],
                )

            self.spawn(later())

        @app.shortcut("triage_message")
        async def on_shortcut(ack, shortcut, respond):
            await ack()
            self.spawn(respond(text="verdict for that message", response_type="ephemeral"))

        @app.action("triage_feedback_up")
        async def on_feedback(ack, body, respond):
            await ack()
            self.spawn(respond(text="Thanks for the feedback", replace_original=True))

        self.bolt = app
        return app

    def build_web_app(self) -> web.Application:
        bolt = self.build_bolt()

        async def events(request: web.Request) -> web.Response:
            return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

        async def healthz(request: web.Request) -> web.Response:
            return web.json_response({"ok": True})

        async def drain(_app: web.Application) -> None:
            # graceful shutdown: aiohttp runs on_cleanup AFTER in-flight handlers finished
            # (on_shutdown runs before, so a handler could still spawn tasks after it)
            if self.tasks:
                await asyncio.wait(set(self.tasks), timeout=5)

        web_app = web.Application()
        web_app.router.add_post("/slack/events", events)
        web_app.router.add_get("/healthz", healthz)
        web_app.on_cleanup.append(drain)
        return web_app


@pytest.fixture
def served(slack: FakeSlackAPI):
    servers = []

    def _serve(**kw: Any):
        tw = Throwaway(slack.base_url, **kw)
        srv = LoopbackServer(tw.build_web_app).start()
        servers.append(srv)
        return tw, srv.url("/slack/events"), srv

    yield _serve
    for s in servers:
        s.stop()


# --------------------------------------------------------------------------------------
# HTTP mode
# --------------------------------------------------------------------------------------


def test_url_verification_and_health(served) -> None:
    _, url, srv = served()
    r = sp.signed(SECRET, sp.url_verification("abc123")).post(url)
    assert r.status == 200 and r.json() == {"challenge": "abc123"}
    import urllib.request

    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(srv.url("/healthz"), timeout=5) as h:
        assert h.status == 200 and json.loads(h.read()) == {"ok": True}


def test_signed_app_mention_posts_threaded_reply(served, slack: FakeSlackAPI) -> None:
    _, url, _ = served()
    ev = sp.app_mention_event("is eval gaming a technical issue?", thread_ts=None)
    r = sp.signed(SECRET, sp.event_callback(ev)).post(url)
    assert r.status == 200
    [post] = slack.wait_for("chat.postMessage")
    assert post["channel"] == sp.CHANNEL_ID
    assert post["thread_ts"] == ev["ts"]
    assert post.text == "triaged"
    assert post.token_type == "bot"
    assert "test-not-a-real" not in json.dumps(post.headers)  # token redacted in records
    assert slack.methods()[0] == "auth.test"  # bolt's single-team authorize, cached afterwards


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda body: sp.signed(SECRET, body, bad_signature=True), id="bad-signature"),
        pytest.param(lambda body: sp.signed(SECRET, body, ts=int(time.time()) - 301), id="stale-timestamp"),
        pytest.param(lambda body: sp.signed(SECRET, body, ts=int(time.time()) + 301), id="future-timestamp"),
        pytest.param(lambda body: sp.SignedRequest(json.dumps(body).encode(), {"Content-Type": "application/json"}), id="unsigned"),
        pytest.param(
            lambda body: sp.SignedRequest(
                json.dumps(body).encode() + b" ", sp.signed(SECRET, body).headers
            ),
            id="body-tampered",
        ),
    ],
)
def test_rejected_requests_get_401_and_do_nothing(served, slack: FakeSlackAPI, mutate) -> None:
    _, url, _ = served()
    r = mutate(sp.event_callback(sp.app_mention_event()))
    resp = r.post(url)
    assert resp.status == 401
    slack.assert_no_calls(within=0.2)  # not even auth.test: verification runs first


def test_quiet_base_logger_keeps_message_text_out_of_logs(served, slack: FakeSlackAPI, caplog) -> None:
    """bolt logs the WHOLE body at INFO on a bad signature, and copies the root level
    onto each of its loggers at construction (so setLevel on "slack_bolt" afterwards
    does not help).  Passing ``AsyncApp(logger=<WARNING-level logger>)`` does."""
    secret_text = "SENSITIVE-USER-TEXT"
    caplog.set_level(logging.DEBUG)
    _, url, _ = served()
    sp.signed(SECRET, sp.event_callback(sp.app_mention_event(secret_text)), bad_signature=True).post(url)
    assert any(secret_text in r.getMessage() for r in caplog.records)  # the leak, default config

    caplog.clear()
    quiet = logging.getLogger("tests.fakes.quiet_bolt")
    quiet.setLevel(logging.WARNING)
    _, url, _ = served(logger=quiet)
    sp.signed(SECRET, sp.event_callback(sp.app_mention_event(secret_text)), bad_signature=True).post(url)
    sp.signed(SECRET, sp.event_callback(sp.app_mention_event(secret_text))).post(url)
    slack.wait_for("chat.postMessage")
    assert not any(secret_text in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("dedupe,expected_posts", [(False, 2), (True, 1)])
def test_retried_event(served, slack: FakeSlackAPI, dedupe: bool, expected_posts: int) -> None:
    """Bolt does NOT dedupe Events API retries by itself; the adapter must."""
    _, url, _ = served(dedupe=dedupe)
    body = sp.event_callback(sp.app_mention_event())
    assert sp.signed(SECRET, body).post(url).status == 200
    assert sp.signed(SECRET, body, retry_num=1, retry_reason="http_timeout").post(url).status == 200
    slack.wait_for("chat.postMessage", count=expected_posts)
    time.sleep(0.2)
    assert len(slack.calls("chat.postMessage")) == expected_posts


def test_dm_replies_but_bot_edit_unfurl_and_own_messages_are_ignored(served, slack: FakeSlackAPI) -> None:
    _, url, _ = served()
    for ev in (
        sp.bot_message_event(),  # another bot (modern shape)
        sp.bot_message_event(legacy_subtype=True),  # classic bot_message subtype
        sp.bot_message_event(bot_id="BBOT", user="UBOT"),  # our own echo (bolt drops it)
        sp.message_changed_event(),
        sp.message_changed_event(unfurl=True),
    ):
        assert sp.signed(SECRET, sp.event_callback(ev)).post(url).status == 200
    slack.assert_no_calls("chat.postMessage", within=0.2)

    assert sp.signed(SECRET, sp.event_callback(sp.im_message_event("hi"))).post(url).status == 200
    [post] = slack.wait_for("chat.postMessage")
    assert post["channel"] == sp.DM_CHANNEL_ID and "thread_ts" not in post.params


def test_slash_command_acks_at_once_then_posts_to_response_url(served, slack: FakeSlackAPI) -> None:
    _, url, _ = served()
    cmd = sp.slash_command("who decides on deployment?", response_url=slack.response_url("cmd1"))
    r = sp.signed(SECRET, cmd).post(url)
    assert r.status == 200
    assert r.json() == {"text": "Working on it…", "response_type": "ephemeral"}
    assert r.elapsed < 1.0
    [hook] = slack.wait_for("response_url", key="cmd1")
    assert hook["response_type"] == "ephemeral"
    assert hook.text == "verdict" and hook.blocks[1]["elements"][0]["action_id"] == "share"
    assert hook.problems == []


def test_message_shortcut_and_feedback_button_use_response_url(served, slack: FakeSlackAPI) -> None:
    _, url, _ = served()
    sc = sp.message_action(response_url=slack.response_url("sc"))
    assert sp.signed(SECRET, sc).post(url).status == 200
    [hook] = slack.wait_for("response_url", key="sc")
    assert hook["response_type"] == "ephemeral"

    click = sp.block_actions(response_url=slack.response_url("fb"), ephemeral=True)
    assert "message" not in click  # Slack omits it for ephemeral messages
    assert sp.signed(SECRET, click).post(url).status == 200
    [hook] = slack.wait_for("response_url", key="fb")
    assert hook["replace_original"] is True


def test_rate_limited_post_is_retried_by_async_handler(served, slack: FakeSlackAPI) -> None:
    _, url, _ = served()
    slack.rate_limit("chat.postMessage", retry_after=0)
    assert sp.signed(SECRET, sp.event_callback(sp.app_mention_event())).post(url).status == 200
    posts = slack.wait_for("chat.postMessage", count=2, timeout=5)
    assert [p.status for p in posts] == [429, 200]


def test_form_body_containing_the_word_payload(served, slack: FakeSlackAPI) -> None:
    """bolt's parse_body treats ANY form body containing the substring "payload" as an
    interactive ``payload=`` body; a slash command like ``/triage is this payload
    risky`` then parses to {} and is answered 404 (user sees an error).  This canary
    documents it and shows a request-building workaround for the adapter."""
    _, url, srv = served()
    cmd = sp.slash_command("is this payload risky?", response_url=slack.response_url("p"))
    vanilla = sp.signed(SECRET, cmd).post(url)
    if vanilla.status == 200:
        pytest.skip("bolt fixed parse_body; the adapter workaround is no longer needed")
    assert vanilla.status == 404

    async def fixed_to_bolt_request(request: web.Request) -> AsyncBoltRequest:
        req = await to_bolt_request(request)
        if not req.body and req.raw_body and req.content_type == "application/x-www-form-urlencoded":
            fields = dict(parse_qsl(req.raw_body, keep_blank_values=True))
            if "payload" not in fields:
                req.body = fields
                req.context = build_async_context(AsyncBoltContext({}), req.body)
        return req

    # serve the same throwaway app through the fixed request builder
    tw = Throwaway(slack.base_url)
    bolt = tw.build_bolt()

    def web_app() -> web.Application:
        async def events(request: web.Request) -> web.Response:
            return await to_aiohttp_response(await bolt.async_dispatch(await fixed_to_bolt_request(request)))

        a = web.Application()
        a.router.add_post("/slack/events", events)
        return a

    with LoopbackServer(web_app) as fixed:
        r = sp.signed(SECRET, cmd).post(fixed.url("/slack/events"))
        assert r.status == 200
        slack.wait_for("response_url", key="p")


def test_block_kit_limits_are_enforced_by_the_fake(slack: FakeSlackAPI) -> None:
    client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.base_url)

    async def go() -> Dict[str, Any]:
        too_many = [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}] * 51
        try:
            await client.chat_postMessage(channel="C1", text="fallback", blocks=too_many)
        except Exception as e:  # SlackApiError
            return e.response.data  # type: ignore[attr-defined]
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


# --------------------------------------------------------------------------------------
# Socket Mode (real slack_sdk aiohttp SocketModeClient against the fake websocket)
# --------------------------------------------------------------------------------------


def test_socket_mode_round_trip(slack: FakeSlackAPI) -> None:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    tw = Throwaway(slack.base_url)
    with BackgroundLoop() as bg:

        async def make() -> AsyncSocketModeHandler:
            return AsyncSocketModeHandler(tw.build_bolt(), app_token=APP_TOKEN)

        handler = bg.call(make())
        bg.call(handler.connect_async())
        slack.wait_socket_connected()
        [opened] = slack.calls("apps.connections.open")
        assert opened.token_type == "app"

        env = sp.socket_envelope(sp.event_callback(sp.app_mention_event()), envelope_id="e1")
        slack.socket_send(env)
        slack.wait_for("socket_mode.ack", key="e1")
        [post] = slack.wait_for("chat.postMessage")
        assert post["thread_ts"] == env["payload"]["event"]["ts"]

        slack.socket_send(sp.socket_envelope(sp.slash_command("x", response_url=slack.response_url("sm")), envelope_id="e2"))
        [ack] = slack.wait_for("socket_mode.ack", key="e2")
        assert ack["payload"] == {"text": "Working on it…", "response_type": "ephemeral"}
        slack.wait_for("response_url", key="sm")
        bg.call(handler.close_async())


def test_fake_web_api_basics(slack: FakeSlackAPI) -> None:
    from slack_sdk.errors import SlackApiError
    from slack_sdk.webhook.async_client import AsyncWebhookClient

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
