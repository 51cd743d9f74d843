"""Hot reload: a good edit takes effect, a bad one is reported and the last good knowledge serves."""
import pytest

from bot.classify import triage
from bot.reload import KnowledgeError, KnowledgeHolder

NEW_RULE = """
rules:
  - id: deepfake
    concept: synthetic media of real people
    category: societal
    weight: 2.0
    phrases: ["deepfake"]
"""


def test_edit_takes_effect_without_restart(mini_dir):
    holder = KnowledgeHolder(mini_dir, min_interval=0)
    before = holder.current.version
    assert triage(holder.current, "a deepfake of the mayor").signals == ()
    (mini_dir / "rules" / "media.yaml").write_text(NEW_RULE)
    event = holder.maybe_reload()
    assert event.ok and event.version != before
    assert [s.rule_id for s in triage(holder.current, "a deepfake of the mayor").signals] == ["deepfake"]
    assert holder.maybe_reload() is None  # nothing changed since


def test_bad_edit_keeps_last_good_knowledge(mini_dir):
    holder = KnowledgeHolder(mini_dir, min_interval=0)
    good = holder.current
    (mini_dir / "rules" / "extra.yaml").write_text("rules:\n  - id: broken\n    concept: c\n    category: technical\n    phrases: [yes]\n")
    event = holder.maybe_reload()
    assert not event.ok and event.version == good.version
    assert holder.current is good
    described = event.describe()
    assert "still serving version " + good.version in described
    assert "rules/extra.yaml:5:" in described and "boolean" in described
    assert triage(holder.current, "the chatbot made up a citation").category == "technical"


def test_reload_is_throttled(mini_dir):
    holder = KnowledgeHolder(mini_dir, min_interval=3600)
    (mini_dir / "rules" / "media.yaml").write_text(NEW_RULE)
    assert holder.maybe_reload() is None  # checked too recently
    assert holder.reload().ok  # an explicit reload (the `reload` command) always runs


def test_watcher_thread_reloads(mini_dir):
    import threading

    holder = KnowledgeHolder(mini_dir)
    seen = threading.Event()
    holder.watch(interval=0.05, on_event=lambda e: seen.set())
    (mini_dir / "rules" / "media.yaml").write_text(NEW_RULE)
    assert seen.wait(5)
    holder.stop()
    assert any(r.id == "deepfake" for r in holder.current.rules)


def test_start_without_valid_knowledge_is_an_error(tmp_path):
    (tmp_path / "k").mkdir()
    (tmp_path / "k" / "a.yaml").write_text("rules: [")
    with pytest.raises(KnowledgeError) as info:
        KnowledgeHolder(tmp_path / "k")
    assert str(info.value).startswith("a.yaml:2: error: not valid YAML")
    assert "no rules defined" not in str(info.value)  # no follow-on noise from a file that did not parse
