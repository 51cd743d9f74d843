"""`triage-bot report` on real export files, run as a user runs it."""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

from tests.report.exports import discord_export, slack_zip
from tests.test_cli import run_cli

SALT = {"TRIAGE_REPORT_SALT": "test-salt"}


def report(tmp_path, mini_dir, *inputs, extra=(), env=SALT):
    out = tmp_path / "out"
    done = run_cli(["report", *map(str, inputs), "--out", str(out), "--knowledge", str(mini_dir), *extra], env_extra=env)
    verdicts = [json.loads(line) for line in (out / "verdicts.jsonl").read_text().splitlines()]
    summary = json.loads((out / "summary.json").read_text())
    return done, verdicts, summary, (out / "report.html").read_text()


@pytest.fixture
def exports(tmp_path):
    raw = tmp_path / "in"
    raw.mkdir()
    notes = raw / "notes.txt"
    notes.write_text("meeting notes, not an export\n")
    return slack_zip(raw / "workspace.zip"), discord_export(raw / "ethics.json"), notes


def test_slack_and_discord_counts_skips_and_errors(tmp_path, mini_dir, exports):
    done, verdicts, summary, _ = report(tmp_path, mini_dir, *exports, extra=["--workers", "1"])
    assert done.returncode == 1  # something was skipped
    counts = summary["counts"]
    # Slack #general: 8 + 1 read; Discord: 6 read. Bots: 2 Slack, 1 Discord. System: join, pin; join, pin.
    assert counts["read"] == 15
    assert counts["skipped"] == {"bot": 3, "system": 4, "empty": 3}
    assert counts["triaged"] == 5 == len(verdicts)
    assert counts["thread_replies"] == 2
    assert summary["by_category"] == {"technical": 2, "societal": 1, "both": 2, "unclear": 0}
    assert summary["by_channel"]["general"]["total"] == 3 and summary["by_channel"]["ethics"]["total"] == 2
    assert [w["week"] for w in summary["by_week"]] == ["2024-01-01", "2024-01-08"]
    assert [w["total"] for w in summary["by_week"]] == [3, 2]
    assert summary["top_topics"][0]["count"] == 1
    assert {i["format"] for i in summary["inputs"]} == {"slack", "discord", "unknown"}

    errors = {(e["file"].split("/in/")[-1], e.get("line")): e["error"] for e in summary["errors"]}
    assert len(errors) == 4
    assert "truncated" in errors["workspace.zip:random/2024-01-02.json", 6]
    assert "not UTF-8" in errors["workspace.zip:random/2024-01-03.json", 1]
    assert "CRC" in errors["workspace.zip:random/2024-01-04.json", 1]
    assert "unknown format" in errors["notes.txt", None]
    stderr = done.stderr.decode().splitlines()
    assert len(stderr) == 4 and all(line.startswith("triage-bot report: skipped ") for line in stderr)
    assert any("random/2024-01-03.json:1" in line for line in stderr)

    thread = next(v for v in verdicts if v["thread"] and v["source"] == "slack")
    assert thread["category"] == "societal" and thread["signals"] == ["surveillance", "who-decides"]
    assert thread["ts"] == "2024-01-01T10:00:05Z"
    reply = next(v for v in verdicts if v["source"] == "discord" and v["thread"])
    assert reply["id"] == "1004" and reply["thread"] == "1001" and reply["category"] == "both"


def test_privacy_no_text_no_raw_user_ids(tmp_path, mini_dir, exports):
    out = tmp_path / "out"
    report(tmp_path, mini_dir, *exports[:2])
    everything = "".join(p.read_text() for p in out.iterdir())
    for secret in ("U0PERSON1", "U0PERSON2", "111111111111111111", "222222222222222222", "made up a citation", "surveillance goes", "grace", "ada"):
        assert secret not in everything, secret
    rows = [json.loads(x) for x in (out / "verdicts.jsonl").read_text().splitlines()]
    assert all("text" not in r for r in rows)
    assert all(re.fullmatch(r"[0-9a-f]{24}", r["user"]) for r in rows)
    # one person, one hash: U0PERSON2 wrote the thread reply and nothing else that was triaged
    slack_people = {r["user"] for r in rows if r["source"] == "slack"}
    assert len(slack_people) == 3


def test_salt_changes_hashes_and_include_text_adds_text(tmp_path, mini_dir, exports):
    _, first, _, _ = report(tmp_path, mini_dir, exports[0])
    _, other, summary, page = report(tmp_path, mini_dir, exports[0], extra=["--include-text"], env={"TRIAGE_REPORT_SALT": "other"})
    assert [r["user"] for r in first] != [r["user"] for r in other]
    assert other[0]["text"] == "the chatbot made up a citation"
    assert summary["examples"]["technical"][0]["text"] == "the chatbot made up a citation"
    assert "made up a citation" in page and "Most confident examples" in page


