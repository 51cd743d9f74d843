"""Who may run which command: the role policy, stated once for every platform.

Moderator commands are for moderators. Stats are open until ethics leads are configured for
a platform; then they are for ethics leads and moderators (they show what the organisation
is worried about). A front end only supplies the roles its platform knows for a user
(`Incoming.user_roles`); it never decides who may do what.
"""
from __future__ import annotations

from .commands import MODERATOR_COMMANDS
from .config import Roles

_REFUSED = ("Sorry, `{command}` is for moderators only. If you think you should have it, ask an admin to add you "
            "to the moderators in the bot's config.")
_REFUSALS = {"stats": "Sorry, stats are for ethics leads and moderators here. Ask an admin if you need them."}


def granted_to(roles: Roles, platform: str, command: str) -> frozenset[str] | None:
    """The user and role ids that may run `command` on `platform`; None: everyone may."""
    moderators = roles.moderators.get(platform, frozenset())
    if command in MODERATOR_COMMANDS:
        return moderators
    if command == "stats" and roles.ethics_leads.get(platform):
        return roles.ethics_leads[platform] | moderators
    return None


def allows(roles: Roles, platform: str, user: str, user_roles: frozenset[str], command: str) -> bool:
    granted = granted_to(roles, platform, command)
    return granted is None or user in granted or bool(granted & user_roles)


def rating_granted_to(roles: Roles, platform: str) -> frozenset[str]:
    """The user and role ids that may rate any triage (the moderators); askers rate their own."""
    return roles.moderators.get(platform, frozenset())


def may_rate_any(roles: Roles, platform: str, user: str, user_roles: frozenset[str]) -> bool:
    """A rating button sits under answers others can see: the asker rates their own triage,
    moderators any (ratings steer the knowledge)."""
    return roles.is_moderator(platform, user, user_roles)


def refusal(command: str) -> str:
    return _REFUSALS.get(command, _REFUSED).format(command=command)
