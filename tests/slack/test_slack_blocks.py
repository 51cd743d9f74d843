"""Block Kit rendering and Slack text safety: limits, escaping, inbound markup."""
from __future__ import annotations

import json

import yaml

from adapters.slack import blocks
from adapters.slack.text import chunks, cut, esc, to_plain
from bot.messages import Outgoing
from bot.reply import Link, Note, Reply
from tests.fakes import slack_payloads as sp
from tests.fakes.slack_api import FakeSlackAPI, block_kit_problems, message_texts
from tests.slack.kit import TECHNICAL

LONG = "word " * 900  # 4,500 characters


def huge_reply() -> Reply:
    return Reply(
        category="both",
        headline="H" * 5000,
        why=tuple(f'"{i}": {LONG}' for i in range(120)),
        framing=LONG * 3,
        questions=tuple(f"Question {i} & <b>{LONG[:500]}</b>?" for i in range(200)),
        involve=tuple(f"person {i}" for i in range(400)),
        oversight=LONG,
        interventions=tuple(LONG[:900] for _ in range(50)),
        pitfalls=tuple(Note(f"p{i}", f"Pitfall {i}", LONG) for i in range(40)),
        intersection=tuple(Note(f"t{i}", f"Topic {i}", LONG) for i in range(40)),
        readings=tuple(Link(f"Reading {i} " + "t" * 900, f"https://example.org/{i}?a=1&b=2") for i in range(300)),
        notices=("<!channel> notice",),
        confidence=0.5,
    )


def _sections(message: dict) -> list[str]:
    return [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]


def test_a_huge_reply_fits_slack_limits_and_keeps_its_buttons() -> None:
    share = blocks.Share("channel", "x" * 5000)
    msg = blocks.triage_message(huge_reply(), "rec1", share=share)
    assert block_kit_problems(msg) == []
    assert len(msg["blocks"]) == blocks.MAX_BLOCKS
    assert all(len(t) <= 3000 for t in _sections(msg))
    assert len(msg["text"]) <= 3000
    assert msg["blocks"][-1]["block_id"] == "share" and msg["blocks"][-2]["block_id"] == "feedback"
    assert "Shortened to fit" in json.dumps(msg["blocks"])
    value = msg["blocks"][-1]["elements"][0]["value"]
    assert len(value) <= 2000 and "t" not in json.loads(value)  # too long to carry the text
    assert "<!channel>" not in "\n".join(message_texts(msg))


def test_a_huge_plain_answer_is_split_over_messages_within_limits() -> None:
    text = "\n".join(f"line {i}: {LONG[:700]} <!here> & more" for i in range(400))  # ~300k chars
    msgs = blocks.render(Outgoing("topics", text))
    assert 1 < len(msgs) <= blocks.MAX_MESSAGES
    for m in msgs:
        assert block_kit_problems(m) == []
        assert sum(len(t) for t in _sections(m)) <= blocks.MESSAGE_CHARS
        assert all("<!here>" not in t for t in message_texts(m))
    assert "Cut short" in json.dumps(msgs[-1]["blocks"])


def test_one_overlong_line_is_cut_without_breaking_an_entity() -> None:
    text = "&" * 5000
    [piece, *rest] = chunks(esc(text), 3000)
    assert len(piece) <= 3000 and piece.endswith("&amp;")
    assert cut(esc("a&b" * 2000), 100).endswith("…") and "&am…" not in cut(esc("a&b" * 2000), 100)


def test_escaping_neutralises_broadcasts_mentions_and_links() -> None:
    assert esc("<!channel> <!here> <!everyone> <@U123> <https://evil|click> a&b") == (
        "&lt;!channel&gt; &lt;!here&gt; &lt;!everyone&gt; &lt;@U123&gt; &lt;https://evil|click&gt; a&amp;b"
    )
    assert esc("@channel @Here @everyone") == "@\u2060channel @\u2060Here @\u2060everyone"
    assert blocks.link("javascript:alert(1)", "x") == "x: javascript:alert(1)"
    assert blocks.link("https://a.b/?q=<x>|y", "T <z>") == "<https://a.b/?q=%3Cx%3E%7Cy|T &lt;z&gt;>"


def test_inbound_markup_becomes_the_words_people_typed() -> None:
    raw = "<@UBOT> hi <@U1|ann> in <#C1|general>, see <https://x.org|the doc> &amp; <https://y.org> &lt;b&gt; <!here> <!subteam^S1|@mods>"
    assert to_plain(raw, "UBOT") == "hi @ann in #general, see the doc & https://y.org <b> @here @mods"


def test_feedback_ack_replaces_an_earlier_one() -> None:
    msg = blocks.triage_message(Reply("technical", "T", why=("w",)), "r1")
    once = blocks.with_ack(msg["blocks"], "first")
    twice = blocks.with_ack(once, "second")
    acks = [b for b in twice if b.get("block_id") == blocks.ACK_BLOCK]
    assert len(acks) == 1 and acks[0]["elements"][0]["text"] == "second"
    at = [b.get("block_id") for b in twice]
    assert at.index(blocks.ACK_BLOCK) == at.index(blocks.FEEDBACK_BLOCK) + 1


def test_a_huge_reply_from_the_knowledge_base_is_accepted_by_slack(serve, slack: FakeSlackAPI, mini_dir) -> None:
    """End to end: a moderator wrote very long category texts; the fake rejects anything
    over Slack's limits with invalid_blocks, like Slack does."""
    path = mini_dir / "categories.yaml"
    data = yaml.safe_load(path.read_text())
    tech = data["categories"]["technical"]
    tech["framing"] = "Long framing <!channel>. " * 400
    tech["headline"] = "A very long headline " * 20
    tech["questions"] = [f"Question {i}: " + "why " * 700 for i in range(4)]
    tech["expertise"] = [f"Expert {i} " + "x" * 200 for i in range(30)]
    path.write_text(yaml.safe_dump(data))
    app = serve()
    app.post(sp.event_callback(sp.app_mention_event(TECHNICAL)))
    [post] = slack.wait_for("chat.postMessage")
    assert post.status == 200 and post.response["ok"] is True, post.problems
    assert post.problems == []
    assert all(len(t) <= 3000 for t in _sections(post.params))
