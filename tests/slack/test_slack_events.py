"""HTTP mode, Events API: mentions, DMs, loop prevention, retries, signatures, health."""
from __future__ import annotations

import json
import logging
import threading
import time

import pytest

from tests.fakes import slack_payloads as sp
from tests.fakes.slack_api import FakeSlackAPI, block_kit_problems, message_texts

from tests.slack.kit import BOT_TOKEN, SECRET, TECHNICAL, action_ids, write_config


def test_url_verification_and_health(serve) -> None:
    app = serve()
    r = app.post(sp.url_verification("abc123"))
    assert r.status == 200 and r.json() == {"challenge": "abc123"}
    status, report = app.health()
    assert status == 200
    assert report["ok"] is True and report["store"]["backend"] == "sqlite" and report["rules"] > 0
    assert "location" not in report["store"] and "spool_dir" not in report["store"]  # public endpoint


def test_mention_replies_in_thread_with_blocks_and_feedback(serve, slack: FakeSlackAPI) -> None:
    app = serve()
    ev = sp.app_mention_event(TECHNICAL)
    body = sp.event_callback(ev)
    r = app.post(body)
    assert r.status == 200 and r.elapsed < 1.0
    [post] = slack.wait_for("chat.postMessage")
    assert post["channel"] == sp.CHANNEL_ID and post["thread_ts"] == ev["ts"]
    assert post.token_type == "bot"
    assert post.problems == []
    assert post.text and "technical" in post.text.lower()  # text fallback
    texts = "\n".join(message_texts(post.params))
    assert ":large_blue_circle:" in texts and "*Why*" in texts and "made up" in texts
    assert "*Further reading*" in texts and "<https://reflexive-ai.github.io/research/" in texts
    [rec] = app.records()
    record_id, channel, user, event_id, category = rec
    assert (channel, user, event_id, category) == (sp.CHANNEL_ID, sp.USER_ID, body["event_id"], "technical")
    assert action_ids(post.blocks) == [f"fb|{c}|{record_id}" for c in ("right", "technical", "societal", "both", "not-governance")] + [f"more|{record_id}"]
    assert slack.methods()[0] == "auth.test"


def test_mention_inside_a_thread_answers_in_that_thread(serve, slack: FakeSlackAPI) -> None:
    app = serve()
    ev = sp.app_mention_event(TECHNICAL, thread_ts="1700000000.000001")
    app.post(sp.event_callback(ev))
    [post] = slack.wait_for("chat.postMessage")
    assert post["thread_ts"] == "1700000000.000001"


def test_dm_replies_in_the_dm(serve, slack: FakeSlackAPI) -> None:
    app = serve()
    app.post(sp.event_callback(sp.im_message_event("help")))
    [post] = slack.wait_for("chat.postMessage")
    assert post["channel"] == sp.DM_CHANNEL_ID and "thread_ts" not in post.params
    assert "I triage AI-governance concerns" in post.text
    assert post.problems == []


def test_bots_edits_unfurls_and_our_own_messages_are_ignored(serve, slack: FakeSlackAPI) -> None:
    app = serve()
    for ev in (
        sp.bot_message_event(TECHNICAL),  # another bot
        sp.bot_message_event(TECHNICAL, legacy_subtype=True),
        sp.bot_message_event(TECHNICAL, bot_id="BBOT", user="UBOT"),  # our own echo
        sp.message_changed_event(TECHNICAL),  # an edit
        sp.message_changed_event(TECHNICAL, unfurl=True),  # a link preview
        sp.channel_message_event(TECHNICAL),  # message.channels: not subscribed, not answered
        {**sp.im_message_event(TECHNICAL), "subtype": "channel_join"},
        {"type": "reaction_added", "user": "U1", "reaction": "+1", "event_ts": "1.2"},  # acked, ignored
    ):
        assert app.post(sp.event_callback(ev)).status == 200
    slack.assert_no_calls("chat.postMessage", within=0.3)
    slack.assert_no_calls("chat.postEphemeral", within=0)
    assert app.records() == []


def test_a_bot_that_mentions_us_is_ignored_unless_allow_listed(serve, slack: FakeSlackAPI, tmp_path) -> None:
    app = serve()
    assert app.post(sp.event_callback(sp.app_mention_event(TECHNICAL, bot_id="BOTHER", user="UOTHERBOT"))).status == 200
    slack.assert_no_calls("chat.postMessage", within=0.3)
    config = write_config(tmp_path / "bots.yaml", tmp_path / "bots", allowed_bots={"slack": ["UOTHERBOT"]})
    listed = serve(config=config)
    listed.post(sp.event_callback(sp.app_mention_event(TECHNICAL, bot_id="BOTHER", user="UOTHERBOT")))
    [post] = slack.wait_for("chat.postMessage")
    assert post.problems == []


@pytest.mark.parametrize("with_retry_header", [True, False])
def test_retried_event_is_answered_once(serve, slack: FakeSlackAPI, with_retry_header: bool) -> None:
    app = serve()
    body = sp.event_callback(sp.app_mention_event(TECHNICAL))
    assert app.post(body).status == 200
    retry = {"retry_num": 1, "retry_reason": "http_timeout"} if with_retry_header else {}
    assert app.post(body, **retry).status == 200
    slack.wait_for("chat.postMessage")
    time.sleep(0.3)
    assert len(slack.calls("chat.postMessage")) == 1
    assert len(app.records()) == 1


