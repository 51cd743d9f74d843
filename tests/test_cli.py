"""The `triage-bot` command line, run as users and scripts run it."""
import json
import os
import subprocess
import sys

import pytest


from adapters.cli.main import main
from tests.conftest import REPO


def run_cli(args, stdin: bytes = b"", env_extra=None, tmp=None):
    env = dict(os.environ, **(env_extra or {}))
    env.setdefault("TRIAGE_DATA_DIR", str(REPO / ".triage-data" / "test"))
    return subprocess.run(
        [sys.executable, "-m", "adapters.cli", *args], input=stdin, capture_output=True, cwd=REPO, env=env, timeout=60
    )


def test_classify_jsonl_contract(mini_dir):
    lines = b"\n".join([
        json.dumps({"id": "a", "text": "the chatbot made up a citation"}).encode(),
        b"{not json",
        json.dumps({"id": 7, "text": "who decides?"}).encode(),
        json.dumps({"id": "x", "txt": "missing"}).encode(),
        b"\xff\xfe",
        json.dumps({"id": "last", "text": "ok"}).encode(),
    ])
    out = run_cli(["classify", "--jsonl", "--knowledge", str(mini_dir)], lines)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(x) for x in out.stdout.decode().splitlines()]
    assert [r.get("id") for r in rows] == ["a", None, 7, None, None, "last"]
    assert rows[0]["category"] == "technical" and rows[0]["signals"][0]["rule"] == "hallucination"
    for key in ("id", "category", "confidence", "signals", "topics", "pitfalls"):
        assert key in rows[0]
    assert rows[1]["line"] == 2 and rows[1]["error"]
    assert rows[3]["line"] == 4 and "text" in rows[3]["error"]
    assert rows[4]["line"] == 5
    assert rows[5]["category"] == "unclear"


def test_knowledge_env_var_and_ask(mini_dir):
    out = run_cli(["ask", "the", "chatbot", "made", "up", "a", "citation"], env_extra={"TRIAGE_KNOWLEDGE_DIR": str(mini_dir)})
    text = out.stdout.decode()
    assert out.returncode == 0 and text.startswith("This looks like a technical concern")
    assert 'Why: made-up facts ("made up")' in text


def test_console_reads_one_message_per_line(mini_dir, tmp_path):
    script = b"who decides about surveillance?\n\nthe chatbot made up a citation\n/triage topics\n\xff\xfe\x00\x01\x02\x03\x04\x05\n"
    out = run_cli(["console", "--knowledge", str(mini_dir)], script, {"TRIAGE_DATA_DIR": str(tmp_path)})
    text = out.stdout.decode()
    assert out.returncode == 0, out.stderr
    replies = text.split("---\n")
    assert "societal concern" in replies[0] and "feedback " in replies[0]
    assert "Commands:" in replies[1]  # an empty line gets the help text
    assert "technical concern" in replies[2]
    assert "Intersection topics" in replies[3]
    assert "binary data" in replies[4]
    assert (tmp_path / "triage.sqlite3").exists()


