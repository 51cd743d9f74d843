"""Kept texts (a disagreeing author's yes to keeping the message) on real SQLite and
PostgreSQL: stored on the feedback row, exported with the disagreement, dropped by a later
"right", and gone with the record's retention and with `forget me`."""
from __future__ import annotations

import threading
import time

from bot.store import Feedback
from store_helpers import rec


def kept(record_id: str, user: str = "U1", choice: str = "societal", text: str | None = "the model decides layoffs") -> Feedback:
    return Feedback(record_id, user, choice, time.time(), text=text)


def test_kept_text_is_stored_and_exported_with_the_disagreement(store, target):
    r = rec(user="U1")
    store.add_triage(r)
    assert store.add_feedback(kept(r.record_id, text=None))  # the rating click
    assert store.add_feedback(kept(r.record_id))  # the "yes, keep it" click
    assert store.flush(10)
    assert target.query("SELECT choice, text FROM feedback") == [("societal", "the model decides layoffs")]
    assert target.query("SELECT text FROM triage_records") == [(None,)]  # store_text stays off
    [d] = store.disagreements()
    assert d.feedback.text == "the model decides layoffs" and d.record.text is None


def test_a_later_rating_keeps_the_text_and_right_drops_it(store, target):
    r = rec(user="U1")
    store.add_triage(r)
    assert store.flush(10)
    store.add_feedback(kept(r.record_id))
    store.add_feedback(kept(r.record_id, choice="both", text=None))
    assert target.query("SELECT choice, text FROM feedback") == [("both", "the model decides layoffs")]
    store.add_feedback(kept(r.record_id, choice="right", text=None))
    assert target.query("SELECT choice, text FROM feedback") == [("right", None)]


def test_kept_texts_go_with_retention_and_forget_me(store, target):
    old, new = rec(user="U1", ts=1000.0), rec(user="U1")
    for r in (old, new):
        store.add_triage(r)
    assert store.flush(10)
    store.add_feedback(kept(old.record_id))
    store.add_feedback(kept(new.record_id))
    assert store.purge_older_than(5000.0) == 1
    assert target.query("SELECT record_id FROM feedback WHERE text IS NOT NULL") == [(new.record_id,)]
    assert store.forget_user("slack", "U1") == 2  # the record and its feedback row
    assert target.query("SELECT COUNT(*) FROM feedback") == [(0,)]


def test_forget_right_after_a_triage_deletes_it(store, target, monkeypatch):
    """The writer commits in the background: a `forget me` typed right after a triage used
    to run before the record landed and report 0 deleted."""
    real = store.commit_items
    started = threading.Event()

    def slow(items):
        started.set()
        time.sleep(0.3)
        real(items)

    monkeypatch.setattr(store, "commit_items", slow)
    r = rec(user="U1")
    store.add_triage(r)
    started.wait(5)
    assert store.forget_user("slack", "U1") == 1
    assert target.record_ids() == []


def test_journal_round_trip_of_a_kept_text():
    fb = Feedback("r1", "U1", "both", 1.0, text="keep me")
    assert Feedback.from_dict(fb.to_dict()) == fb
    assert "text" not in Feedback("r1", "U1", "both", 1.0).to_dict()
