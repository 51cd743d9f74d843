"""Issue 10, point 4 on Slack: a disagreeing author gets an ephemeral "may I keep your
message?" with Block Kit buttons; only "Yes" stores the text. Driven through the real bolt
app against the fake Slack API."""
from __future__ import annotations

from tests.fakes import slack_payloads as sp
from tests.fakes.slack_api import FakeSlackAPI, message_texts
from tests.slack.kit import TECHNICAL, button, wait_until


def _rate(app, slack, choice, key):
    app.post(sp.event_callback(sp.app_mention_event(TECHNICAL)))
    post = slack.wait_for("chat.postMessage")[-1]
    b = button(post.blocks, f"fb|{choice}|")
    message = {"type": "message", "text": post.text, "ts": "1700000000.000100", "bot_id": "BBOT", "blocks": post.blocks}
    app.post(sp.block_actions(b["action_id"], b["value"], block_id="feedback", message=message, user_id=sp.USER_ID,
                              response_url=slack.response_url(key)))  # fmt: skip
    return b["action_id"].split("|")[2]


def test_a_yes_keeps_the_text_and_the_answer_replaces_the_question(serve, slack: FakeSlackAPI) -> None:
    app = serve()
    record_id = _rate(app, slack, "societal", "fb")
    _ack, question = slack.wait_for("response_url", count=2, key="fb")
    assert question["response_type"] == "ephemeral" and question["replace_original"] is False
    assert question.problems == []
    assert any("May I keep the text of your message" in t for t in message_texts(question.params))
    yes = button(question.blocks, "keep|yes|")
    assert yes["action_id"] == f"keep|yes|societal|{record_id}"
    assert [e["text"]["text"] for e in question.blocks[-1]["elements"]] == ["Yes, keep it", "No"]
    app.post(sp.block_actions(yes["action_id"], yes["value"], block_id="keep", ephemeral=True,
                              response_url=slack.response_url("keep")))  # fmt: skip
    [done] = slack.wait_for("response_url", key="keep")
    assert done["replace_original"] is True and "I kept your message" in done["text"]
    assert wait_until(lambda: app._query("SELECT text FROM feedback")) == [(TECHNICAL,)]


def test_no_keeps_nothing_and_right_asks_nothing(serve, slack: FakeSlackAPI) -> None:
    app = serve()
    _rate(app, slack, "both", "fb")
    _ack, question = slack.wait_for("response_url", count=2, key="fb")
    no = button(question.blocks, "keep|no|")
    app.post(sp.block_actions(no["action_id"], no["value"], block_id="keep", ephemeral=True,
                              response_url=slack.response_url("keep")))  # fmt: skip
    [done] = slack.wait_for("response_url", key="keep")
    assert "not kept" in done["text"]
    _rate(app, slack, "right", "right")
    slack.wait_for("response_url", key="right")
    assert wait_until(lambda: app.feedback()) and app._query("SELECT text FROM feedback WHERE text IS NOT NULL") == []
    assert len(slack.wait_for("response_url", key="right", timeout=0.5)) == 1  # no question after "right"
