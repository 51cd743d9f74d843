"""The conversation service: one entry point for every front end.

Incoming -> (ignore? duplicate? throttled?) -> command -> Outgoing. Records, roles, rate
limits, feedback and stats live here once, so Slack, Discord and the console behave
identically and each adapter only translates.
"""
from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import OrderedDict

import yaml

from . import access, commands, keep, smalltalk
from .chart import bars, text_bars
from .classify import triage
from .compose import compose
from .config import Config
from .knowledge import did_you_mean
from .messages import ACTION, Attachment, Chart, Incoming, Kind, Limits, Outgoing, Rating
from .reload import KnowledgeHolder
from .render import plain, plain_details, split_text
from .smalltalk import is_small_talk
from .verdict import REJECTED
from .vocabulary import EXPORT_LABELS, FEEDBACK_CHOICES, FEEDBACK_LABELS
from .store import Feedback, Store, StoreUnavailable, TriageRecord

log = logging.getLogger("bot.service")

_PURGE_EVERY_S = 3600.0
RATE_NOTICE_EVERY_S = 30.0
_PRIVATE_HEALTH = {"location", "spool_dir", "last_error"}
_REPLIES_KEPT = 2_000  # recent replies, for their "More" details
_ASKERS_KEPT = 50_000  # recent records' askers, for feedback on records not yet in the database


