"""Plain value types for the store. No I/O here, so every layer can import them."""
from __future__ import annotations

from dataclasses import dataclass, field



@dataclass(frozen=True)
class TriageRecord:
    """One triage decision. ``text`` is None unless the operator turned store_text on."""

    record_id: str  # uuid4 hex, made by the caller
    ts: float  # unix seconds
    platform: str  # console|slack|discord
    workspace: str
    channel: str
    user: str
    event_id: str | None
    category: str  # technical|societal|both|unclear
    confidence: float
    topics: tuple[str, ...]
    pitfalls: tuple[str, ...]
    signal_ids: tuple[str, ...]
    knowledge_version: str
    latency_ms: float
    text: str | None = None

    def to_dict(self) -> dict:
        return {
            "record_id": self.record_id,
            "ts": self.ts,
            "platform": self.platform,
            "workspace": self.workspace,
            "channel": self.channel,
            "user": self.user,
            "event_id": self.event_id,
            "category": self.category,
            "confidence": self.confidence,
            "topics": list(self.topics),
            "pitfalls": list(self.pitfalls),
            "signal_ids": list(self.signal_ids),
            "knowledge_version": self.knowledge_version,
            "latency_ms": self.latency_ms,
            "text": self.text,
        }

    @classmethod
    def from_dict(cls, d: dict) -> "TriageRecord":
        return cls(
            record_id=str(d["record_id"]),
            ts=float(d["ts"]),
            platform=str(d["platform"]),
            workspace=str(d["workspace"]),
            channel=str(d["channel"]),
            user=str(d["user"]),
            event_id=None if d.get("event_id") is None else str(d["event_id"]),
            category=str(d["category"]),
            confidence=float(d["confidence"]),
            topics=tuple(d.get("topics") or ()),
            pitfalls=tuple(d.get("pitfalls") or ()),
            signal_ids=tuple(d.get("signal_ids") or ()),
            knowledge_version=str(d["knowledge_version"]),
            latency_ms=float(d["latency_ms"]),
            text=d.get("text"),
        )


@dataclass(frozen=True)
class Feedback:
    """A user's verdict on a triage record. The latest one per (record, user) wins."""

    record_id: str
    user: str
    choice: str  # one of FEEDBACK_CHOICES
    ts: float
    # The rated message, only when its author disagreed and agreed to keep it for the
    # moderators. None keeps what an earlier answer kept (a "right" drops it).
    text: str | None = None

    def to_dict(self) -> dict:
        d = {"record_id": self.record_id, "user": self.user, "choice": self.choice, "ts": self.ts}
        if self.text is not None:  # journals written before kept texts stay readable both ways
            d["text"] = self.text
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Feedback":
        return cls(record_id=str(d["record_id"]), user=str(d["user"]), choice=str(d["choice"]), ts=float(d["ts"]),
                   text=None if d.get("text") is None else str(d["text"]))


@dataclass(frozen=True)
class ForgetRequest:
    """A `forget me` that waits for the database: everything of the user up to ``ts``."""

    platform: str
    user: str
    ts: float

    def to_dict(self) -> dict:
        return {"platform": self.platform, "user": self.user, "ts": self.ts}

    @classmethod
    def from_dict(cls, d: dict) -> "ForgetRequest":
        return cls(platform=str(d["platform"]), user=str(d["user"]), ts=float(d["ts"]))


@dataclass(frozen=True)
class Stats:
    since: float
    until: float
    total: int
    by_category: dict[str, int]
    top_topics: list[tuple[str, int]]
    top_pitfalls: list[tuple[str, int]]
    # (ISO date (UTC) the 7-day bucket starts on; {category: count}), oldest first, gaps
    # filled; the buckets end at `until`, so the rows match the window.
    weekly: list[tuple[str, dict[str, int]]]
    feedback_total: int
    feedback_agree: int
    agreement_rate: float | None


@dataclass(frozen=True)
class FeedbackStats:
    # record category -> (agreeing feedback, all feedback)
    per_category: dict[str, tuple[int, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Disagreement:
    record: TriageRecord
    feedback: Feedback
