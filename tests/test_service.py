"""The conversation service, driven as the adapters drive it, on real SQLite and PostgreSQL stores."""
import json
import logging

import pytest
import yaml

from bot.config import Config, ConfigError, Roles, load_config
from bot.logs import JsonFormatter, RedactFilter
from bot.messages import ACTION, DM, MENTION, SLASH, Incoming, Limits, Rating
from bot.reload import KnowledgeHolder
from bot.service import Service, should_ignore
from bot.store import open_store

MOD = Roles(moderators={"slack": frozenset({"UMOD", "SMODS"}), "discord": frozenset({"R-MOD"})})


def msg(text, user="U1", via=DM, event_id=None, platform="slack", roles=frozenset(), **flags):
    return Incoming(platform, "T1", "C1", user, text, via, user_roles=roles, event_id=event_id, **flags)


@pytest.fixture
def make_service(mini_dir, tmp_path):
    made = []

    def make(store_dir=None, url=None, schema=None, **config):
        store = open_store(url, store_dir or tmp_path / "data", **({"schema": schema} if schema else {}))
        config.setdefault("roles", MOD)
        service = Service(KnowledgeHolder(mini_dir, min_interval=0), store, Config(**config))
        made.append(service)
        return service

    yield make
    for s in made:
        s.close()


def test_should_ignore_is_the_single_loop_rule():
    assert should_ignore(msg("x", from_us=True))
    assert should_ignore(msg("x", is_bot=True))
    assert should_ignore(msg("x", is_bot=True, via=MENTION))  # a mention (or reply-ping) is no exception
    assert not should_ignore(msg("x", user="BOT1", is_bot=True), frozenset({"BOT1"}))
    assert should_ignore(msg("x", user="BOT2", is_bot=True), frozenset({"BOT1"}))
    assert should_ignore(msg("x", is_edit=True))
    assert should_ignore(msg("x", is_unfurl=True))
    assert not should_ignore(msg("x"))


def test_triage_is_recorded_without_text_by_default(make_service):
    service = make_service()
    (out,) = service.handle(msg("the chatbot made up a citation", via=MENTION, event_id="Ev1"))
    assert out.kind == "triage" and out.reply.category == "technical" and out.record_id
    service.store.flush()
    stats = service.store.stats(0)
    assert stats.total == 1 and stats.by_category["technical"] == 1
    (d,) = [r for r in [service.store.get_record(out.record_id)]]
    assert d.signal_ids == ("hallucination",) and d.text is None and d.event_id == "Ev1"
    assert d.knowledge_version == service.holder.current.version and d.latency_ms > 0


def test_store_text_is_opt_in(make_service):
    service = make_service(store_text=True)
    (out,) = service.handle(msg("the chatbot made up a citation"))
    service.store.flush()
    assert service.store.get_record(out.record_id).text == "the chatbot made up a citation"


def test_duplicate_event_answered_once_across_processes_sharing_a_store(make_service, tmp_path):
    a = make_service(store_dir=tmp_path / "shared")
    b = make_service(store_dir=tmp_path / "shared")
    assert len(a.handle(msg("who decides?", event_id="Ev-retry"))) == 1
    assert b.handle(msg("who decides?", event_id="Ev-retry")) == []
    assert a.handle(msg("who decides?", event_id="Ev-retry")) == []


def test_duplicate_event_on_postgres(make_service, tmp_path, pg_schema):
    from tests.store.store_helpers import PG_URL

    a = make_service(store_dir=tmp_path / "a", url=PG_URL, schema=pg_schema)
    b = make_service(store_dir=tmp_path / "b", url=PG_URL, schema=pg_schema)
    replies = a.handle(msg("who decides?", event_id="Ev-pg")) + b.handle(msg("who decides?", event_id="Ev-pg"))
    assert len(replies) == 1
    a.store.flush()
    assert a.store.stats(0).total == 1


