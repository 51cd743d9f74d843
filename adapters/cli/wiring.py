"""Build a ready Service from command-line arguments: knowledge, config and store.

Every front end starts the same way, so the console, Slack and Discord are handed this
builder by the command line instead of each assembling the core. It lives in the
composition root because it talks to the person at the terminal: unusable knowledge or
config is a message and exit code 2, never a traceback.
"""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from bot.config import Config, ConfigError, Roles, load_config
from bot.reload import KnowledgeError, KnowledgeHolder
from bot.service import Service
from bot.store import StoreError, open_store

log = logging.getLogger("app.wiring")


def default_knowledge_dir() -> Path:
    """The project's own knowledge/, wherever the command runs from (repo or site-packages)."""
    env = os.environ.get("TRIAGE_KNOWLEDGE_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "knowledge"


def load_holder(args) -> KnowledgeHolder:
    try:
        return KnowledgeHolder(args.knowledge)
    except KnowledgeError as exc:
        print(f"error: cannot load knowledge from {args.knowledge}:", file=sys.stderr)
        for p in exc.problems:
            if p.level == "error":
                print(f"  {p}", file=sys.stderr)
        raise SystemExit(2)


def build_service(args, *, watch: bool = False, extra_moderator: tuple[str, str] | None = None) -> Service:
    """Exit with a clear message (never a traceback) when knowledge or config are unusable.

    A store that cannot be opened is not fatal: triage goes on without records, and the
    problem is logged, because answering people matters more than counting them.
    """
    try:
        config = load_config(getattr(args, "config", None))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2)
    if extra_moderator:
        platform, user = extra_moderator
        mods = dict(config.roles.moderators)
        mods[platform] = mods.get(platform, frozenset()) | {user}
        config = Config(**{**config.__dict__, "roles": Roles(mods, config.roles.ethics_leads)})
    holder: KnowledgeHolder = load_holder(args)
    try:
        store = open_store(config.database_url, config.data_dir)
    except StoreError as exc:
        log.error("record store unavailable; triage continues without records", extra={"error": str(exc)})
        print(f"warning: {exc}; continuing without records", file=sys.stderr)
        store = None
    service = Service(holder, store, config)
    if watch:
        holder.watch(on_event=service.report_reload)
    return service
