"""Issue 10, point 4 on Discord: after a disagreeing rating the author gets "may I keep your
message?" with a view of two buttons; only "Yes, keep it" stores the text, and the answer
replaces the question. Through discord.py's own parsing, over the fake gateway."""
from __future__ import annotations

from discord_kit import answer, ask, record_id_of

CONCERN = "the chatbot made up a citation"


def test_yes_keeps_the_text_for_the_export(env):
    async def body(fake, bot):
        w = fake.world
        rid = record_id_of(await answer(fake, ask(w, CONCERN)))
        rated = await answer(fake, w.button_click(f"triage:fb:{rid}:societal"))
        assert rated.ephemeral and "Thanks, recorded: should be societal." in rated.content
        assert "May I keep the text of your message" in rated.content
        assert rated.custom_ids() == [f"triage:keep:{rid}:societal:yes", f"triage:keep:{rid}:societal:no"]
        done = await answer(fake, w.button_click(f"triage:keep:{rid}:societal:yes"))
        assert done.callback_type == 7 and "I kept your message" in done.content and done.custom_ids() == []

    env.run(body)
    env.service.store.flush()
    (d,) = env.service.store.disagreements()
    assert d.feedback.text == CONCERN and d.record.text is None


def test_no_and_right_keep_nothing(env):
    async def body(fake, bot):
        w = fake.world
        rid = record_id_of(await answer(fake, ask(w, CONCERN)))
        await answer(fake, w.button_click(f"triage:fb:{rid}:both"))
        done = await answer(fake, w.button_click(f"triage:keep:{rid}:both:no"))
        assert "not kept" in done.content
        other = record_id_of(await answer(fake, ask(w, "who decides about surveillance?")))
        right = await answer(fake, w.button_click(f"triage:fb:{other}:right"))
        assert right.content == "Thanks, recorded: right." and right.custom_ids() == []

    env.run(body)
    env.service.store.flush()
    assert [d.feedback.text for d in env.service.store.disagreements()] == [None]
