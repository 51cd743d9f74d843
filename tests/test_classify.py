"""The engine's decisions on the hand-made mini knowledge base (see conftest.py)."""
from bot.classify import triage
from bot.compose import compose
from bot.render import markdown, plain
from tests.conftest import loaded


def rule_ids(verdict):
    return [s.rule_id for s in verdict.signals]


def test_technical_with_explained_signal(mini):
    v = triage(mini, "the chatbot made up a citation")
    assert v.category == "technical"
    (s,) = v.signals
    assert (s.rule_id, s.span, s.weight) == ("hallucination", "made up", 2.0)
    file, line = s.source.rsplit(":", 1)
    assert file == "rules/rules.yaml" and int(line) > 1


def test_stemming_and_typo_tolerance(mini):
    assert rule_ids(triage(mini, "it hallucinated twice")) == ["hallucination"]
    v = triage(mini, "it keeps halucinating")
    assert rule_ids(v) == ["hallucination"] and v.signals[0].fuzzy
    assert v.signals[0].weight < 2.0


def test_typo_tolerance_reads_a_misspelt_word_by_its_length_not_its_stem(mini):
    """"decdes" stems to "decd", four letters: still a long misspelt word, still corrected."""
    v = triage(mini, "who decdes what the chatbot may refuse?")
    assert rule_ids(v) == ["who-decides"] and v.signals[0].fuzzy
    assert triage(mini, "who dcd this").signals == ()  # a short word is never corrected


def test_no_substring_matching(mini):
    # "ai" inside "said", "kill" inside "skills": whole-word matching only.
    v = triage(mini, "she said her skills were fine")
    assert v.category == "unclear" and v.signals == ()


def test_ambiguous_word_needs_ai_context(mini):
    assert triage(mini, "there is bias in our hiring panel").signals == ()
    v = triage(mini, "the model is biased against some users")
    assert rule_ids(v) == ["bias"] and v.topics == ("algorithmic-bias",)


def test_exclusions_block_non_ai_senses(mini):
    v = triage(mini, "the AI workshop needs bias tape for the banners")
    assert v.signals == () and v.category == "unclear"


def test_negation_and_hedging_are_marked_not_dropped(mini):
    v = triage(mini, "the model does not hallucinate")
    (s,) = v.signals
    assert s.negated and not s.hedged and s.weight == 2.0 * mini.scoring.negated_factor
    h = triage(mini, "I think it might hallucinate").signals[0]
    assert h.hedged and not h.negated


def test_negation_stops_at_clause_boundary(mini):
    s = triage(mini, "not my area. the model hallucinates").signals[0]
    assert not s.negated


def test_gap_phrase(mini):
    assert rule_ids(triage(mini, "users bypass all the safety guardrails")) == ["jailbreak"]
    assert triage(mini, "users bypass one two three four five guardrails").signals == ()


def test_longer_phrase_wins(mini):
    assert rule_ids(triage(mini, "who holds the kill switch")) == ["kill-switch"]


def test_both_and_intersection_topic(mini):
    v = triage(mini, "the kill switch sits with one person")
    assert v.category == "both" and v.topics == ("power-and-control",)
    reply = compose(mini, v)
    assert reply.intersection[0].id == "power-and-control"
    assert reply.questions[0] == "power-and-control question"


def test_both_needs_balance_and_thresholds_are_data(mini_dir):
    text = "a jailbreak that lets you hallucinate, and surveillance"  # technical 4.0, societal 2.0
    assert triage(loaded(mini_dir), text).category == "both"
    v = triage(loaded(mini_dir, {"scoring.yaml": "scoring:\n  both_ratio: 0.6\n"}), text)
    assert v.category == "technical" and v.scores == {"technical": 4.0, "societal": 2.0, "both": 0.0}


def test_pitfall_detection(mini):
    v = triage(mini, "the new law will make the system reliable")
    assert v.pitfalls == ("governance-substitution",)
    assert v.category == "both"
    assert any(n.id == "governance-substitution" for n in compose(mini, v).pitfalls)


def test_weak_evidence_is_unclear(mini):
    v = triage(mini, "robustness")
    assert v.category == "unclear" and v.reason == "weak" and rule_ids(v) == ["weak"]


def test_ops_chatter_is_unclear(mini):
    v = triage(mini, "the CI pipeline is failing again")
    assert v.category == "unclear" and v.reason == "no-signal"


def test_deterministic(mini):
    text = "the model is biased, who decides? maybe a jailbreak"
    assert triage(mini, text) == triage(mini, text)


