"""`knowledge check`: every problem a moderator can make gets a file:line message."""

import pytest

from bot.check import check, format_report
from tests.conftest import SHIPPED_KNOWLEDGE, load_with


def errors_of(directory, files: dict | None = None):
    """(knowledge, its errors as `file:line: error: ...` lines) once `files` are written in."""
    knowledge, problems = load_with(directory, files)
    return knowledge, [str(p) for p in problems if p.level == "error"]


def test_shipped_knowledge_is_valid_and_passes_its_examples():
    report = check(SHIPPED_KNOWLEDGE)
    assert report.ok, format_report(report, SHIPPED_KNOWLEDGE)
    assert report.examples_run >= 60 and report.examples_failed == 0
    k = report.knowledge
    assert k.phrase_count >= 300
    assert {"technical", "societal", "both"} <= set(k.categories)


def test_mini_is_clean(mini_dir):
    report = check(mini_dir)
    assert report.ok and report.examples_run == 3, format_report(report, mini_dir)
    # The one intended overlap, "kill" (technical) inside "kill switch" (both), is by design:
    # the longer phrase wins there, so it is no warning.
    assert report.warnings == []


def test_malformed_yaml_reports_line(mini_dir):
    knowledge, errs = errors_of(mini_dir, {"rules/broken.yaml": "rules:\n  - id: x\n    phrases: [unclosed\n"})
    assert knowledge is None
    assert any(e.startswith("rules/broken.yaml:") and "not valid YAML" in e for e in errs)


def test_list_where_mapping_belongs(mini_dir):
    _, errs = errors_of(mini_dir, {"extra.yaml": "- just\n- a list\n", "extra2.yaml": "topics:\n  - power-and-control\n"})
    assert any(e.startswith("extra.yaml:1:") and "must be a mapping" in e for e in errs)
    assert any(e.startswith("extra2.yaml:1:") and "'topics' must be a mapping" in e for e in errs)


def test_python_tags_are_refused_not_executed(mini_dir, tmp_path):
    marker = tmp_path / "pwned"
    _, errs = errors_of(mini_dir, {"evil.yaml": f"rules:\n  - !!python/object/apply:os.system ['touch {marker}']\n"})
    assert any("evil.yaml:2:" in e and "tag" in e and "not allowed" in e for e in errs)
    assert not marker.exists()


def test_duplicate_keys_and_ids(mini_dir):
    _, errs = errors_of(mini_dir, {"rules/zz-dup.yaml": (
        "rules:\n"
        "  - id: dup-one\n    concept: c\n    category: technical\n    concept: again\n    phrases: [\"x y\"]\n"
        "  - id: hallucination\n    concept: c\n    category: technical\n    phrases: [\"z\"]\n"
    )})
    assert any(e.startswith("rules/zz-dup.yaml:5:") and "duplicate key 'concept' (first at line 3)" in e for e in errs)
    assert any(e.startswith("rules/zz-dup.yaml:7:") and "duplicate rule id 'hallucination'" in e and "rules/rules.yaml" in e for e in errs)


def test_unknown_keys_and_references_suggest_the_right_name(mini_dir):
    _, errs = errors_of(mini_dir, {"typo.yaml": (
        "rules:\n"
        "  - id: typo-rule\n    concept: c\n    category: tecnical\n    topics: [algorithmic-bais]\n    phrses: [\"x\"]\n"
        "readigns: {}\n"
    )})
    text = "\n".join(errs)
    assert "typo.yaml:4: error: unknown category 'tecnical' in rule 'typo-rule' (did you mean 'technical'?)" in text
    assert "typo.yaml:5: error: unknown topic 'algorithmic-bais' (did you mean 'algorithmic-bias'?)" in text
    assert "typo.yaml:6: error: unknown key 'phrses' in rule 'typo-rule' (did you mean 'phrases'?)" in text
    assert "typo.yaml:7: error: unknown section 'readigns' (did you mean 'readings'?)" in text
    assert "typo.yaml:2: error: rule 'typo-rule' is missing 'phrases'" not in text  # reported as a list problem instead
    assert any("typo.yaml:6" in e or "phrases must be a list" in e for e in errs)


def test_bad_phrases_and_urls(mini_dir):
    _, errs = errors_of(mini_dir, {"bad.yaml": (
        "rules:\n"
        "  - id: bad-phrases\n    concept: c\n    category: technical\n    phrases:\n"
        "      - yes\n      - ''\n      - '!!! ---'\n      - 42\n"
        "readings:\n  bad-url:\n    title: t\n    url: 'http//not a url'\n"
    )})
    text = "\n".join(errs)
    assert "bad.yaml:6:" in text and "a boolean (true)" in text and "quote it" in text
    assert "bad.yaml:7:" in text and "is empty" in text
    assert "bad.yaml:8:" in text and "normalises to nothing" in text
    assert "bad.yaml:9:" in text and "a number (42)" in text
    assert "bad.yaml:13:" in text and "bad URL" in text