def test_rate_limit_is_per_user_and_friendly(make_service):
    service = make_service(rate_per_minute=1, rate_burst=2)
    for _ in range(2):
        assert service.handle(msg("who decides?"))[0].kind == "triage"
    (limited,) = service.handle(msg("who decides?"))
    assert limited.kind == "rate-limited" and limited.private and "try again" in limited.text
    assert service.handle(msg("who decides?")) == []  # told once; no reply flood
    assert service.handle(msg("who decides?", user="U2"))[0].kind == "triage"


def test_moderator_commands_check_roles(make_service, caplog):
    service = make_service()
    with caplog.at_level(logging.WARNING, logger="bot.service"):
        (refused,) = service.handle(msg("reload", user="U1"))
    assert refused.kind == "refused" and refused.private and "moderators" in refused.text
    assert any(r.getMessage() == "command refused" and r.command == "reload" for r in caplog.records)
    assert service.handle(msg("reload", user="UMOD"))[0].text.startswith("knowledge reloaded")
    assert service.handle(msg("reload", user="U9", roles=frozenset({"SMODS"})))[0].kind == "notice"
    (d,) = service.handle(msg("reload", user="D1", platform="discord", roles=frozenset({"R-MOD"}), via=SLASH))
    assert d.kind == "notice"
    assert service.handle(msg("feedback export", user="U1"))[0].kind == "refused"


def test_reload_command_reports_a_bad_edit_and_keeps_serving(make_service, mini_dir):
    service = make_service()
    (mini_dir / "rules" / "bad.yaml").write_text("rules:\n  - id: x\n    concept: c\n    category: tecnical\n    phrases: ['x']\n")
    (out,) = service.handle(msg("reload", user="UMOD"))
    assert "rejected" in out.text and "rules/bad.yaml:4" in out.text and "did you mean 'technical'" in out.text
    assert service.handle(msg("the chatbot made up a citation"))[0].reply.category == "technical"


def test_message_action_triages_even_command_words(make_service):
    service = make_service()
    (out,) = service.handle(msg("help", via=ACTION))
    assert out.kind == "triage" and out.reply.category == "unclear"


def test_commands_and_bad_arguments(make_service):
    service = make_service()
    assert "Commands:" in service.handle(msg("help"))[0].text
    assert "power-and-control" in service.handle(msg("topics"))[0].text
    reading = service.handle(msg("reading algorithmic-bias"))[0]
    assert reading.kind == "reading" and "https://reflexive-ai.github.io/research/r-algorithmic-bias/" in reading.text
    bad = service.handle(msg("reading algoritmic-bias"))[0]
    assert "did you mean 'algorithmic-bias'" in bad.text
    stats = service.handle(msg("stats 12d"))[0]
    assert stats.kind == "help" and "stats takes 7d, 30d, 90d" in stats.text and "Commands:" in stats.text
    assert service.handle(msg("triage"))[0].kind == "help"
    assert service.handle(msg("   "))[0].kind == "help"


def test_feedback_flow_and_export(make_service):
    service = make_service(store_text=True)
    a = service.handle(msg("the chatbot made up a citation"))[0]
    b = service.handle(msg("who decides about surveillance?", user="U2"))[0]
    c = service.handle(msg("a jailbreak", user="U3"))[0]
    service.store.flush()
    assert service.feedback("slack", "U1", a.record_id, "right").text == "Thanks, recorded: right."
    assert "should be both" in service.feedback("slack", "U2", b.record_id, "both").text
    assert service.handle(msg(f"feedback {c.record_id} not-governance", user="U3"))[0].rating == Rating(c.record_id, "not-governance")
    assert "couldn't find" in service.feedback("slack", "U1", "0" * 32, "right").text
    assert "not a feedback choice" in service.feedback("slack", "U1", a.record_id, "meh").text
    service.store.flush()
    (export,) = service.handle(msg("feedback export", user="UMOD"))
    assert export.private and "2 disagreement(s)" in export.text
    data = yaml.safe_load(export.attachment.content)
    assert sorted((e["text"], e["label"]) for e in data["examples"]) == [
        ("a jailbreak", "unclear"), ("who decides about surveillance?", "both"),
    ]
    stats = service.handle(msg("stats 7d"))[0]
    assert stats.chart.footer == "Feedback agreement: 33% of 3 ratings"
    assert "technical" in stats.text and "█" in stats.text