def test_retry_to_another_worker_sharing_postgres_is_answered_once(serve, slack: FakeSlackAPI, pg_url: str, tmp_path) -> None:
    """Two workers (two bolt apps, two Services, two store connections) on one PostgreSQL
    schema; the first delivery and Slack's retry race each other to different workers."""
    config = write_config(tmp_path / "shared.yaml", tmp_path / "pgdata", database_url=pg_url)
    a = serve(config=config, data_dir=tmp_path / "a")
    b = serve(config=config, data_dir=tmp_path / "b")
    for n in range(3):
        body = sp.event_callback(sp.app_mention_event(f"{TECHNICAL} #{n}"))
        results = []
        threads = [
            threading.Thread(target=lambda: results.append(a.post(body).status)),
            threading.Thread(target=lambda: results.append(b.post(body, retry_num=1).status)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results == [200, 200]
    slack.wait_for("chat.postMessage", count=3)
    time.sleep(0.3)
    posts = slack.calls("chat.postMessage")
    assert len(posts) == 3
    assert len({p["thread_ts"] for p in posts}) == 3  # one answer per event, none twice
    assert a.service.store.flush(5) and b.service.store.flush(5)
    assert a.service.store.health()["backend"] == "postgresql"
    assert a.service.stats_chart(1).groups[0][0].startswith("Concerns by category (3 in all)")


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda body: sp.signed(SECRET, body, bad_signature=True), id="bad-signature"),
        pytest.param(lambda body: sp.signed(SECRET, body, ts=int(time.time()) - 301), id="stale-timestamp"),
        # Not +301: the timestamp is truncated to whole seconds, so a request that reached the
        # verifier a fraction of a second later was exactly 300 s ahead and let through (flaky).
        pytest.param(lambda body: sp.signed(SECRET, body, ts=int(time.time()) + 330), id="future-timestamp"),
        pytest.param(lambda body: sp.SignedRequest(json.dumps(body).encode(), {"Content-Type": "application/json"}), id="unsigned"),
        pytest.param(lambda body: sp.SignedRequest(sp.signed(SECRET, body).body + b" ", sp.signed(SECRET, body).headers),
                     id="body-tampered"),
    ],
)
def test_bad_signature_or_stale_timestamp_is_401_and_nothing_happens(serve, slack: FakeSlackAPI, mutate) -> None:
    app = serve()
    r = mutate(sp.event_callback(sp.app_mention_event(TECHNICAL))).post(app.url)
    assert r.status == 401
    cmd = sp.slash_command(TECHNICAL, response_url=slack.response_url("bad"))
    assert mutate(cmd).post(app.url).status == 401
    slack.assert_no_calls(within=0.3)  # not even auth.test
    assert app.records() == []


@pytest.mark.parametrize(
    "body,headers",
    [
        pytest.param(b"{not json", {"Content-Type": "application/json"}, id="bad-json"),
        pytest.param(b"\xff\xfe\x00junk", {"Content-Type": "application/x-www-form-urlencoded"}, id="binary-form"),
        pytest.param(b"payload=%7Bnot-json", {"Content-Type": "application/x-www-form-urlencoded"}, id="bad-payload"),
        pytest.param(b"{}", {"Content-Type": "application/json", "X-Slack-Request-Timestamp": "soon",
                             "X-Slack-Signature": "v0=00"}, id="non-numeric-timestamp"),
        pytest.param(b"[1,2", {"Content-Type": "application/json", "X-Slack-Request-Timestamp": "1e400",
                               "X-Slack-Signature": "v0=00"}, id="float-timestamp"),
    ],
)
def test_unsigned_junk_is_401_before_anything_parses_it(serve, slack: FakeSlackAPI, caplog, body, headers) -> None:
    app = serve()
    with caplog.at_level(logging.WARNING):
        r = sp.SignedRequest(body, headers).post(app.url)
    assert r.status == 401, (r.status, r.text)
    assert not [rec for rec in caplog.records if rec.levelno >= logging.ERROR]
    slack.assert_no_calls(within=0.2)
    assert sp.signed(SECRET, b"{not json").post(app.url).status == 400  # signed junk: a client bug
    assert app.post(sp.event_callback(sp.app_mention_event(TECHNICAL))).status == 200  # still serving
    slack.wait_for("chat.postMessage")