class Service:
    def __init__(self, holder: KnowledgeHolder, store: Store | None, config: Config | None = None, clock=time.time) -> None:
        from .ratelimit import RateLimiter

        self.holder = holder
        self.store = store
        self.config = config or Config()
        self.clock = clock
        self.limiter = RateLimiter(self.config.rate_per_minute, self.config.rate_burst)
        self.started = time.monotonic()
        self._purged = 0.0
        self._purger: threading.Thread | None = None
        self._lock = threading.Lock()
        self.on_reload = None  # front ends that can show it (the console) set a callback
        self._limit_notices: dict[tuple[str, str], float] = {}
        self._askers: OrderedDict[str, tuple[str, str]] = OrderedDict()
        self._recent: OrderedDict[str, object] = OrderedDict()  # record id -> Reply, for "More"
        self._pending_texts = keep.PendingTexts()

    # -- the one entry point --------------------------------------------------------------

    def ignores(self, msg: Incoming) -> bool:
        return should_ignore(msg, self.config.allowed_bots.get(msg.platform, frozenset()))

    def handle(self, msg: Incoming, limits: Limits = Limits()) -> list[Outgoing]:
        if self.ignores(msg):
            return []
        if msg.event_id and self.store is not None and not self.store.claim_event(msg.platform, msg.event_id):
            log.info("duplicate event ignored", extra={"platform": msg.platform, "event_id": msg.event_id})
            return []
        # The console is one local person (often a script piping many lines): nobody to protect.
        if msg.platform != "console" and not self.limiter.allow(msg.platform, msg.user):
            log.info("rate limited", extra={"platform": msg.platform, "user": msg.user, "event_id": msg.event_id})
            if not self._should_notify_limit(msg.platform, msg.user):
                return []  # told them recently; answering every extra message would be the flood
            wait = self.limiter.retry_after(msg.platform, msg.user)
            return [self._out(Kind.RATE_LIMITED, f"You're sending requests faster than I can take them; please try again in about {max(1, round(wait))} seconds.", limits, private=True)]
        self._maybe_reload()
        self._maybe_purge()
        command = self.command(msg)
        if command.problem:
            return [self._out(Kind.HELP, f"{command.problem}.\n\n{commands.HELP}", limits, private=True)]
        if not access.allows(self.config.roles, msg.platform, msg.user, msg.user_roles, command.name):
            log.warning("command refused", extra={"platform": msg.platform, "channel": msg.channel, "user": msg.user, "command": command.name})
            return [self._out(Kind.REFUSED, access.refusal(command.name), limits, private=True)]
        try:
            return [_COMMANDS[command.name](self, msg, command.arg, limits)]
        except StoreUnavailable:  # stats, exports: operator reads that need the database now
            log.warning("command needs the store, which is unavailable", extra={"platform": msg.platform, "command": command.name})
            return [self._out(Kind.NOTICE, f"The record store is unavailable right now, so `{command.name}` can't run. Triage still works; please try again in a few minutes.", limits, private=True)]

    def command(self, msg: Incoming) -> commands.Command:
        """What a message asks for: a message action (shortcut, context menu) triages the
        message as it stands, even one that starts with a command word."""
        return commands.Command("triage", msg.text) if msg.via == ACTION else commands.parse(msg.text)

    def roles_to_look_up(self, msg: Incoming) -> frozenset[str]:
        """The configured ids whose membership decides whether `msg` may run what it asks
        for, for platforms that do not send a user's roles with each message (Slack's user
        groups are looked up): empty when the command is open or the user is listed by id."""
        granted = access.granted_to(self.config.roles, msg.platform, self.command(msg).name)
        if granted is None or msg.user in granted:
            return frozenset()
        return granted

    def roles_to_look_up_for_rating(self, platform: str, user: str) -> frozenset[str]:
        """The same for a rating button: the ids whose membership lets `user` rate someone
        else's triage; empty when the user is a moderator by id."""
        granted = access.rating_granted_to(self.config.roles, platform)
        return frozenset() if user in granted else granted

    # -- commands -------------------------------------------------------------------------

    def _cmd_triage(self, msg: Incoming, text: str, limits: Limits) -> Outgoing:
        knowledge = self.holder.current
        started = time.perf_counter()
        verdict = triage(knowledge, text)
        if is_small_talk(text, verdict):  # "hi", "thanks!": a hint, not a record nor a stat
            log.info("small talk", extra={"platform": msg.platform, "channel": msg.channel, "event_id": msg.event_id})
            return self._out(Kind.SMALL_TALK, smalltalk.HINT, limits)
        reply = compose(knowledge, verdict)
        latency_ms = (time.perf_counter() - started) * 1000
        record_id = None
        if verdict.reason not in REJECTED:  # nothing to classify: answered, not recorded
            record_id = new_record_id()
            self._remember_asker(record_id, msg.platform, msg.user)
            self._remember_reply(record_id, reply)
            if self.store is not None and not self.config.store_text:
                self._pending_texts.offer(record_id, text)
            if self.store is not None:
                self.store.add_triage(TriageRecord(
                    record_id, self.clock(), msg.platform, msg.workspace, msg.channel, msg.user, msg.event_id,
                    verdict.category, verdict.confidence, verdict.topics, verdict.pitfalls,
                    tuple(s.rule_id for s in verdict.signals), knowledge.version, round(latency_ms, 3),
                    text if self.config.store_text else None,
                ))  # fmt: skip
        log.info("triage", extra={
            "platform": msg.platform, "channel": msg.channel, "event_id": msg.event_id, "via": msg.via,
            "verdict": verdict.category, "confidence": verdict.confidence,
            "signals": [s.rule_id for s in verdict.signals], "pitfalls": list(verdict.pitfalls),
            "latency_ms": round(latency_ms, 3), "knowledge": knowledge.version,
        })  # fmt: skip
        return self._out(Kind.TRIAGE, plain(reply), limits, reply=reply, record_id=record_id)

    def _cmd_help(self, msg: Incoming, arg: str, limits: Limits) -> Outgoing:
        return self._out(Kind.HELP, commands.HELP, limits)

    def _cmd_topics(self, msg: Incoming, arg: str, limits: Limits) -> Outgoing:
        k = self.holder.current
        lines = ["Intersection topics (problems that need both technical and societal work):"]
        lines += [f"  {t.id}: {t.title}. {t.summary}" for t in k.topics.values()]
        lines += ["", "Conflation pitfalls:"]
        lines += [f"  {p.id}: {p.title}. {p.explanation}" for p in k.pitfalls.values()]
        lines += ["", "Categories: " + ", ".join(f"{c.id} ({c.title})" for c in k.categories.values())]
        lines += ["Try `reading <id>` for further reading on any of them."]
        return self._out(Kind.TOPICS, "\n".join(lines), limits)

    def _cmd_reading(self, msg: Incoming, arg: str, limits: Limits) -> Outgoing:
        k = self.holder.current
        entry = k.categories.get(arg) or k.topics.get(arg) or k.pitfalls.get(arg)
        if entry is None:
            known = list(k.categories) + list(k.topics) + list(k.pitfalls)
            return self._out(Kind.HELP, f"I don't know '{arg}'{did_you_mean(arg, known)}. Known ids: {', '.join(known)}.", limits, private=True)
        lines = [f"Further reading on {entry.title}:"]
        for rid in entry.readings:
            r = k.readings.get(rid)
            if r:
                lines.append(f"  - {r.title}: {r.url}" + (f"\n    {r.summary}" if r.summary else ""))
        return self._out(Kind.READING, "\n".join(lines), limits)

    def _cmd_stats(self, msg: Incoming, window: str, limits: Limits) -> Outgoing:
        if self.store is None:
            return self._out(Kind.NOTICE, "Stats need a record store, and this bot runs without one.", limits)
        chart = self.stats_chart(commands.WINDOWS[window])
        return self._out(Kind.STATS, text_bars(chart), limits, chart=chart)

    def stats_chart(self, days: int) -> Chart:
        self.store.flush(2.0)  # include what this process just recorded
        now = self.clock()
        s = self.store.stats(now - days * 86400, now)
        order = ("technical", "societal", "both", "unclear")
        groups = [
            (f"Concerns by category ({s.total} in all)", bars((c, s.by_category.get(c, 0)) for c in order)),
            ("Top intersection topics", bars(s.top_topics[:5])),
            ("Pitfalls detected", bars(s.top_pitfalls[:5])),
            ("Week by week", bars((f"week of {week}", sum(counts.values())) for week, counts in s.weekly)),
        ]
        if s.agreement_rate is None:
            footer = "Feedback: none yet. Use the buttons under each triage to tell me if I got it right."
        else:
            footer = f"Feedback agreement: {s.agreement_rate:.0%} of {s.feedback_total} ratings"
        return Chart(f"Triage stats, last {days} days", tuple(groups), footer)

    def _cmd_reload(self, msg: Incoming, arg: str, limits: Limits) -> Outgoing:
        event = self.holder.reload()
        log.info("reload requested", extra={"platform": msg.platform, "user": msg.user, "ok": event.ok, "version": event.version})
        return self._out(Kind.NOTICE, event.describe(), limits, private=True)

    def _cmd_feedback_export(self, msg: Incoming, arg: str, limits: Limits) -> Outgoing:
        if self.store is None:
            return self._out(Kind.NOTICE, "There is no record store, so there is no feedback to export.", limits, private=True)
        content, count, without_text = self.export_feedback()
        note = f"{count} disagreement(s) exported as candidate examples."
        if without_text:
            note += f" {without_text} of them have no stored text (store_text is off and the person did not say yes to keeping it), so they appear as comments."
        return self._out(Kind.EXPORT, note, limits, private=True,
                         attachment=Attachment("feedback-examples.yaml", content.encode()))  # fmt: skip

    def export_feedback(self, since: float | None = None) -> tuple[str, int, int]:
        """Disagreements as `examples:` YAML for a moderator to review before adding."""
        self.store.flush(2.0)  # feedback is written in the background; export what was clicked
        items = self.store.disagreements(since)
        lines = [
            "# Candidate knowledge examples from user feedback: review each one, then move the good",
            "# ones into knowledge/examples.yaml and run `triage-bot knowledge check`.",
            "examples:",
        ]
        without_text = exported = 0
        for d in items:
            label = EXPORT_LABELS.get(d.feedback.choice)
            if label is None:
                continue
            rec = d.record
            origin = f"record {rec.record_id}: bot said {rec.category}, user said {d.feedback.choice}; signals: {', '.join(rec.signal_ids) or 'none'}"
            text = rec.text or d.feedback.text  # stored by store_text, or kept with the author's yes
            if text:
                exported += 1
                lines.append(f"  # {origin}")
                lines.append("  - " + yaml.safe_dump({"text": text, "label": label}, sort_keys=False, allow_unicode=True, width=1000).strip().replace("\n", "\n    "))
            else:
                without_text += 1
                lines.append(f"  # {origin} (text not stored)")
        if not exported:
            lines[2] = "examples: []"
        return "\n".join(lines) + "\n", len(items), without_text

    def _cmd_feedback(self, msg: Incoming, arg: str, limits: Limits) -> Outgoing:
        record_id, choice = arg.split(" ", 1)
        return self.feedback(msg.platform, msg.user, record_id, choice, limits, msg.user_roles)

    def _cmd_forget_me(self, msg: Incoming, arg: str, limits: Limits) -> Outgoing:
        if self.store is None:
            return self._out(Kind.FORGET, "I keep no records here, so there is nothing to delete.", limits, private=True)
        try:
            count = self.store.forget_user(msg.platform, msg.user)
        except StoreUnavailable:  # a deletion request must not fail in silence: keep it on disk
            self.store.forget_later(msg.platform, msg.user)
            log.warning("forget me queued: store unavailable", extra={"platform": msg.platform, "user": msg.user})
            return self._out(Kind.FORGET, "The record store is unavailable right now, so I can't delete your records this minute. "
                             "Your request is saved and will be carried out as soon as the store is back: everything I "
                             "recorded of you up to now will be deleted.", limits, private=True)  # fmt: skip
        log.info("forget me", extra={"platform": msg.platform, "user": msg.user, "deleted": count})
        return self._out(Kind.FORGET, f"Done: I deleted {count} record(s) of your triages and feedback.", limits, private=True)

    # -- feedback buttons -----------------------------------------------------------------

    def feedback(self, platform: str, user: str, record_id: str, choice: str, limits: Limits = Limits(),
                 roles: frozenset[str] = frozenset()) -> Outgoing:
        """Feedback from the person who asked, or from a moderator: a rating button sits
        under answers others can see, and ratings steer the knowledge."""
        if choice not in FEEDBACK_CHOICES:
            return self._out(Kind.HELP, f"'{choice}' is not a feedback choice; use one of: {', '.join(FEEDBACK_CHOICES)}.", limits, private=True)
        if self.store is None:
            return self._out(Kind.NOTICE, "Thanks! (No record store is configured, so feedback isn't kept.)", limits, private=True)
        if not access.may_rate_any(self.config.roles, platform, user, roles):
            try:
                asker = self._asker(record_id)
            except StoreUnavailable:
                return self._out(Kind.NOTICE, "I can't check that triage right now: the record store is unavailable. Please try again in a few minutes.", limits, private=True)
            if asker is not None and asker != (platform, user):
                log.info("feedback refused", extra={"platform": platform, "record": record_id})
                return self._out(Kind.REFUSED, "Only the person who asked for this triage (or a moderator) can rate it.", limits, private=True)
        if not self.store.add_feedback(Feedback(record_id, user, choice, self.clock())):
            return self._out(Kind.NOTICE, "I couldn't find that triage any more (it may have been deleted or not saved yet).", limits, private=True)
        log.info("feedback", extra={"platform": platform, "record": record_id, "choice": choice})
        ask = choice != "right" and self._asked_by(record_id, platform, user) and self._pending_texts.has(record_id)
        rating = Rating(record_id, choice, keep.QUESTION if ask else "")  # the front end asks yes/no, default no
        return self._out(Kind.NOTICE, f"Thanks, recorded: {FEEDBACK_LABELS[choice]}.", limits, private=True, rating=rating)

    def keep_text(self, platform: str, user: str, record_id: str, choice: str, yes: bool,
                  limits: Limits = Limits()) -> Outgoing:
        """The answer to `keep.QUESTION`. Only the message's author may say yes: the text is theirs."""
        mine = self._asked_by(record_id, platform, user)
        if not yes or not mine or choice not in FEEDBACK_CHOICES or choice == "right":
            if mine:
                self._pending_texts.take(record_id)  # a no: drop the text now, not when it ages out
            return self._out(Kind.NOTICE, keep.NOT_KEPT, limits, private=True)
        text = self._pending_texts.take(record_id)
        if text is None or self.store is None:
            return self._out(Kind.NOTICE, keep.GONE, limits, private=True)
        if not self.store.add_feedback(Feedback(record_id, user, choice, self.clock(), text=text)):
            return self._out(Kind.NOTICE, keep.GONE, limits, private=True)
        log.info("feedback text kept", extra={"platform": platform, "record": record_id, "choice": choice})
        return self._out(Kind.NOTICE, keep.KEPT, limits, private=True, kept=True)

    def _asked_by(self, record_id: str, platform: str, user: str) -> bool:
        with self._lock:
            return self._askers.get(record_id) == (platform, user)

    def details(self, record_id: str, limits: Limits = Limits()) -> Outgoing:
        """What a "More" button shows: the framing, interventions and full evidence of a
        recent reply (kept in memory: the store keeps no texts)."""
        with self._lock:
            reply = self._recent.get(record_id)
        if reply is None:
            return self._out(Kind.NOTICE, "Sorry, I no longer have the details of that reply; please ask again.", limits, private=True)
        return self._out(Kind.DETAILS, plain_details(reply), limits, private=True)

    def _remember_reply(self, record_id: str, reply) -> None:
        with self._lock:
            self._recent[record_id] = reply
            if len(self._recent) > _REPLIES_KEPT:
                self._recent.popitem(last=False)

    def _remember_asker(self, record_id: str, platform: str, user: str) -> None:
        with self._lock:
            self._askers[record_id] = (platform, user)
            if len(self._askers) > _ASKERS_KEPT:
                self._askers.popitem(last=False)

    def _asker(self, record_id: str) -> tuple[str, str] | None:
        """(platform, user) who asked; None when no such record exists. Records this
        process made are known at once; others (another worker's) come from the store."""
        with self._lock:
            asker = self._askers.get(record_id)
        if asker is not None:
            return asker
        record = self.store.get_record(record_id)
        return None if record is None else (record.platform, record.user)

    # -- housekeeping ---------------------------------------------------------------------

    def preview(self, text: str):
        """The reply for `text` without recording it: for re-drawing a reply a user already
        has (sharing an ephemeral answer, acknowledging feedback in place)."""
        knowledge = self.holder.current
        return compose(knowledge, triage(knowledge, text))

    def health(self, public: bool = False) -> dict:
        """Readiness for the adapters' health endpoints. `public=True` leaves out database
        locations, paths and error texts, for endpoints reachable from outside."""
        k = self.holder.current
        store = self.store.health() if self.store is not None else {"backend": "none", "ok": True}
        if public:
            store = {key: value for key, value in store.items() if key not in _PRIVATE_HEALTH}
        return {
            "ok": bool(store.get("ok", False)),
            "knowledge_version": k.version,
            "rules": len(k.rules),
            # Which decision answers: the rules alone, or the model and the encoder it read.
            "decision": k.model.meta.get("encoder", "static") if k.model is not None else "rules",
            "store": store,
            "uptime_s": round(time.monotonic() - self.started, 1),
        }

    def purge(self) -> int:
        if self.store is None or self.config.retention_days <= 0:
            return 0
        count = self.store.purge_older_than(self.clock() - self.config.retention_days * 86400)
        if count:
            log.info("retention purge", extra={"deleted": count, "retention_days": self.config.retention_days})
        return count

    def close(self) -> None:
        self.holder.stop()
        if self._purger is not None:
            self._purger.join(10.0)  # let a running purge finish before its store closes
        if self.store is not None:
            self.store.close()

    def _should_notify_limit(self, platform: str, user: str) -> bool:
        """One "slow down" notice per user per RATE_NOTICE_EVERY_S."""
        now = time.monotonic()
        key = (platform, user)
        with self._lock:
            if now - self._limit_notices.get(key, -RATE_NOTICE_EVERY_S) < RATE_NOTICE_EVERY_S:
                return False
            if len(self._limit_notices) > 10_000:
                self._limit_notices.clear()
            self._limit_notices[key] = now
            return True

    def _maybe_reload(self) -> None:
        event = self.holder.maybe_reload()
        if event is not None:
            self.report_reload(event)

    def report_reload(self, event) -> None:
        """One place that tells operators about a reload, whether a message or the background
        watcher noticed the edit: rejected edits are logged with their file:line errors."""
        if event.ok:
            log.info("knowledge reloaded", extra={"version": event.version})
        else:
            errors = [str(p) for p in event.problems if p.level == "error"]
            log.warning("knowledge edit rejected", extra={"version": event.version, "errors": errors[:20]})
        if self.on_reload is not None:
            self.on_reload(event)

    def _maybe_purge(self) -> None:
        now = time.monotonic()
        if now - self._purged < _PURGE_EVERY_S:
            return
        with self._lock:
            if now - self._purged < _PURGE_EVERY_S:
                return
            self._purged = now
        self._purger = threading.Thread(target=self._purge_quietly, name="retention-purge", daemon=True)
        self._purger.start()

    def _purge_quietly(self) -> None:
        try:
            self.purge()
        except Exception:  # the store logs its own errors; purging again in an hour is fine
            log.warning("retention purge failed", exc_info=True)

    def _out(self, kind: Kind, text: str, limits: Limits, **fields) -> Outgoing:
        return Outgoing(kind, text, split_text(text, limits.message_chars), **fields)


# Every command by the name `commands.parse` gives it, and the method that answers it.
_COMMANDS = {
    "triage": Service._cmd_triage,
    "help": Service._cmd_help,
    "topics": Service._cmd_topics,
    "reading": Service._cmd_reading,
    "stats": Service._cmd_stats,
    "reload": Service._cmd_reload,
    "feedback": Service._cmd_feedback,
    "feedback export": Service._cmd_feedback_export,
    "forget me": Service._cmd_forget_me,
}


def new_record_id() -> str:
    """128 random bits as 32 hex characters. Feedback buttons carry the id, so one person's
    id must say nothing about anyone else's (a prefix plus a counter let anyone rate any
    record by counting)."""
    return secrets.token_hex(16)


def should_ignore(msg: Incoming, allowed_bots: frozenset[str] = frozenset()) -> bool:
    """The single loop-prevention rule: never answer ourselves, edits, link unfurls, or any
    other bot unless the operator allow-listed it. Mentioning us is no exception: a bot
    that reply-pings our answer mentions us, and answering it starts a loop."""
    if msg.from_us or msg.is_edit or msg.is_unfurl:
        return True
    return msg.is_bot and msg.user not in allowed_bots