def test_export_without_stored_text_keeps_yaml_valid(make_service):
    service = make_service()
    a = service.handle(msg("the chatbot made up a citation"))[0]
    service.store.flush()
    service.feedback("slack", "U1", a.record_id, "societal")
    service.store.flush()
    content, count, without = service.export_feedback()
    assert count == 1 and without == 1
    assert yaml.safe_load(content) == {"examples": []}
    assert f"record {a.record_id}: bot said technical, user said societal" in content


def test_forget_me(make_service):
    service = make_service()
    service.handle(msg("who decides?", user="U5"))
    service.handle(msg("who decides?", user="U6"))
    service.store.flush()
    (out,) = service.handle(msg("forget me", user="U5"))
    assert out.private and "deleted 1 record" in out.text
    assert service.store.stats(0).total == 1


def test_stats_counts_and_weekly_trend(make_service):
    service = make_service()
    # "good morning" is small talk: answered with a hint, not counted
    for text in ("who decides?", "who decides?", "the chatbot made up a citation", "please review the quarterly numbers", "good morning"):
        service.handle(msg(text))
    service.store.flush()
    chart = service.stats_chart(30)
    (by_category, topics, pitfalls, weekly) = chart.groups
    assert {b.label: b.value for b in by_category[1]} == {"technical": 1, "societal": 2, "both": 0, "unclear": 1}
    assert sum(b.value for b in weekly[1]) == 4


def test_long_replies_are_split_to_platform_limits(make_service):
    service = make_service()
    (out,) = service.handle(msg("the chatbot made up a citation"), Limits(message_chars=120))
    assert len(out.parts) > 1 and all(len(p) <= 120 for p in out.parts)
    assert "".join(out.parts).replace("\n", "").replace(" ", "") == out.text.replace("\n", "").replace(" ", "")


def test_logs_are_structured_and_never_carry_text(make_service, caplog):
    service = make_service()
    secret = "zebra-quartz the chatbot made up a citation"
    with caplog.at_level(logging.DEBUG):
        service.handle(msg(secret, event_id="Ev-log"))
        service.store.flush()
    assert "zebra" not in caplog.text
    (rec,) = [r for r in caplog.records if r.getMessage() == "triage"]
    line = json.loads(JsonFormatter().format(rec))
    assert line["verdict"] == "technical" and line["signals"] == ["hallucination"]
    assert line["event_id"] == "Ev-log" and line["platform"] == "slack" and line["latency_ms"] >= 0
    assert "zebra" not in json.dumps(line)


def test_secrets_are_redacted_from_logs():
    record = logging.LogRecord("x", logging.INFO, "", 0, "token %s leaked", ("xoxb-1234567890-abcdefghij",), None)
    RedactFilter().filter(record)
    assert "xoxb" not in record.getMessage() and "[redacted]" in record.getMessage()


def test_health(make_service):
    h = make_service().health()
    assert h["ok"] and h["rules"] == 8 and h["store"]["backend"] == "sqlite"
    assert h["decision"] == "rules"  # the mini knowledge has too few examples to learn from


def test_retention_purge(make_service):
    clock = [1_000_000_000.0]
    service = make_service(retention_days=1)
    service.clock = lambda: clock[0]
    service.handle(msg("who decides?"))
    clock[0] += 3 * 86400
    service.handle(msg("who decides?"))
    service.store.flush()
    assert service.purge() == 1
    assert service.store.stats(0, clock[0] + 1).total == 1