def test_required_ids_must_exist(mini_dir):
    text = (mini_dir / "topics.yaml").read_text().replace("concentration:", "centralisation:")
    _, errs = errors_of(mini_dir, {"topics.yaml": text})
    assert any("required topic 'concentration' is not defined" in e for e in errs)


def test_warnings_for_conflicting_and_near_duplicate_phrases(mini_dir):
    (mini_dir / "warn.yaml").write_text(
        "rules:\n"
        "  - id: w-soc\n    concept: c\n    category: societal\n    phrases: [\"jailbreak\", \"surveillance camera\", \"hallucination rate\"]\n"
        "  - id: w-tech\n    concept: c\n    category: technical\n    phrases: [\"red-teaming\", \"redteaming\", \"guardrial\", \"guardrail\"]\n"
    )
    report = check(mini_dir)
    assert report.ok  # warnings never block
    warns = "\n".join(str(p) for p in report.warnings)
    assert "phrase 'jailbreak' is in two categories: technical (rule jailbreak) and societal (rule w-soc" in warns
    assert "is inside" not in warns  # a phrase inside a longer one: the longer wins, by design
    assert "phrase 'guardrail' is one letter away from 'guardrial'" in warns and "a typo?" in warns
    assert "redteaming" not in warns  # a joined spelling is a real variant, not a typo


def test_noise_warnings_are_retired(mini_dir):
    """Two real words one letter apart, British and American spellings, inflections of
    one phrase in one rule: nothing a moderator would change."""
    (mini_dir / "warn.yaml").write_text(
        "rules:\n"
        "  - id: w-soc\n    concept: c\n    category: societal\n"
        "    phrases: [\"artists\", \"autistic\", \"poor neighbourhoods\", \"poor neighborhoods\", \"rely on it\", \"relies on it\"]\n"
        "  - id: w-soc2\n    concept: c\n    category: societal\n    phrases: [\"artists\"]\n"
    )
    report = check(mini_dir)
    assert report.warnings == [], [str(p) for p in report.warnings]


def test_shipped_knowledge_checks_with_few_warnings():
    from tests.conftest import SHIPPED_KNOWLEDGE

    report = check(SHIPPED_KNOWLEDGE)
    assert report.ok and len(report.warnings) <= 10, [str(p) for p in report.warnings]


def test_examples_are_training_data_not_rule_tests(mini_dir):
    """A label the rules disagree with is training data, not an error; a `no_signals`
    promise about the rules still is one."""
    with (mini_dir / "examples.yaml").open("a") as fh:
        fh.write("- text: the chatbot made up a citation\n  label: societal\n")
        fh.write("- text: who decides this\n  label: societal\n  pitfall: merged-mandates\n")
        fh.write("- text: the model is biased\n  label: both\n  no_signals: true\n")
    report = check(mini_dir)
    assert not report.ok and report.examples_failed == 1
    text = format_report(report, mini_dir)
    assert "should fire no rule, but fired: bias(biased)" in text
    assert "misclassified" not in text


def _learnable(mini_dir, floor: float, scrambled: bool) -> None:
    """Enough examples per label for a learned decision; scrambled labels cannot be learned."""
    words = {"technical": "hallucinated citation output", "societal": "who decides rights power",
             "both": "bias audit who answers", "unclear": "lunch menu printer"}
    labels = list(words)
    lines = ["examples:"]
    for n in range(8):
        for i, label in enumerate(labels):
            said = labels[(i + n) % 4] if scrambled else label
            lines.append(f"  - text: \"note {n} {words[said]} {n * 7 + i}\"\n    label: {label}")
    (mini_dir / "examples.yaml").write_text("\n".join(lines) + f"\nscoring:\n  cv_floor: {floor}\n")


def test_cross_validated_figure_below_the_floor_fails(mini_dir):
    _learnable(mini_dir, 0.9, scrambled=True)
    report = check(mini_dir)
    assert report.knowledge.model is not None
    assert not report.ok
    assert "below the floor 0.900 (scoring.cv_floor)" in format_report(report, mini_dir)


def test_learnable_examples_pass_the_floor(mini_dir):
    _learnable(mini_dir, 0.9, scrambled=False)
    report = check(mini_dir)
    assert report.ok, [str(p) for p in report.errors]
    assert "decision: learned from 32 examples; cross-validated macro-F1 1.000" in format_report(report, mini_dir)


