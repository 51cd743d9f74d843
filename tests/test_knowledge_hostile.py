"""Hostile knowledge edits: each is refused with file:line, in bounded time and memory, by
`knowledge check`, by a live reload and by the running console alike."""
import subprocess
import sys
import time

import pytest

from bot.check import check
from bot.reload import KnowledgeHolder
from tests.conftest import REPO

RULE = "rules:\n  - id: extra\n    concept: c\n    category: technical\n    phrases: {}\n"
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(9)) + "rules: *j\n"

HOSTILE = {
    "self-anchor": ("rules/x.yaml", "rules:\n  - &a [*a]\n", 2, "self-referencing"),
    "alias-bomb": ("rules/x.yaml", BOMB, None, "alias bomb"),
    "deep-nesting": ("rules/x.yaml", "rules:\n" + "".join("  " * i + "- \n" for i in range(1, 450)) + "  " * 450 + "- x\n", None, "levels deep"),
    "long-phrase": ("rules/x.yaml", RULE.format('["' + " ".join(["word"] * 2000) + '"]'), 5, "too long"),
    "nul": ("rules/x.yaml", RULE.format('["ok"]') + "# a\x00b\n", 6, "control characters"),
    "control-char": ("rules/x.yaml", "rules:\n  - id: extra\x07\n", 2, "control characters"),
    "url-pipe": ("readings2.yaml", 'readings:\n  r-x:\n    title: "T"\n    url: "https://example.org/a|<!channel>"\n', 4, "bad URL"),
    "url-angle": ("readings2.yaml", 'readings:\n  r-y:\n    title: "T"\n    url: "https://example.org/<b>"\n', 4, "bad URL"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_yaml_is_refused_with_file_and_line_in_bounded_time(mini_dir, name):
    path, text, line, words = HOSTILE[name]
    holder = KnowledgeHolder(mini_dir, min_interval=0)
    good = holder.current
    (mini_dir / path).write_text(text)
    started = time.perf_counter()
    report = check(mini_dir)
    assert time.perf_counter() - started < 2.0
    (error,) = [e for e in report.errors if e.file == path]
    assert words in error.message and (line is None or error.line == line), error
    assert error.line > 0
    event = holder.maybe_reload()
    assert not event.ok and holder.current is good


def test_the_bomb_stays_small_in_a_fresh_process(mini_dir):
    (mini_dir / "bomb.yaml").write_text(BOMB)
    # VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over from the forking
    # parent across exec, so a large pytest process would be measured instead of the child.
    code = ("import sys; from bot.check import check; r = check(sys.argv[1]); "
            "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]; "
            "print(len(r.errors), int(hwm) // 1024)")
    out = subprocess.run([sys.executable, "-c", code, str(mini_dir)], capture_output=True, text=True, cwd=REPO, timeout=30)
    errors, rss_mb = map(int, out.stdout.split())
    assert errors == 1 and rss_mb < 200, out.stderr


def test_symlink_loops_dangling_links_and_upper_case_suffixes_are_reported(mini_dir):
    (mini_dir / "rules" / "loop").symlink_to(mini_dir / "rules", target_is_directory=True)
    (mini_dir / "gone.yaml").symlink_to(mini_dir / "nowhere.yaml")
    (mini_dir / "a.yaml").symlink_to(mini_dir / "b.yaml")
    (mini_dir / "b.yaml").symlink_to(mini_dir / "a.yaml")
    (mini_dir / "rules" / "MORE.YAML").write_text(RULE.format('["deepfake"]'))
    report = check(mini_dir)
    by_file = {p.file: p for p in report.problems}
    assert "symlink loop" in by_file["rules/loop"].message and by_file["rules/loop"].level == "error"
    assert "dangling" in by_file["gone.yaml"].message
    assert "symlink loop" in by_file["a.yaml"].message and "symlink loop" in by_file["b.yaml"].message
    upper = by_file["rules/MORE.YAML"]
    assert upper.level == "warning" and "rename" in upper.message
    assert "rules/MORE.YAML" in load_files(mini_dir)  # read, not skipped


def load_files(directory):
    """The files read once the broken links are gone (errors stop a load)."""
    from bot.knowledge import load_knowledge

    for name in ("rules/loop", "gone.yaml", "a.yaml", "b.yaml"):
        (directory / name).unlink()
    knowledge, _ = load_knowledge(directory)
    return knowledge.files


EDITS = {
    "bad-yaml": ("rules/x.yaml", "rules: [unclosed\n"),
    "unknown-topic": ("rules/x.yaml", RULE.replace("phrases", "topics: [nope]\n    phrases").format('["deepfake"]')),
    "example-misclassified": ("examples2.yaml", 'examples:\n  - text: "the chatbot made up a citation"\n    label: societal\n'),
    "good": ("rules/x.yaml", RULE.format('["deepfake"]')),
}


@pytest.mark.parametrize("name", EDITS)
def test_live_reload_refuses_exactly_what_knowledge_check_refuses(mini_dir, name):
    """One gate: whatever check calls an error (today or after the rules change), a reload
    refuses, with the same messages; and what check accepts, a reload serves."""
    path, text = EDITS[name]
    holder = KnowledgeHolder(mini_dir, min_interval=0)
    (mini_dir / path).write_text(text)
    report = check(mini_dir)
    event = holder.reload()
    assert event.ok == report.ok
    assert sorted(str(p) for p in event.problems if p.level == "error") == sorted(str(p) for p in report.errors)