def test_config_file_and_environment(tmp_path):
    path = tmp_path / "bot.toml"
    path.write_text('store_text = true\nretention_days = 30\n[roles.moderators]\nslack = ["U1", "S2"]\ndiscord = ["111"]\n')
    config = load_config(path, env={"TRIAGE_MODERATORS_DISCORD": "222,333", "TRIAGE_RATE_PER_MINUTE": "5"})
    assert config.store_text and config.retention_days == 30 and config.rate_per_minute == 5
    assert config.roles.is_moderator("slack", "U1") and config.roles.is_moderator("slack", "x", {"S2"})
    assert not config.roles.is_moderator("discord", "x", {"111"}) and config.roles.is_moderator("discord", "x", {"333"})
    yml = tmp_path / "bot.yaml"
    yml.write_text("roles:\n  ethics_leads:\n    slack: U7\n")
    assert load_config(yml, env={}).roles.is_ethics_lead("slack", "U7")
    (tmp_path / "bad.toml").write_text("stor_text = true\n")
    with pytest.raises(ConfigError, match="unknown setting 'stor_text'"):
        load_config(tmp_path / "bad.toml", env={})
    (tmp_path / "broken.yaml").write_text("roles: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(tmp_path / "broken.yaml", env={})
    with pytest.raises(ConfigError, match="not a yes/no"):
        load_config(None, env={"TRIAGE_STORE_TEXT": "perhaps"})


def test_replies_go_on_while_the_database_is_down(mini_dir, tmp_path, caplog):
    """PostgreSQL unreachable from the start: answers continue, records are spooled, health says so."""
    import socket

    with socket.socket() as s:  # a loopback port with nothing listening
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    store = open_store(f"postgresql://postgres@127.0.0.1:{dead}/test", tmp_path / "data", retry_initial=0.05, retry_max=0.2)
    service = Service(KnowledgeHolder(mini_dir), store, Config(roles=MOD))
    try:
        with caplog.at_level(logging.WARNING):
            replies = [service.handle(msg("the chatbot made up a citation", event_id=f"Ev{i}"))[0] for i in range(3)]
            assert [r.reply.category for r in replies] == ["technical"] * 3
            store.flush(2)
        health = service.health()
        assert not health["ok"] and health["store"]["spooled"] >= 3
        assert any("spool" in r.getMessage().lower() for r in caplog.records)
        assert service.handle(msg("the chatbot made up a citation", event_id="Ev0")) == []  # dedupe still holds in-process
    finally:
        service.close()


def test_public_health_hides_locations_and_preview_records_nothing(make_service):
    service = make_service()
    assert "location" in service.health()["store"]
    public = service.health(public=True)["store"]
    assert not {"location", "spool_dir", "last_error"} & set(public) and public["backend"] == "sqlite"
    reply = service.preview("the chatbot made up a citation")
    service.store.flush()
    assert reply.category == "technical" and service.store.stats(0).total == 0


def test_stats_are_for_ethics_leads_once_they_are_configured(make_service):
    open_service = make_service()
    assert open_service.handle(msg("stats 7d", user="U1"))[0].kind == "stats"
    roles = Roles(moderators={"slack": frozenset({"UMOD"})}, ethics_leads={"slack": frozenset({"ULEAD", "SLEADS"})})
    service = make_service(roles=roles)
    assert service.handle(msg("stats 7d", user="U1"))[0].kind == "refused"
    assert service.handle(msg("stats 7d", user="ULEAD"))[0].kind == "stats"
    assert service.handle(msg("stats", user="U2", roles=frozenset({"SLEADS"})))[0].kind == "stats"
    assert service.handle(msg("stats", user="UMOD"))[0].kind == "stats"
    assert service.handle(msg("stats", user="D1", platform="discord"))[0].kind == "stats"  # none configured there


def test_record_ids_are_unique_within_and_across_processes():
    import subprocess
    import sys

    from bot.service import new_record_id

    here = {new_record_id() for _ in range(10_000)}
    code = "from bot.service import new_record_id; print(' '.join(new_record_id() for _ in range(1000)))"
    other = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split())
    assert len(here) == 10_000 and len(other) == 1000 and not here & other
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in list(here)[:10])