def test_readings_and_reply_shape(mini):
    v = triage(mini, "who decided on the surveillance?")
    assert v.readings[0] in mini.categories["societal"].readings
    r = compose(mini, v)
    assert 1 <= len(r.readings) <= 3 and 2 <= len(r.questions) <= 4
    assert r.readings[0].url.startswith("https://reflexive-ai.github.io/research/")
    text = plain(r)
    assert "who decided" in text and r.headline in text
    assert f"[{r.readings[0].title}]({r.readings[0].url})" in markdown(r)


def test_unclear_reply_explains_both_meanings(mini):
    r = compose(mini, triage(mini, "good morning all"))
    assert r.category == "unclear"
    assert "technical framing" in r.framing and "societal framing" in r.framing
    assert r.questions and "who decides" in r.questions[0]


def test_huge_and_binary_messages(mini):
    v = triage(mini, "the chatbot made up a citation " + "x" * 1_000_000)
    assert v.category == "technical" and v.notices
    b = triage(mini, bytes(range(0, 32)) * 10)
    assert b.reason == "binary" and "binary" in compose(mini, b).headline


def test_pitfall_groups_can_refer_to_rules_and_categories(mini_dir):
    knowledge = loaded(mini_dir, {"rules/more.yaml": (
        "pitfall_rules:\n"
        "  - id: experts-settle-bias\n    pitfall: deferring-to-experts\n    concept: c\n"
        "    all:\n      - rules: [bias]\n      - categories: [societal]\n      - phrases: ['the engineers']\n"
    )})
    v = triage(knowledge, "the model is biased and the engineers should say who decides")
    assert "deferring-to-experts" in v.pitfalls
    assert "deferring-to-experts" not in triage(knowledge, "the model is biased and the engineers know").pitfalls


def test_ampersand_reads_as_and(mini):
    from bot.normalise import tokenize

    assert tokenize("trust&safety R&amp;D").words == ("trust", "and", "safety", "r", "and", "d")


def test_a_rules_first_topic_is_its_main_one(mini_dir):
    knowledge = loaded(mini_dir, {"rules/more.yaml": (
        "rules:\n  - id: one-holder\n    concept: c\n    category: both\n    weight: 2\n"
        "    topics: [power-and-control, concentration]\n    phrases: ['only the ceo can']\n"
    )})
    assert triage(knowledge, "only the ceo can stop the model").topics == ("power-and-control", "concentration")


def test_exact_word_forms_where_stemming_would_merge_words(mini_dir):
    knowledge = loaded(mini_dir, {"rules/more.yaml": (
        "rules:\n  - id: agent-sent\n    concept: an agent acted\n    category: technical\n    weight: 2\n"
        "    phrases: ['=emailed', 'the agent ... =emailed', 'wired =funds']\n"
    )})
    fired = lambda text: [s.span for s in triage(knowledge, text).signals]  # noqa: E731
    assert fired("the bot emailed every customer") == ["emailed"]
    assert fired("the bot reads my emails") == []  # the stem "email" is not enough
    assert fired("the agent then quietly emailed them") == ["the agent then quietly emailed"]
    assert fired("it wired funds abroad") == ["wired funds"] and fired("it wired fund abroad") == []


def test_a_negation_inside_the_phrase_is_part_of_the_concept(mini_dir):
    knowledge = loaded(mini_dir, {"rules/more.yaml": (
        "rules:\n  - id: no-appeal\n    concept: no recourse\n    category: societal\n    weight: 2\n"
        "    phrases: ['no way to appeal']\n"
    )})
    (s,) = triage(knowledge, "there is no way to appeal the decision").signals
    assert not s.negated and s.weight == 2.0
    (t,) = triage(knowledge, "it is not that there is no way to appeal").signals
    assert t.negated  # a cue before the phrase still negates it


def test_typo_tolerance_never_corrects_a_real_word(mini_dir):
    knowledge = loaded(mini_dir, {"rules/more.yaml": (
        "rules:\n  - id: protect\n    concept: protection\n    category: societal\n    weight: 2\n    phrases: ['protected']\n"
    )})
    assert triage(knowledge, "the model project is done").signals == ()  # "project" is a word
    (s,) = triage(knowledge, "the model is not protectd").signals  # "protectd" is a typo
    assert s.fuzzy and s.rule_id == "protect"
    assert "project" in knowledge.matcher.english and "protectd" not in knowledge.matcher.english
