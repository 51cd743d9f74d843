"""The console behaves like a chat: confirmation before `forget me`, honest YAML errors."""
from __future__ import annotations

import yaml

from bot.yamlfile import load
from tests.test_replies import console


def test_forget_me_asks_first_and_defaults_to_no(tmp_path):
    replies = console(["the chatbot made up a citation", "forget me", "", "forget me", "yes"], tmp_path)
    assert "Delete them? [y/N]" in replies[1] and "Nothing deleted." in replies[1]
    assert "Done: I deleted" in replies[2]


def test_an_unclosed_quote_is_reported_on_its_own_line(tmp_path):
    path = tmp_path / "rules.yaml"
    lines = ["rules:", "  - id: a", '    concept: "fine"', "    category: technical", "    phrases:"]
    lines += [f'      - "p{i}"' for i in range(6)]
    lines += ['      - "unclosed', '      - "p7"', "  - id: b", '    concept: "x"']
    path.write_text("\n".join(lines) + "\n")
    data, (problem,) = load(path)
    assert data is None and problem.line == 12, problem
    assert "quote opened on this line is not closed" in problem.message


def test_forget_me_right_after_a_triage_counts_it(tmp_path):
    """Piped, `forget me` follows the triage before the writer has committed it."""
    replies = console(["the chatbot made up a citation", "forget me", "y"], tmp_path)
    assert "Done: I deleted 1 record(s)" in replies[1], replies[1]


def test_a_disagreeing_rating_asks_to_keep_the_message(tmp_path):
    """One console session: rate a triage wrong, say yes, and the moderator's export holds
    the message as a candidate example; a rating answered with the default keeps nothing."""
    import os
    import re
    import subprocess
    import sys

    from tests.test_replies import REPO

    env = dict(os.environ, TRIAGE_DATA_DIR=str(tmp_path / "data"))
    proc = subprocess.Popen([sys.executable, "-m", "adapters.cli", "console", "--as-moderator"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO, env=env)

    def ask(*lines):
        proc.stdin.write("".join(f"{line}\n" for line in lines).encode())
        proc.stdin.flush()
        out = []
        while (line := proc.stdout.readline()) != b"---\n":
            assert line, proc.stderr.read().decode()
            out.append(line.decode())
        return "".join(out)

    try:
        first = re.search(r"feedback ([0-9a-f]{32}) ", ask("the chatbot made up a citation"))[1]
        second = re.search(r"feedback ([0-9a-f]{32}) ", ask("who decides about surveillance?"))[1]
        kept = ask(f"feedback {first} societal", "y")
        assert "May I keep the text of your message" in kept and "[y/N]" in kept and "I kept your message" in kept
        declined = ask(f"feedback {second} technical", "")
        assert "your message is not kept" in declined
        exported = ask("feedback export")
        assert "May I keep" not in ask(f"feedback {first} right")  # agreeing: nothing to ask, and the text goes
        assert "use: feedback <record id>" in ask(f"feedback {first}")
        after_right = ask("feedback export")
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)

    def examples(export):
        return yaml.safe_load(export[export.index("# Candidate"):])["examples"]

    assert examples(exported) == [{"text": "the chatbot made up a citation", "label": "societal"}]
    assert examples(after_right) == []