def test_eval_prints_metrics_and_errors(mini_dir, tmp_path, capsys):
    data = tmp_path / "labeled.jsonl"
    data.write_text("\n".join([
        json.dumps({"id": "t1", "text": "the chatbot made up a citation", "label": "technical"}),
        json.dumps({"id": "s1", "text": "who decides about surveillance?", "label": "societal"}),
        json.dumps({"id": "u1", "text": "good morning", "label": "unclear"}),
        json.dumps({"id": "w1", "text": "the model hallucinates", "label": "societal"}),
        json.dumps({"id": "p1", "text": "the law makes it robust", "label": "both", "pitfall": "governance-substitution"}),
        "garbage",
    ]))
    assert main(["eval", str(data), "--knowledge", str(mini_dir), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["count"] == 5 and result["accuracy"] == 0.8
    assert result["per_class"]["technical"]["precision"] == 0.5
    assert result["confusion"]["societal"]["technical"] == 1
    assert result["pitfalls"] == {"detected": 1, "expected": 1, "spurious": 0}
    assert result["misclassified"][0]["id"] == "w1"
    assert "labeled.jsonl:6: skipped" in result["bad_lines"][0]
    assert main(["eval", str(data), "--knowledge", str(mini_dir)]) == 0
    text = capsys.readouterr().out
    assert "macro-F1" in text and "confusion matrix" in text and "[w1] expected societal, got technical" in text


def test_eval_reads_examples_yaml(mini_dir, capsys):
    assert main(["eval", str(mini_dir / "examples.yaml"), "--knowledge", str(mini_dir), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["accuracy"] == 1.0


def test_knowledge_check_exit_codes(mini_dir, capsys):
    (mini_dir / "warn.yaml").write_text('rules:\n  - id: w\n    concept: c\n    category: societal\n    phrases: ["jailbreak"]\n')
    assert main(["knowledge", "check", str(mini_dir)]) == 0
    assert "warning:" in capsys.readouterr().out
    assert main(["knowledge", "check", "--quiet", str(mini_dir)]) == 0
    quiet = capsys.readouterr().out
    assert "warning:" not in quiet and "1 warning(s)" in quiet
    (mini_dir / "rules" / "bad.yaml").write_text("rules:\n  - id: Bad Id\n")
    assert main(["knowledge", "check", str(mini_dir)]) == 1
    out = capsys.readouterr().out
    assert "rules/bad.yaml:2: error:" in out and "the knowledge was not loaded" in out


def test_knowledge_check_misses_with_the_directory_after_it(mini_dir, capsys):
    assert main(["knowledge", "check", "--misses", "5", str(mini_dir)]) == 0
    assert "out-of-fold misses: none recorded (no learned decision)" in capsys.readouterr().out  # three examples: rules only


def test_bad_knowledge_dir_is_a_clear_error(tmp_path):
    out = run_cli(["ask", "hello", "--knowledge", str(tmp_path / "missing")])
    assert out.returncode == 2
    assert b"knowledge directory not found" in out.stderr and b"Traceback" not in out.stderr


def test_core_imports_no_chat_sdk():
    code = "import adapters.cli.main, bot.classify, bot.compose, sys; print([m for m in sys.modules if m.split('.')[0] in ('slack_bolt','slack_sdk','discord')])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=REPO, timeout=60)
    assert out.stdout.strip() == b"[]", out.stderr


def test_stats_png_and_feedback_commands(mini_dir, tmp_path):
    env = {"TRIAGE_DATA_DIR": str(tmp_path / "data"), "TRIAGE_STORE_TEXT": "1"}
    out = run_cli(["console", "--knowledge", str(mini_dir)], b"who decides about surveillance?\nthe chatbot made up a citation\n", env)
    record_id = out.stdout.decode().split("`feedback ")[1].split()[0]
    run_cli(["console", "--knowledge", str(mini_dir)], f"feedback {record_id} technical\n".encode(), env)
    png = tmp_path / "stats.png"
    stats = run_cli(["stats", "--window", "7d", "--png", str(png), "--knowledge", str(mini_dir)], env_extra=env)
    assert stats.returncode == 0, stats.stderr
    assert "societal  " in stats.stdout.decode() and "Feedback agreement: 0% of 1 ratings" in stats.stdout.decode()
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 1000
    export = run_cli(["feedback", "export", "--knowledge", str(mini_dir)], env_extra=env)
    assert yaml_examples(export.stdout) == [{"text": "who decides about surveillance?", "label": "technical"}]
    fstats = run_cli(["feedback", "stats", "--knowledge", str(mini_dir)], env_extra=env).stdout.decode()
    assert [line.split() for line in fstats.splitlines() if line.startswith("societal")] == [["societal", "0", "1", "0%"]]
    assert run_cli(["stats", "--window", "5d", "--knowledge", str(mini_dir)], env_extra=env).returncode == 2


def yaml_examples(raw: bytes):
    import yaml

    return yaml.safe_load(raw)["examples"]


def test_console_hot_reload_reports_bad_edit_and_keeps_serving(mini_dir, tmp_path):
    """A running console picks up edits; a broken one is reported with file:line."""
    import time

    env = dict(os.environ, TRIAGE_DATA_DIR=str(tmp_path))
    proc = subprocess.Popen(
        [sys.executable, "-m", "adapters.cli", "console", "--knowledge", str(mini_dir)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO, env=env,
    )

    def ask(text):
        proc.stdin.write(text.encode() + b"\n")
        proc.stdin.flush()
        lines = []
        while (line := proc.stdout.readline()) != b"---\n":
            lines.append(line.decode())
        return "".join(lines)

    try:
        assert "can't place this" in ask("a deepfake of the mayor")
        (mini_dir / "rules" / "media.yaml").write_text(
            "rules:\n  - id: deepfake\n    concept: synthetic media\n    category: societal\n    weight: 2\n    phrases: ['deepfake']\n"
        )
        time.sleep(1.1)  # the holder looks for changes at most once a second
        assert "societal" in ask("a deepfake of the mayor")
        (mini_dir / "rules" / "media.yaml").write_text("rules:\n  - id: deepfake\n    phrases: [on]\n")
        time.sleep(1.1)
        assert "societal" in ask("a deepfake of the mayor")  # last good knowledge still serves
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    err = proc.stderr.read().decode()
    assert "knowledge reloaded" in err
    assert "knowledge edit rejected" in err and "rules/media.yaml:3:" in err


def test_eval_shows_progress_on_long_files(mini_dir, tmp_path):
    data = tmp_path / "long.jsonl"
    data.write_text("\n".join(json.dumps({"text": f"who decides case {i}", "label": "societal"}) for i in range(250)))
    out = run_cli(["eval", str(data), "--knowledge", str(mini_dir)])
    assert out.returncode == 0
    assert b"[" + b"#" * 30 + b"] 250/250" in out.stderr
    assert b"macro-F1" in out.stdout and b"#" not in out.stdout


def test_classify_jsonl_every_line_gets_one_strict_utf8_json_line(mini_dir):
    """Hostile lines found by fuzzing: each one still gets exactly one output row, in order."""
    lines = [
        rb'{"id":1,"text":"made \ud800 up facts"}',  # lone surrogate in the text
        rb'{"id":"\udc80\udcff","text":"the chatbot made up a citation"}',  # lone surrogates in the id
        b"[" * 1000 + b"]" * 1000,  # nested 1,000 deep
        b'{"id": {"a": ' * 600 + b"1" + b"}" * 600 + b', "text": "x"}',  # an id too deep to echo
        b"",  # blank line
        b"   ",
        b'{"id": NaN, "text": "who decides?"}',
        b'{"id": Infinity, "text": "who decides?"}',
        '{"id": "a\u2028b\u2029c\x85", "text": "who\u2028decides?"}'.encode(),
        b'{"id": "last", "text": "the chatbot made up a citation"}',
    ]
    out = run_cli(["classify", "--jsonl", "--knowledge", str(mini_dir)], b"\n".join(lines) + b"\n")
    assert out.returncode == 0, out.stderr
    text = out.stdout.decode("utf-8")  # strict: raises on invalid UTF-8
    rows = [json.loads(x, parse_constant=lambda c: pytest.fail(f"bare {c}")) for x in text.splitlines()]
    assert len(rows) == len(lines), text
    assert rows[0]["id"] == 1 and rows[0]["category"] == "technical"
    assert rows[1]["id"] == "\ufffd\ufffd" and rows[1]["category"] == "technical"
    for n in (3, 4, 5, 6, 7, 8):
        assert rows[n - 1]["id"] is None and rows[n - 1]["line"] == n and rows[n - 1]["error"], rows[n - 1]
    assert "deep" in rows[2]["error"] and "blank" in rows[4]["error"] and "NaN" in rows[6]["error"]
    assert rows[8]["id"] == "a\u2028b\u2029c\x85" and rows[8]["category"] == "societal"
    assert rows[9]["id"] == "last"


def test_console_has_no_rate_limit(mini_dir, tmp_path):
    """A script piping many lines is one local person, not a flood to protect anyone from."""
    script = b"the chatbot made up a citation\n" * 30
    out = run_cli(["console", "--knowledge", str(mini_dir)], script,
                  {"TRIAGE_DATA_DIR": str(tmp_path), "TRIAGE_RATE_PER_MINUTE": "1", "TRIAGE_RATE_BURST": "1"})
    assert out.returncode == 0, out.stderr
    replies = out.stdout.decode().split("---\n")[:-1]
    assert len(replies) == 30 and all("technical concern" in r for r in replies)


def test_operator_subcommands_during_a_database_outage_say_so(tmp_path):
    """`triage-bot stats` and `feedback export` with PostgreSQL unreachable: a plain message
    and exit 2, not a traceback."""
    env = {**os.environ, "TRIAGE_DATA_DIR": str(tmp_path / "data"),
           "TRIAGE_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/test"}  # nothing listens on port 1
    for argv in (["stats"], ["feedback", "export"]):
        out = subprocess.run([sys.executable, "-m", "adapters.cli", *argv], capture_output=True, text=True,
                             cwd=REPO, env=env, timeout=120)
        assert out.returncode == 2, out.stderr
        assert "the record store is unavailable right now" in out.stderr and "Traceback" not in out.stderr