def test_record_ids_are_random_not_a_prefix_and_a_counter():
    """Knowing one id (your own) must not tell you another: every 96-bit slice differs."""
    from bot.service import new_record_id

    ids = [new_record_id() for _ in range(2000)]
    for window in (slice(0, 24), slice(8, 32)):  # any 96 of the 128 bits
        assert len({i[window] for i in ids}) == len(ids)
    bits = sum(bin(int(a, 16) ^ int(b, 16)).count("1") for a, b in zip(ids, ids[1:])) / (len(ids) - 1)
    assert 56 < bits < 72  # consecutive ids differ in about half their 128 bits


def test_feedback_only_from_the_asker_or_a_moderator(make_service, tmp_path):
    a = make_service(store_dir=tmp_path / "shared")
    b = make_service(store_dir=tmp_path / "shared")  # another worker on the same store
    (mine,) = a.handle(msg("the chatbot made up a citation", user="U1"))
    assert a.feedback("slack", "U2", mine.record_id, "societal").kind == "refused"  # not yet in the database
    assert a.handle(msg(f"feedback {mine.record_id} societal", user="U2"))[0].kind == "refused"
    assert a.feedback("discord", "U1", mine.record_id, "right").kind == "refused"  # same id, other platform
    a.store.flush()
    assert b.feedback("slack", "U2", mine.record_id, "both").kind == "refused"  # looked up in the store
    assert b.feedback("slack", "U1", mine.record_id, "right").rating == Rating(mine.record_id, "right")
    assert b.feedback("slack", "UMOD", mine.record_id, "both").rating == Rating(mine.record_id, "both")
    assert b.feedback("slack", "U9", mine.record_id, "both", roles=frozenset({"SMODS"})).rating == Rating(mine.record_id, "both")
    b.store.flush()
    assert b.store.feedback_stats().per_category["technical"] == (1, 3)


def test_background_watcher_logs_a_rejected_edit_with_file_and_line(mini_dir, tmp_path, caplog):
    """Chat bots watch the knowledge directory between messages; a bad edit must reach the
    logs with its file:line, as it does when a message triggers the reload."""
    import threading

    service = Service(KnowledgeHolder(mini_dir), open_store(None, tmp_path / "data"), Config(roles=MOD))
    seen = threading.Event()
    try:
        with caplog.at_level(logging.WARNING, logger="bot.service"):
            service.holder.watch(interval=0.05, on_event=lambda e: (service.report_reload(e), seen.set()))
            (mini_dir / "rules" / "bad.yaml").write_text("rules:\n  - id: x\n    concept: c\n    category: technical\n    phrases: [yes]\n")
            assert seen.wait(5)
        (record,) = [r for r in caplog.records if r.getMessage() == "knowledge edit rejected"]
        assert any(e.startswith("rules/bad.yaml:5:") for e in record.errors)
    finally:
        service.close()


def test_stats_bars_share_one_scale_and_print_counts():
    from bot.chart import bars, text_bars
    from bot.messages import Chart

    chart = Chart("t", (("Concerns", bars([("technical", 30), ("societal", 3)])), ("Pitfalls", bars([("x", 1)]))))
    text = text_bars(chart)
    tech, soc, pit = (line for line in text.splitlines() if line.strip().startswith(("technical", "societal", "x ")))
    assert tech.count("█") == 20 and soc.count("█") == 2 and pit.count("█") == 1
    assert tech.endswith(" 30") and pit.endswith(" 1") and "a full bar is 30" in text
