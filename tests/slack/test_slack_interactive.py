"""HTTP mode, slash command and interactivity: /triage, the message shortcut, share and
feedback buttons, moderator commands, stats."""
from __future__ import annotations

import yaml

from tests.fakes import slack_payloads as sp
from tests.fakes.slack_api import FakeSlackAPI, message_texts
from tests.slack.kit import MOD_GROUP, MODERATOR, TECHNICAL, action_ids, button, wait_until


def _slash(app, slack, text, key="cmd", **kw):
    r = app.post(sp.slash_command(text, response_url=slack.response_url(key), **kw))
    assert r.status == 200
    return r


def test_slash_command_acks_at_once_and_replies_ephemerally_with_share(serve, slack: FakeSlackAPI) -> None:
    app = serve()
    r = _slash(app, slack, TECHNICAL)
    assert r.elapsed < 1.0 and r.body == b""  # empty ack: nothing shown until the answer
    [hook] = slack.wait_for("response_url", key="cmd")
    assert hook["response_type"] == "ephemeral"
    assert hook.problems == []
    assert hook.text and "technical" in hook.text.lower()
    [(record_id, channel, user, event_id, category)] = app.records()
    assert (channel, user, event_id, category) == (sp.CHANNEL_ID, sp.USER_ID, None, "technical")
    ids = action_ids(hook.blocks)
    assert ids[:5] == [f"fb|{c}|{record_id}" for c in ("right", "technical", "societal", "both", "not-governance")]
    assert ids[5:] == [f"more|{record_id}", f"share|{record_id}"]
    assert slack.calls("chat.postMessage") == [] and slack.calls("chat.postEphemeral") == []


def test_slash_command_text_containing_the_word_payload(serve, slack: FakeSlackAPI) -> None:
    """bolt mis-parses any form body containing "payload"; the adapter's request builder
    parses such a slash command as the plain form it is."""
    app = serve()
    _slash(app, slack, "the chatbot made up a payload citation")
    [hook] = slack.wait_for("response_url", key="cmd")
    assert hook["response_type"] == "ephemeral" and "technical" in hook.text.lower()
    # the response_url itself may contain the word as well
    r = app.post(sp.slash_command("help", response_url=slack.response_url("payload-key")))
    assert r.status == 200
    slack.wait_for("response_url", key="payload-key")


def test_bolt_still_misparses_a_form_body_containing_payload() -> None:
    """Why adapters/slack/shim.py exists: when this fails, bolt parses such a body itself
    and the shim can go."""
    from slack_bolt.request.async_request import AsyncBoltRequest

    form = {"content-type": "application/x-www-form-urlencoded"}
    assert AsyncBoltRequest(body="command=%2Ftriage&text=is+this+payload+risky", headers=form).body == {}


def test_share_in_channel_posts_publicly_and_removes_the_private_copy(serve, slack: FakeSlackAPI) -> None:
    app = serve()
    _slash(app, slack, TECHNICAL)
    [hook] = slack.wait_for("response_url", key="cmd")
    share = button(hook.blocks, "share|")
    click = sp.block_actions(share["action_id"], share["value"], block_id="share", ephemeral=True, response_url=slack.response_url("click"))
    assert "message" not in click
    assert app.post(click).status == 200
    public, delete = slack.wait_for("response_url", key="click", count=2)
    assert public["response_type"] == "in_channel" and public["replace_original"] is False
    assert public.problems == []
    assert public.text == hook.text
    record_id = share["action_id"].split("|")[1]
    assert action_ids(public.blocks) == [f"fb|{c}|{record_id}" for c in ("right", "technical", "societal", "both", "not-governance")] + [f"more|{record_id}"]
    assert delete["delete_original"] is True
    assert len(app.records()) == 1  # sharing does not record the triage twice


def test_share_from_another_worker_re_renders_from_the_button(serve, slack: FakeSlackAPI) -> None:
    app = serve()
    _slash(app, slack, TECHNICAL)
    [hook] = slack.wait_for("response_url", key="cmd")
    app.adapter._replies.clear()  # as if the click reached a worker that never saw the reply
    share = button(hook.blocks, "share|")
    app.post(sp.block_actions(share["action_id"], share["value"], ephemeral=True, response_url=slack.response_url("click")))
    public, _ = slack.wait_for("response_url", key="click", count=2)
    assert public["response_type"] == "in_channel" and public.text == hook.text