@pytest.mark.parametrize("scrambled", [False, True])
def test_check_shows_how_each_examples_file_fares_out_of_fold(mini_dir, scrambled):
    _learnable(mini_dir, 0.1, scrambled=scrambled)  # scrambled: most examples say another label's word
    report = check(mini_dir)
    n, right, f1 = report.knowledge.model.meta["cv_by_file"]["examples.yaml"]
    assert n == 32
    assert (right < 0.75 and f1 < 0.75) if scrambled else (right == 1.0 and f1 == 1.0)
    assert f"called right out of fold, by file: examples.yaml {right:.1%} of 32 (macro-F1 {f1:.3f})" in format_report(report, mini_dir)
    assert "by file" not in format_report(report, mini_dir, quiet=True)


def test_unreadable_and_missing(tmp_path):
    knowledge, errs = errors_of(tmp_path / "nope")
    assert knowledge is None and "not found" in errs[0]
    (tmp_path / "empty").mkdir()
    assert "no .yaml files" in errors_of(tmp_path / "empty")[1][0]


def test_invalid_utf8_file(mini_dir):
    (mini_dir / "bin.yaml").write_bytes(b"rules:\n  - id: \xff\xfe\n")
    _, errs = errors_of(mini_dir)
    assert any(e.startswith("bin.yaml:2:") and "UTF-8" in e for e in errs)


def test_pitfall_group_references_are_checked(mini_dir):
    _, errs = errors_of(mini_dir, {"rules/zz.yaml": (
        "pitfall_rules:\n  - id: p1\n    pitfall: merged-mandates\n    concept: c\n    all:\n"
        "      - rules: [halucination]\n      - categories: [societl]\n      - {phrase: ['x']}\n"
    )})
    text = "\n".join(errs)
    assert "rules/zz.yaml:6: error: unknown rule 'halucination' (did you mean 'hallucination'?)" in text
    assert "rules/zz.yaml:7: error: unknown category 'societl' (did you mean 'societal'?)" in text
    assert "unknown key 'phrase' in group 3 of pitfall rule 'p1' (did you mean 'phrases'?)" in text


def test_check_new_shows_only_warnings_on_changed_lines(mini_dir):
    import subprocess

    from bot.checknew import changed_lines, only_new

    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    old = 'rules:\n  - id: w-old\n    concept: c\n    category: technical\n    phrases: ["guardrial", "guardrail"]\n'
    (mini_dir / "warn.yaml").write_text(old)
    subprocess.run(["git", "init", "-q", "."], cwd=mini_dir, check=True)
    subprocess.run([*git, "add", "-A"], cwd=mini_dir, check=True)
    subprocess.run([*git, "commit", "-qm", "base"], cwd=mini_dir, check=True)
    (mini_dir / "warn.yaml").write_text(old + '  - id: w-new\n    concept: c\n    category: societal\n    phrases: ["jailbreak"]\n')
    report = check(mini_dir)
    assert len(report.warnings) == 2  # the old typo and the new two-category phrase
    (new,) = only_new(report.problems, changed_lines(mini_dir))
    assert "jailbreak" in new.message and "warn.yaml:9" in new.message  # names the changed line
    assert only_new(report.problems, changed_lines(mini_dir, "HEAD")) == [new]


def test_misses_list_a_mislabeled_example_first(mini_dir):
    """`knowledge check --misses`: an example labeled against what every other example
    teaches is what the decision calls wrong out of fold with the most confidence."""
    _learnable(mini_dir, 0.5, scrambled=False)
    text = (mini_dir / "examples.yaml").read_text()
    wrong = (
        '  - text: "note 99 hallucinated citation output again"\n    label: unclear\n'
        '  - text: "note 98 lunch menu printer who decides"\n    label: technical\n'  # on the line: a hesitant miss
    )
    text = text.replace("\nscoring:", "\n" + wrong + "scoring:", 1)
    (mini_dir / "examples.yaml").write_text(text)
    report = check(mini_dir)
    misses = report.knowledge.model.meta["cv_misses"]
    source, label, called, confidence = misses[0]
    assert source.startswith("examples.yaml:") and (label, called) == ("unclear", "technical")
    assert len(misses) >= 2 and [m[3] for m in misses] == sorted((m[3] for m in misses), reverse=True)
    shown = format_report(report, mini_dir, misses=1)
    assert f"{source}: labeled unclear, called technical ({confidence:.2f}): 'note 99 hallucinated citation output again'" in shown
    assert f"(1 of {len(misses)})" in shown
    assert "out-of-fold misses" not in format_report(report, mini_dir)
