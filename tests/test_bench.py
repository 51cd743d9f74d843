"""The benchmark's own machinery (its figures live in the README, never in assertions)."""

from bot.bench import generated_rules, latency, naive_baseline, sample_messages, summary
from bot.check import check


def test_generated_rule_base_is_valid_and_scales_the_index(mini_dir):
    (mini_dir / "rules" / "generated.yaml").write_text(generated_rules(200))
    report = check(mini_dir)
    assert report.ok and len(report.knowledge.rules) == 208
    assert not [w for w in report.warnings if "gen-" in w.message]  # synthetic phrases don't collide


def test_measurements_cover_every_message(mini):
    chat = sample_messages(mini, 40, None)
    long = sample_messages(mini, 5, 300)
    assert chat == sample_messages(mini, 40, None)  # deterministic input, comparable runs
    assert all(len(m.split()) == 300 for m in long)
    result = latency(mini, chat)
    assert result["messages"] == 40 and result["median_us"] <= result["p99_us"]
    assert naive_baseline(mini, chat[:5])["messages"] == 5


def test_summary_percentiles():
    s = summary([float(i) for i in range(1, 101)], total_s=2.0)
    assert s == {"messages": 100, "median_us": 50.5, "p99_us": 99.0, "per_second": 50}


def test_decision_bench_measures_every_part_on_realistic_posts(mini):
    from bot.bench_decision import parts, realistic_posts, rules_path

    posts = realistic_posts()
    assert len(posts) >= 100 and all(80 <= len(p) <= 150 for p in posts)
    ev = rules_path(mini, "the chatbot made up a citation")
    assert ev.signals  # the rules-only path really runs the rules
    measured = parts(mini, posts[:20])
    assert {"normalise_tokenize_us", "match_us", "rule_evidence_us", "embedding_us", "ngrams_us"} <= set(measured)
    assert all(v > 0 for v in measured.values())


def test_load_and_train_is_measured_at_the_size_the_targets_name(tmp_path):
    """`thinned` keeps the rules and about the asked-for share of every examples file."""
    from bot.bench_decision import thinned
    from bot.knowledge import load_knowledge
    from tests.conftest import REPO

    shipped, _ = load_knowledge(REPO / "knowledge")
    copy = thinned(REPO / "knowledge", tmp_path / "k", 600)
    knowledge, _ = load_knowledge(copy)
    assert abs(len(knowledge.examples) - 600) <= 20
    assert len(knowledge.rules) == len(shipped.rules)
    assert {e.label for e in knowledge.examples} == {e.label for e in shipped.examples}


def test_cold_load_and_train_is_timed_in_a_fresh_process(mini_dir, tmp_path):
    from bot.bench_decision import cold_in_a_fresh_process
    from tests.learned.test_decision import learnable

    seconds = cold_in_a_fresh_process(learnable(mini_dir))
    assert 0 < seconds < 120
