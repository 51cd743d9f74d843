"""Asking a person who disagreed with a verdict whether their message may be kept.

With store_text off the store holds no message text, so corrections never became examples.
The text of a recent triage waits here, in memory only and bounded, until its author
answers the one-click question under a disagreeing rating: yes stores it on the feedback
row (so it goes with the record's retention and with `forget me`), no or silence drops it.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

QUESTION = ("May I keep the text of your message for the moderators, as a candidate example for the rules? "
            "Only if you say yes; it is deleted with your records (retention, or `forget me`).")
KEPT = "Thanks: I kept your message for the moderators to review. `forget me` deletes it with your records."
NOT_KEPT = "OK: your message is not kept."
GONE = "Sorry, I no longer have that message, so nothing was kept."
_KEPT_MAX = 2_000  # recent triages whose author might still say yes


class PendingTexts:
    def __init__(self, size: int = _KEPT_MAX) -> None:
        self._size = size
        self._texts: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def offer(self, record_id: str, text: str) -> None:
        with self._lock:
            self._texts[record_id] = text
            while len(self._texts) > self._size:
                self._texts.popitem(last=False)

    def has(self, record_id: str) -> bool:
        with self._lock:
            return record_id in self._texts

    def take(self, record_id: str) -> str | None:
        """The text, forgotten here once asked for: the answer is given once."""
        with self._lock:
            return self._texts.pop(record_id, None)