def test_message_shortcut_replies_privately_then_posts_in_the_thread(serve, slack: FakeSlackAPI) -> None:
    app = serve()
    action = sp.message_action(TECHNICAL, message_user="U456", response_url=slack.response_url("sc"))
    assert app.post(action).status == 200
    [hook] = slack.wait_for("response_url", key="sc")
    assert hook["response_type"] == "ephemeral" and hook.problems == []
    assert "technical" in hook.text.lower()
    [(record_id, _, user, _, _)] = app.records()
    assert user == sp.USER_ID  # the invoker, not the author of the message
    post_button = button(hook.blocks, "thread|")
    assert post_button["text"]["text"] == "Post in thread"
    app.post(sp.block_actions(post_button["action_id"], post_button["value"], ephemeral=True, response_url=slack.response_url("th")))
    [post] = slack.wait_for("chat.postMessage")
    assert post["channel"] == sp.CHANNEL_ID and post["thread_ts"] == action["message"]["ts"]
    assert post.problems == [] and post.text == hook.text
    [delete] = slack.wait_for("response_url", key="th")
    assert delete["delete_original"] is True


def test_post_in_thread_falls_back_to_response_url_when_not_in_channel(serve, slack: FakeSlackAPI) -> None:
    app = serve()
    action = sp.message_action(TECHNICAL, thread_ts="1700000000.000042", response_url=slack.response_url("sc"))
    app.post(action)
    [hook] = slack.wait_for("response_url", key="sc")
    slack.enqueue("chat.postMessage", {"ok": False, "error": "not_in_channel"})
    b = button(hook.blocks, "thread|")
    app.post(sp.block_actions(b["action_id"], b["value"], ephemeral=True, response_url=slack.response_url("th")))
    public, delete = slack.wait_for("response_url", key="th", count=2)
    assert public["response_type"] == "in_channel" and public["thread_ts"] == "1700000000.000042"
    assert delete["delete_original"] is True


def _public_triage(app, slack: FakeSlackAPI):
    """A mention answered in the channel: the posted reply, and a click on its "should be
    societal" button by a given user (answered at the response URL keyed `key`)."""
    app.post(sp.event_callback(sp.app_mention_event(TECHNICAL)))
    [post] = slack.wait_for("chat.postMessage")
    b = button(post.blocks, "fb|societal|")
    message = {"type": "message", "text": post.text, "ts": "1700000000.000100", "bot_id": "BBOT", "blocks": post.blocks}

    def click(user: str, key: str) -> str:
        action = sp.block_actions(b["action_id"], b["value"], block_id="feedback", message=message, user_id=user,
                                  response_url=slack.response_url(key))  # fmt: skip
        assert app.post(action).status == 200
        return b["action_id"].split("|")[2]  # the record id

    return post, click


def test_feedback_on_a_public_reply_is_recorded_and_acknowledged_in_place(serve, slack: FakeSlackAPI) -> None:
    app = serve()
    post, click = _public_triage(app, slack)
    # someone else in the channel may not rate it: told privately, the message stays as it is
    click("U777", "other")
    [refusal] = slack.wait_for("response_url", key="other")
    assert refusal["replace_original"] is False and refusal["response_type"] == "ephemeral"
    assert "Only the person who asked" in refusal["text"]
    record_id = click(sp.USER_ID, "fb")
    hook, _question = slack.wait_for("response_url", count=2, key="fb")  # the author disagreed: asked to keep it
    assert hook["replace_original"] is True and hook.problems == []
    assert hook.text == post.text
    texts = message_texts(hook.params)
    assert any("Thanks, recorded: should be societal" in t for t in texts)
    assert action_ids(hook.blocks) == action_ids(post.blocks)  # others can still rate it
    assert wait_until(lambda: app.feedback()) == [(record_id, sp.USER_ID, "societal")]


