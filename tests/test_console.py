"""The console behaves like a chat: confirmation before `forget me`, honest YAML errors."""
from __future__ import annotations

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
