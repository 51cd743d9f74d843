"""The default reply as a person reads it: short, about this concern, small talk aside.

Read through the console (the text a person sees) on the shipped knowledge, whose concept
guidance is what this is about; the Block Kit and embed versions are in tests/slack and
tests/discord.
"""
from __future__ import annotations

import subprocess
import sys

import pytest

from bot.check import check
from bot.messages import CONSOLE, Incoming, Limits
from bot.reload import KnowledgeHolder
from bot.render import plain_details
from bot.service import Service
from tests.conftest import REPO, SHIPPED_KNOWLEDGE, write_knowledge

MAX_LINES = 12
CONCERNS = {
    "hallucination": "the support bot keeps making up refund policies that do not exist",
    "reward-hacking": "the coding agent learned to game the reward by deleting the failing tests",
    "jailbreak": "users found a jailbreak prompt that gets the assistant to ignore its safety rules",
    "labour": "we are replacing half the call centre staff with the chatbot next quarter",
    "surveillance": "the city wants to use facial recognition to track protesters",
    "both": "the minister says the new AI law will make our models robust, so we can skip the red-teaming",
}


@pytest.fixture(scope="module")
def service():
    s = Service(KnowledgeHolder(SHIPPED_KNOWLEDGE), None)
    yield s
    s.close()


def console(lines: list[str], tmp_path) -> list[str]:
    """Replies of the real console for piped lines, split at its `---` separators."""
    env = {"TRIAGE_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}
    import os

    env.update({k: v for k, v in os.environ.items() if k.startswith("TRIAGE_MODEL")})
    out = subprocess.run([sys.executable, "-m", "adapters.cli", "console"], input="\n".join(lines).encode() + b"\n",
                         capture_output=True, cwd=REPO, env=env, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr.decode()
    return [r.strip("\n") for r in out.stdout.decode().split("---\n")][: len(lines)]


def ask(service, text):
    (out,) = service.handle(Incoming("console", "local", "console", "u", text, CONSOLE), Limits(100_000))
    return out


def test_console_replies_are_short_and_end_with_feedback_and_more(tmp_path):
    replies = console(list(CONCERNS.values()), tmp_path)
    for reply in replies:
        lines = reply.splitlines()
        assert len(lines) <= MAX_LINES, reply
        assert lines[0].startswith("This looks like") and "confidence)" in lines[0]
        assert lines[1].startswith("Why: ")
        assert "Ask next:" in lines and any(line.startswith("Involve: ") for line in lines)
        assert any(line.startswith("Oversight: ") for line in lines)
        assert lines[-1].startswith("(Was this right? `feedback ") and "`more`" in lines[-1]
        assert "Framing" not in reply and "Interventions" not in reply  # behind "more"


def test_two_concerns_of_one_kind_get_different_questions_and_people(service):
    a, b, c = (ask(service, CONCERNS[k]).reply for k in ("hallucination", "reward-hacking", "jailbreak"))
    assert a.category == b.category == c.category == "technical"
    assert not set(a.questions) & set(b.questions) and not set(b.questions) & set(c.questions)
    assert a.involve != b.involve
    assert "the retrieval/grounding owner" in a.involve
    assert any("reward" in q or "metric" in q for q in b.questions)
    assert not any("adversarial prompting" in q for q in b.questions)


def test_societal_concerns_name_specific_roles(service):
    labour = ask(service, CONCERNS["labour"]).reply
    watched = ask(service, CONCERNS["surveillance"]).reply
    assert "the works council or employee representatives" in labour.involve
    assert "the DPO" in watched.involve
    assert 2 <= len(labour.questions) <= 3 and 1 <= len(labour.readings) <= 2


def test_both_shows_one_line_per_side_and_more_has_the_rest(service):
    reply = ask(service, CONCERNS["both"]).reply
    assert reply.category == "both"
    assert [s.split(":")[0] for s in reply.sides] == ["Technical side", "Societal side"]
    details = plain_details(reply)
    assert "Framing" in details and "Interventions" in details and "Why, in full" in details


def test_console_more_shows_the_details_of_the_last_reply(tmp_path):
    _, more = console([CONCERNS["hallucination"], "more"], tmp_path)
    assert more.startswith("More on: This looks like a technical-safety concern")
    assert "Framing:" in more and "Interventions:" in more


@pytest.mark.parametrize("text", ["hi", "thanks!", "standup at 10?", "good morning team", "ok cheers"])
def test_small_talk_gets_a_one_line_hint_and_no_record(make_service_store, text):
    (out,) = make_service_store.handle(Incoming("slack", "T", "C", "U", text, "dm"))
    assert out.kind == "small-talk" and out.record_id is None and len(out.text.splitlines()) == 1
    make_service_store.store.flush()
    assert make_service_store.store.stats(0).total == 0


def test_a_terse_real_concern_is_not_small_talk(service):
    assert ask(service, "our model leaks data").kind == "triage"
    assert ask(service, "hi, the chatbot made up a citation").kind == "triage"


@pytest.fixture
def make_service_store(mini_dir, tmp_path):
    from bot.store import open_store

    s = Service(KnowledgeHolder(mini_dir, min_interval=0), open_store(None, tmp_path / "data"))
    yield s
    s.close()


def test_ask_runs_commands_instead_of_triaging_them():
    out = subprocess.run([sys.executable, "-m", "adapters.cli", "ask", "help"], capture_output=True, cwd=REPO, timeout=120)
    assert b"Commands:" in out.stdout and b"can't place" not in out.stdout


# -- concept guidance as data -----------------------------------------------------------


def test_knowledge_check_flags_a_concept_with_no_guidance(mini_dir):
    import yaml

    path = mini_dir / "rules" / "rules.yaml"
    data = yaml.safe_load(path.read_text())
    data["rules"][0]["concept_id"] = "halucination"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    write_knowledge(mini_dir, {"concepts.yaml": {"concepts": {"hallucination": {
        "title": "Hallucination", "questions": ["q1?", "q2?"], "involve": ["the grounding owner"],
        "oversight": "review", "readings": ["r-technical"]}}}})  # fmt: skip
    report = check(mini_dir)
    assert report.ok
    (warning,) = [p for p in report.warnings if "concept" in p.message]
    assert "concept 'halucination' has no guidance" in warning.message and "did you mean 'hallucination'" in warning.message
    assert warning.file == "rules/rules.yaml" and warning.line > 0


def test_concept_guidance_is_validated_like_other_knowledge(mini_dir):
    write_knowledge(mini_dir, {"concepts.yaml": {"concepts": {"x": {
        "title": "X", "questions": ["only one?"], "involve": ["someone"], "oversight": "o",
        "readings": ["no-such-reading"], "advice": "unknown key"}}}})  # fmt: skip
    report = check(mini_dir)
    messages = [p.message for p in report.problems]
    assert any("unknown reading 'no-such-reading'" in m for m in messages)
    assert any("unknown key 'advice'" in m for m in messages)
    assert any("'questions' in concept 'x' should have 2 to 3 items" in m for m in messages)


def test_shipped_rules_all_point_at_guidance():
    report = check(SHIPPED_KNOWLEDGE)
    assert not [p for p in report.warnings if "has no guidance" in p.message]
    k = report.knowledge
    with_concept = [r for r in k.rules if r.concept_id]
    assert len(with_concept) >= 0.95 * len(k.rules)