def test_a_moderator_by_user_group_may_rate_anyones_triage(serve, slack: FakeSlackAPI) -> None:
    """Slack sends no groups with a click: the adapter looks up the groups the service says
    decide a rating, and the service applies its policy."""
    app = serve()
    slack.set_response("usergroups.users.list", {"ok": True, "users": ["U555"]})
    _, click = _public_triage(app, slack)
    record_id = click("U555", "mod")
    [hook] = slack.wait_for("response_url", key="mod")
    assert hook["replace_original"] is True and "Only the person who asked" not in hook.text
    assert wait_until(lambda: app.feedback()) == [(record_id, "U555", "societal")]
    assert [c["usergroup"] for c in slack.calls("usergroups.users.list")] == [MOD_GROUP]


def test_feedback_on_an_ephemeral_reply_re_renders_it_with_the_acknowledgement(serve, slack: FakeSlackAPI) -> None:
    app = serve()
    _slash(app, slack, TECHNICAL)
    [hook] = slack.wait_for("response_url", key="cmd")
    app.adapter._replies.clear()  # the click lands on a worker that never saw the reply
    b = button(hook.blocks, "fb|right|")
    app.post(sp.block_actions(b["action_id"], b["value"], ephemeral=True, response_url=slack.response_url("fb")))
    [ack] = slack.wait_for("response_url", key="fb")
    assert ack["replace_original"] is True and ack.problems == []
    assert ack.text == hook.text  # the same reply...
    assert any("Thanks, recorded: right" in t for t in message_texts(ack.params))  # ...acknowledged
    assert action_ids(ack.blocks) == action_ids(hook.blocks)  # still shareable, still ratable
    record_id = b["action_id"].split("|")[2]
    assert wait_until(lambda: app.feedback()) == [(record_id, sp.USER_ID, "right")]


def test_feedback_for_an_unknown_record_says_so(serve, slack: FakeSlackAPI) -> None:
    app = serve()
    app.post(sp.block_actions("fb|both|nosuchrecord", "nosuchrecord", ephemeral=True, response_url=slack.response_url("fb")))
    [hook] = slack.wait_for("response_url", key="fb")
    assert "couldn't find that triage" in hook.text and hook["replace_original"] is False
    assert app.feedback() == []


def test_non_moderator_reload_is_refused(serve, slack: FakeSlackAPI) -> None:
    app = serve()
    _slash(app, slack, "reload")
    [hook] = slack.wait_for("response_url", key="cmd")
    assert hook["response_type"] == "ephemeral" and "for moderators only" in hook.text
    # in a channel mention the refusal is ephemeral too
    app.post(sp.event_callback(sp.app_mention_event("reload")))
    [eph] = slack.wait_for("chat.postEphemeral")
    assert "for moderators only" in eph.text and eph["user"] == sp.USER_ID
    assert slack.calls("chat.postMessage") == []


def test_moderators_by_user_id_and_by_user_group(serve, slack: FakeSlackAPI) -> None:
    app = serve()
    slack.set_response("usergroups.users.list", {"ok": True, "users": ["U555"]})
    _slash(app, slack, "reload", key="m1", user_id=MODERATOR)
    [hook] = slack.wait_for("response_url", key="m1")
    assert "moderators only" not in hook.text
    assert slack.calls("usergroups.users.list") == []  # listed by id: no lookup needed
    _slash(app, slack, "reload", key="m2", user_id="U555")
    [hook] = slack.wait_for("response_url", key="m2")
    assert "moderators only" not in hook.text
    [lookup] = slack.calls("usergroups.users.list")
    assert lookup["usergroup"] == MOD_GROUP


def test_stats_for_ethics_leads_by_user_group(serve, slack: FakeSlackAPI, tmp_path) -> None:
    roles = {"moderators": {"slack": [MODERATOR]}, "ethics_leads": {"slack": ["SLEADS"]}}
    config = tmp_path / "leads.yaml"
    config.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "leads"), "roles": roles}))
    app = serve(config=config)
    slack.set_response("usergroups.users.list", {"ok": True, "users": ["ULEAD"]})
    _slash(app, slack, "stats 7d", key="s1", user_id="UOTHER")
    [hook] = slack.wait_for("response_url", key="s1")
    assert "ethics leads and moderators" in hook.text
    _slash(app, slack, "stats 7d", key="s2", user_id="ULEAD")
    [hook] = slack.wait_for("response_url", key="s2")
    assert "Triage stats" in hook.blocks[0]["text"]["text"]
    assert [c["usergroup"] for c in slack.calls("usergroups.users.list")] == ["SLEADS"]  # cached after one lookup