def test_html_is_well_formed_self_contained_and_shows_the_counts(tmp_path, mini_dir, exports):
    _, _, summary, page = report(tmp_path, mini_dir, *exports)
    root = ET.fromstring(page.removeprefix("<!DOCTYPE html>\n"))  # raises if not well-formed
    assert root.tag == "html"
    assert not re.search(r"(?i)(src|href)\s*=|<script|<link|@import|url\(|https?://", page)
    assert len(root.findall(".//svg")) >= 5
    figures = {el.get("id"): el.text for el in root.iter() if el.get("id") in {"triaged", "skipped", "errors"}}
    assert figures == {"triaged": "5", "skipped": "10", "errors": "4"}
    text = "".join(root.itertext())
    assert "of 15 read" in text and "3 bots, 3 empty, 4 system" in text
    assert "#general" in text and "#ethics" in text and "algorithmic-bias" in text
    assert "random/2024-01-03.json:1" in text  # errors are named in the page too


def test_workers_give_the_same_output_as_one_process(tmp_path, mini_dir, exports):
    _, one, s1, _ = report(tmp_path / "a", mini_dir, *exports[:2], extra=["--workers", "1"])
    _, two, s2, _ = report(tmp_path / "b", mini_dir, *exports[:2], extra=["--workers", "2"])
    assert one == two
    assert s2["workers"] == 2
    for key in ("counts", "by_category", "by_channel", "by_week", "errors"):
        assert s1[key] == s2[key]


def test_filters_dates_and_channels(tmp_path, mini_dir, exports):
    _, rows, summary, _ = report(tmp_path, mini_dir, *exports[:2], extra=["--since", "2024-01-02", "--until", "2024-01-08"])
    assert {r["id"] for r in rows} == {"1001", "1704708000.000000"}  # until is inclusive
    assert summary["counts"]["skipped"]["outside-dates"] == 4  # Slack: 3 on Jan 1; Discord: 1 on Jan 9
    _, rows, summary, _ = report(tmp_path, mini_dir, *exports[:2], extra=["--channel", "#Ethics"])
    assert {r["channel"] for r in rows} == {"ethics"}
    assert summary["counts"]["skipped"]["other-channel"] == 9


def test_slack_folder_and_jsonl_detected_by_content(tmp_path, mini_dir):
    import zipfile

    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(slack_zip(tmp_path / "w.zip")) as z:
        for name in ("channels.json", "general/2024-01-01.json", "general/2024-01-08.json"):
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(z.read(name))
    lines = tmp_path / "messages.dat"  # not named .jsonl: content decides
    lines.write_bytes(b'{"id": "x1", "text": "who decides?", "channel": "forum", "user": "alice", "ts": "2024-01-03T12:00:00"}\n'
                      b'{broken\n\n{"id": "x2", "text": "the model made up a citation", "ts": 1704300000}\n\xff\xfe\n')
    done, rows, summary, _ = report(tmp_path, mini_dir, folder, lines)
    assert done.returncode == 1
    assert [i["format"] for i in summary["inputs"]] == ["slack", "jsonl"]
    assert summary["counts"]["triaged"] == 5
    assert [r["id"] for r in rows if r["source"] == "jsonl"] == ["x1", "x2"]
    assert [(e["line"], e["error"][:9]) for e in summary["errors"]] == [(2, "malformed"), (5, "not UTF-8")]


def test_nothing_readable_still_writes_a_report(tmp_path, mini_dir):
    done, rows, summary, page = report(tmp_path, mini_dir, tmp_path / "missing.zip")
    assert done.returncode == 1 and rows == [] and summary["counts"]["triaged"] == 0
    assert "no such file" in done.stderr.decode() and "Could not be read" in page


def test_bad_arguments_exit_2(tmp_path, mini_dir):
    done = run_cli(["report", "x.zip", "--out", str(tmp_path), "--since", "yesterday", "--knowledge", str(mini_dir)])
    assert done.returncode == 2 and b"not a date" in done.stderr


def test_truncated_discord_file_keeps_the_messages_before_the_cut(tmp_path, mini_dir):
    whole = discord_export(tmp_path / "whole.json").read_text()
    cut = tmp_path / "cut.json"
    cut.write_text(whole[: whole.index('"id": "1004"')])  # the export stopped mid-way (disk full)
    done, rows, summary, _ = report(tmp_path, mini_dir, cut)
    assert done.returncode == 1
    assert [r["id"] for r in rows] == ["1001"] and summary["counts"]["read"] == 3
    (error,) = summary["errors"]
    assert error["file"] == str(cut) and "truncated" in error["error"] and error["line"] > 40
