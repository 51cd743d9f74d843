"""Discord's size limits: a huge reply is shortened gracefully, never rejected."""
from __future__ import annotations

import pytest

from adapters.discord import embeds as E
from adapters.discord.replies import LONG_NOTE
from bot.messages import Bar, Chart
from bot.render import ELLIPSIS, cut
from bot.reply import Link, Note, Reply
from discord_kit import CHANNEL_MESSAGES, HUGE_CONCERN, P, Env, answer, ask, assert_within_limits, sub


def _huge_reply(n_pitfalls: int = 40) -> Reply:
    return Reply(
        category="both",
        headline="H" * 1000,
        why=tuple(f'"span {i}": ' + "because " * 200 for i in range(5)),
        framing="framing " * 2000,
        questions=tuple("q " * 900 for _ in range(6)),
        involve=tuple("expert " * 40 for _ in range(30)),
        oversight="o " * 3000,
        interventions=tuple("i " * 500 for _ in range(10)),
        pitfalls=tuple(Note(f"p{i}", "P" * 400, "text " * 400) for i in range(n_pitfalls)),
        intersection=tuple(Note(f"t{i}", f"topic {i}", "x " * 2000) for i in range(3)),
        readings=tuple(Link("[" + "T" * 300 + "]", f"https://example.org/{i}") for i in range(10)),
        notices=("note " * 1000,),
        confidence=0.9,
    )


@pytest.mark.parametrize("n_pitfalls", [0, 1, 40])
def test_a_huge_reply_fits_every_embed_limit(n_pitfalls):
    spec = E.triage_spec(_huge_reply(n_pitfalls))
    embed = spec.to_embed().to_dict()
    assert not P.message_limit_errors({"embeds": [embed]}), P.message_limit_errors({"embeds": [embed]})
    assert P.embed_size(embed) <= P.LIMIT_EMBEDS_TOTAL
    assert len(embed["fields"]) <= P.LIMIT_EMBED_FIELDS
    assert embed["title"].endswith(ELLIPSIS) and len(embed["title"]) <= P.LIMIT_EMBED_TITLE
    assert embed["footer"]["text"].endswith(E.SHORTENED)
    assert embed["color"] == E.COLOURS["both"]
    names = [f["name"] for f in embed["fields"]]
    assert "Ask next" in names and "Who to involve" in names  # long pitfalls don't crowd out the rest
    pitfall_fields = [n for n in names if "Pitfall" in n]
    assert len(pitfall_fields) == (n_pitfalls if n_pitfalls <= E.MAX_NOTE_FIELDS else 1)


def test_more_than_25_fields_end_with_a_summary_field():
    spec = E.EmbedSpec("t", fields=[(f"f{i}", "v") for i in range(40)]).fit()
    assert len(spec.fields) == 25 and spec.fields[-1] == ("More", "16 more section(s) did not fit.")


def test_a_small_reply_is_left_alone():
    reply = Reply("technical", "Short", why=('"x": y',), questions=("q?",), readings=(Link("R", "https://r.example"),))
    spec = E.triage_spec(reply)
    assert not spec.shortened and E.SHORTENED not in spec.footer
    assert spec.description == '**Why**\n• "x": y'
    assert spec.fields == [("Ask next", "• q?"), ("Further reading", "• [R](https://r.example)")]


def test_cut_and_content():
    assert cut("short", 10) == "short"
    text = "word " * 1000
    out = cut(text, 100)
    assert len(out) <= 100 and out.endswith(ELLIPSIS) and not out[:-1].endswith(" ")
    assert len(E.content("@everyone " * 500)) <= E.CONTENT
    assert "@everyone" not in E.content("hi @everyone and @here") and "@\u200bhere" in E.content("@here")


def test_a_long_chart_keeps_its_code_block_closed():
    chart = Chart("Stats", (("Topics", tuple(Bar(f"topic-{i}-" + "x" * 40, i) for i in range(200))),), "footer")
    from bot.chart import text_bars

    spec = E.chart_spec(chart, text_bars(chart), "attachment://stats.png")
    assert len(spec.description) <= E.DESCRIPTION and spec.description.startswith("```\n") and spec.description.endswith("\n```")


def test_huge_knowledge_through_discord(tmp_path, huge_dir):
    env = Env(tmp_path, huge_dir)

    async def body(fake, bot):
        w = fake.world
        cb = await answer(fake, ask(w, HUGE_CONCERN))  # the fake answers 400 if any limit is broken
        assert cb.callback_type == 4
        assert_within_limits(cb)
        assert cb.embeds[0]["footer"]["text"].endswith(E.SHORTENED)

        await fake.dispatch("MESSAGE_CREATE", w.mention_message(HUGE_CONCERN))
        assert_within_limits(await fake.wait_for_call("POST", CHANNEL_MESSAGES))

        long = await answer(fake, sub(w, "topics"))  # ~40,000 characters: a message plus the file
        assert_within_limits(long)
        assert long.ephemeral and len(long.content) <= P.LIMIT_CONTENT and long.content.endswith(LONG_NOTE)
        (f,) = long.files
        assert f.filename == "topics.txt" and len(f.data) > 20_000

    try:
        env.run(body)
    finally:
        env.close()