def test_channel_broadcasts_and_mentions_are_echoed_harmlessly(serve, slack: FakeSlackAPI) -> None:
    app = serve()
    # `reading <id>` echoes the unknown id back; Slack delivers the broadcast as <!channel>
    app.post(sp.event_callback(sp.app_mention_event("reading <!channel>")))
    app.post(sp.event_callback(sp.app_mention_event("reading <@U999>")))
    app.post(sp.event_callback(sp.app_mention_event("reading &lt;!here&gt;")))  # typed literally
    posts = slack.wait_for("chat.postEphemeral", count=3)  # an unknown id is answered privately
    assert {p["user"] for p in posts} == {sp.USER_ID} and all(p.get("thread_ts") for p in posts)
    for post in posts:
        for text in message_texts(post.params):
            for bad in ("<!channel>", "<!here>", "<!everyone>", "<@U999>", "<@"):
                assert bad not in text
    everything = "\n".join(t for p in posts for t in message_texts(p.params))
    assert "@\u2060channel" in everything  # shown, but cannot notify anyone
    assert "&lt;!here&gt;" in everything  # shown as the text someone typed
    assert "@u999" in everything  # (reading ids are lower-cased by the core)


def test_rate_limited_web_api_call_is_retried(serve, slack: FakeSlackAPI) -> None:
    app = serve()
    slack.rate_limit("chat.postMessage", retry_after=0)
    app.post(sp.event_callback(sp.app_mention_event(TECHNICAL)))
    posts = slack.wait_for("chat.postMessage", count=2)
    assert [p.status for p in posts] == [429, 200]


def test_logs_carry_no_message_text_or_token(serve, slack: FakeSlackAPI, caplog) -> None:
    secret_text = "SENSITIVE-USER-TEXT the chatbot made up a citation"
    caplog.set_level(logging.DEBUG)
    app = serve()
    app.post(sp.event_callback(sp.app_mention_event(secret_text)), bad_signature=True)
    app.post(sp.event_callback(sp.app_mention_event(secret_text)))
    app.post(sp.slash_command(secret_text, response_url=slack.response_url("log")))
    slack.wait_for("chat.postMessage")
    slack.wait_for("response_url", key="log")
    logged = "\n".join(r.getMessage() + json.dumps(r.__dict__, default=str) for r in caplog.records)
    assert "SENSITIVE-USER-TEXT" not in logged
    assert BOT_TOKEN not in logged and SECRET not in logged
    assert any(r.name == "bot.service" and r.getMessage() == "triage" for r in caplog.records)


def test_in_flight_replies_are_drained_on_shutdown(serve, slack: FakeSlackAPI) -> None:
    app = serve()
    app.post(sp.url_verification())  # warm up (auth.test happens on the first event anyway)
    slack.set_latency("chat.postMessage", 0.5)
    assert app.post(sp.event_callback(sp.app_mention_event(TECHNICAL))).status == 200
    time.sleep(0.1)  # the reply task is waiting on the slow Web API
    started = time.monotonic()
    app.stop()  # what SIGTERM does: stop accepting, finish requests, drain tasks, close
    assert time.monotonic() - started < 5
    [post] = slack.calls("chat.postMessage")  # the reply went out before the process let go
    assert post.status == 200
    assert app.service.store.health()["writer_alive"] is False  # the Service was closed...
    assert len(app._query("SELECT record_id FROM triage_records")) == 1  # ...after flushing its record


def test_health_is_503_when_the_store_is_down(serve, tmp_path) -> None:
    config = write_config(tmp_path / "down.yaml", tmp_path / "d", database_url="postgresql://postgres@127.0.0.1:1/test")
    app = serve(config=config)
    status, report = app.health()
    assert status == 503 and report["ok"] is False and report["store"]["ok"] is False


def test_block_kit_problems_helper_sees_our_messages_clean(serve, slack: FakeSlackAPI) -> None:
    app = serve()
    app.post(sp.event_callback(sp.im_message_event("topics")))
    [post] = slack.wait_for("chat.postMessage")
    assert block_kit_problems(post.params) == []


def test_two_workers_during_a_database_outage_answer_a_retry_once_and_say_forget_me_is_queued(serve, slack: FakeSlackAPI, pg_url: str, tmp_path) -> None:
    """Two HTTP workers of one host; PostgreSQL goes away; Slack retries each event to the
    other worker. The workers share claims through the local file beside the spool."""
    from tests.store.store_helpers import TcpProxy

    host_port = pg_url.split("@", 1)[1].split("/", 1)[0]
    host, port = host_port.rsplit(":", 1)
    proxy = TcpProxy((host, int(port))).start()
    try:
        url = pg_url.replace(host_port, f"127.0.0.1:{proxy.port}")
        config = write_config(tmp_path / "shared.yaml", tmp_path / "pgdata", database_url=url)
        a = serve(config=config)
        b = serve(config=config)
        assert a.post(sp.event_callback(sp.app_mention_event(TECHNICAL))).status == 200
        slack.wait_for("chat.postMessage")
        proxy.stop()
        for n in range(5):
            body = sp.event_callback(sp.app_mention_event(f"{TECHNICAL} #{n}"))
            assert a.post(body).status == 200
            assert b.post(body, retry_num=1).status == 200
        slack.wait_for("chat.postMessage", count=6)
        time.sleep(0.5)
        assert len(slack.calls("chat.postMessage")) == 6  # one answer per event, none twice
        b.post(sp.event_callback(sp.app_mention_event("forget me")))
        [told] = slack.wait_for("chat.postEphemeral")
        assert "unavailable" in told["text"] and "as soon as the store is back" in told["text"]
    finally:
        proxy.start()
        proxy.stop()