def test_stats_as_text_bars_in_a_code_block(serve, slack: FakeSlackAPI) -> None:
    app = serve()
    _slash(app, slack, TECHNICAL, key="t")
    slack.wait_for("response_url", key="t")
    app.service.store.flush(5)
    _slash(app, slack, "stats 7d")
    [hook] = slack.wait_for("response_url", key="cmd")
    assert hook["response_type"] == "ephemeral" and hook.problems == []
    body = hook.blocks[0]["text"]["text"]
    assert body.startswith("```\nTriage stats, last 7 days") and "█" in body and body.endswith("```")
    assert slack.calls("files.getUploadURLExternal") == []


def test_stats_chart_uploaded_as_png_when_enabled(serve, slack: FakeSlackAPI) -> None:
    app = serve(upload_charts=True)
    ev = sp.app_mention_event("stats")
    app.post(sp.event_callback(ev))
    [done] = slack.wait_for("files.completeUploadExternal")
    assert done["channel_id"] == sp.CHANNEL_ID and done["thread_ts"] == ev["ts"]
    [upload] = slack.calls("upload")
    assert upload.body.startswith(b"\x89PNG")
    assert slack.calls("chat.postMessage") == []


def test_stats_fall_back_to_text_when_upload_is_not_granted(serve, slack: FakeSlackAPI) -> None:
    app = serve(upload_charts=True)
    slack.set_response("files.getUploadURLExternal", {"ok": False, "error": "missing_scope"})
    app.post(sp.event_callback(sp.app_mention_event("stats")))
    [post] = slack.wait_for("chat.postMessage")
    assert post.blocks[0]["text"]["text"].startswith("```\nTriage stats")


def test_feedback_export_for_moderators_in_a_dm(serve, slack: FakeSlackAPI) -> None:
    app = serve()
    app.post(sp.event_callback(sp.im_message_event("feedback export", user=MODERATOR)))
    [post] = slack.wait_for("chat.postMessage")
    assert post["channel"] == sp.DM_CHANNEL_ID and post.problems == []
    assert "feedback-examples.yaml" in post.text and "examples:" in "\n".join(message_texts(post.params))


def test_help_topics_and_forget_me(serve, slack: FakeSlackAPI) -> None:
    app = serve()
    _slash(app, slack, "topics", key="a")
    _slash(app, slack, "forget me", key="b")
    [topics] = slack.wait_for("response_url", key="a")
    [forget] = slack.wait_for("response_url", key="b")
    assert "Intersection topics" in topics.text and topics.problems == []
    assert forget.text.startswith("Done: I deleted")


def _visible_lines(message_blocks: list[dict]) -> list[str]:
    """The lines a person reads in a Block Kit message (section and context text)."""
    lines = []
    for b in message_blocks:
        if b["type"] == "section":
            lines += b["text"]["text"].splitlines()
        elif b["type"] == "context":
            lines += [e["text"] for e in b["elements"]]
        elif b["type"] == "actions":
            lines.append(" | ".join(e["text"]["text"] for e in b["elements"]))
    return lines


def test_the_default_reply_is_short_and_more_shows_the_details_ephemerally(serve, slack: FakeSlackAPI) -> None:
    app = serve()
    app.post(sp.event_callback(sp.app_mention_event(TECHNICAL)))
    [post] = slack.wait_for("chat.postMessage")
    lines = _visible_lines(post.blocks)
    assert len([line for line in lines if line.strip()]) <= 16, lines  # ~12 lines of reply, plus category and buttons
    assert not any("Framing" in line or "Oversight and interventions" in line for line in lines)
    b = button(post.blocks, "more|")
    message = {"type": "message", "text": post.text, "ts": "1700000000.000100", "thread_ts": "1700000000.000001", "blocks": post.blocks}
    app.post(sp.block_actions(b["action_id"], b["value"], block_id="share", message=message, user_id="U777",
                              response_url=slack.response_url("more")))  # fmt: skip
    [details] = slack.wait_for("response_url", key="more")
    assert details["response_type"] == "ephemeral" and details["replace_original"] is False
    text = "\n".join(message_texts(details.params))
    assert "Framing" in text and "Interventions" in text
