"""Build a ready Service from command-line arguments: knowledge, config and store.

Every front end starts the same way, so the console, Slack and Discord share this.
"""
from __future__ import annotations

import logging
import sys

from .config import Config, ConfigError, Roles, load_config
from .reload import KnowledgeHolder
from .service import Service
from .store import StoreError, open_store

log = logging.getLogger("bot.wiring")


def build_service(args, *, watch: bool = False, extra_moderator: tuple[str, str] | None = None) -> Service:
    """Exit with a clear message (never a traceback) when knowledge or config are unusable.

    A store that cannot be opened is not fatal: triage goes on without records, and the
    problem is logged, because answering people matters more than counting them.
    """
    from .cli import load_holder

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
