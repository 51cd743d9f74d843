"""Point 4 of issue 10: a disagreeing author is asked (default no) whether their message may
be kept; only a yes stores its text, `feedback export` turns it into a candidate example,
and retention and `forget me` delete it. Real SQLite and real PostgreSQL stores."""
import pytest
import yaml

from bot import keep
from bot.commands import parse
from bot.config import Config
from bot.messages import DM, Incoming, Rating
from bot.reload import KnowledgeHolder
from bot.service import Service
from bot.store import open_store

CONCERN = "the chatbot made up a citation"


@pytest.fixture(params=["sqlite", "postgres"])
def service(request, mini_dir, tmp_path):
    url, opts = None, {}
    if request.param == "postgres":
        from tests.store.store_helpers import PG_URL

        url, opts = PG_URL, {"schema": request.getfixturevalue("pg_schema")}
    s = Service(KnowledgeHolder(mini_dir, min_interval=0), open_store(url, tmp_path / "data", **opts), Config())
    yield s
    s.close()


def ask(service, text=CONCERN, user="U1"):
    (out,) = service.handle(Incoming("slack", "T1", "C1", user, text, DM))
    return out.record_id


def exported(service):
    return yaml.safe_load(service.export_feedback()[0])["examples"]


def test_disagreeing_author_is_asked_and_a_yes_becomes_an_example(service):
    rid = ask(service)
    rated = service.feedback("slack", "U1", rid, "societal")
    assert rated.rating == Rating(rid, "societal", keep.QUESTION)
    assert exported(service) == []  # nothing kept before the yes
    done = service.keep_text("slack", "U1", rid, "societal", True)
    assert done.text == keep.KEPT and done.kept is True
    assert exported(service) == [{"text": CONCERN, "label": "societal"}]
    service.store.flush()
    assert service.store.get_record(rid).text is None  # store_text stays off


def test_no_question_for_right_for_others_or_with_store_text(service):
    rid = ask(service)
    assert not service.feedback("slack", "U1", rid, "right").rating.keep_question
    other = ask(service, user="U2")
    service.config = Config(roles=service.config.roles.__class__(moderators={"slack": frozenset({"UMOD"})}))
    assert not service.feedback("slack", "UMOD", other, "both").rating.keep_question  # not the moderator's message
    assert service.keep_text("slack", "UMOD", other, "both", True).text == keep.NOT_KEPT


def test_a_no_keeps_nothing_and_the_question_is_answered_once(service):
    rid = ask(service)
    service.feedback("slack", "U1", rid, "both")
    assert service.keep_text("slack", "U1", rid, "both", False).text == keep.NOT_KEPT
    assert service.keep_text("slack", "U1", rid, "both", True).text == keep.GONE
    assert exported(service) == []


def test_forget_me_deletes_the_kept_text(service):
    rid = ask(service)
    service.feedback("slack", "U1", rid, "societal")
    service.keep_text("slack", "U1", rid, "societal", True)
    (out,) = service.handle(Incoming("slack", "T1", "C1", "U1", "forget me", DM))
    assert "deleted 2 record(s)" in out.text  # the triage and its feedback row with the text
    assert exported(service) == []


def test_retention_purges_the_kept_text(service):
    now = [1_000_000.0]
    service.clock = lambda: now[0]
    rid = ask(service)
    service.feedback("slack", "U1", rid, "societal")
    service.keep_text("slack", "U1", rid, "societal", True)
    service.store.flush()
    now[0] += (service.config.retention_days + 1) * 86400
    assert service.purge() == 1
    assert exported(service) == []


def test_forget_me_right_after_a_triage_counts_it(service):
    ask(service)  # no flush: the record is still on its way to the database
    (out,) = service.handle(Incoming("slack", "T1", "C1", "U1", "forget me", DM))
    assert "deleted 1 record(s)" in out.text


def test_feedback_with_an_id_and_no_choice_is_the_usage_line(service):
    for text in ("feedback 0123abcd", "feedback", "feedback 0123abcd very wrong"):
        command = parse(text)
        assert command.name == "feedback" and command.problem.startswith("use: feedback <record id>"), text
    rid = ask(service)
    (out,) = service.handle(Incoming("slack", "T1", "C1", "U1", f"feedback {rid}", DM))
    assert out.kind == "help" and out.text.startswith("use: feedback <record id>")
