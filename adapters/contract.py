"""The written contract of a front end, like errbot's `Backend`: what Slack, Discord and the
console each implement, and the platform facts each one declares as data.

A front end stands between one chat platform and the `Service`. It owes the service:

  * an `Incoming` per message, with `Platform.name`, the user's platform roles translated
    into `user_roles`, and `from_us` / `is_bot` / `is_edit` / `is_unfurl` read off the
    payload; what to answer, who may run what and whether to record is the service's call;
  * `Service.handle(incoming, platform.limits)` run off its event loop (the service is
    synchronous);
  * every `Outgoing` rendered in the platform's idiom (`render`): `private` answers reach
    the caller alone, mass mentions are defused (`Platform.defuse`), limits are kept.

Chat front ends run as long-lived processes and also answer `GET /healthz` (`health`,
served by `adapters.health`) and stop cleanly on SIGTERM (`aclose`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from bot.messages import Limits, Outgoing

if TYPE_CHECKING:  # the contract is read by light modules (text rules) that need no service
    from bot.service import Service


@dataclass(frozen=True)
class Platform:
    """One platform's facts, declared once by its adapter and read by the shared code."""

    name: str  # `Incoming.platform` and the key of the config's per-platform settings
    message_chars: int  # the longest plain text the service sends as one message
    # Words that, written after an "@", notify a whole channel ("@everyone"), and the
    # invisible character put after such an "@" so an echoed one notifies nobody.
    mass_mentions: tuple[str, ...] = ()
    mention_breaker: str = ""

    @property
    def limits(self) -> Limits:
        return Limits(message_chars=self.message_chars)

    def defuse(self, text: str) -> str:
        """The text with every mass mention broken, still readable. The bot never echoes a
        working "@everyone": defence in depth on top of each platform's own switches."""
        if not self.mass_mentions:
            return text
        words = "|".join(map(re.escape, self.mass_mentions))
        return re.sub(rf"@({words})\b", "@" + self.mention_breaker + r"\1", text, flags=re.IGNORECASE)


@runtime_checkable
class Adapter(Protocol):
    """Every front end: the console, Slack and Discord."""

    platform: Platform
    service: Service | None

    def render(self, out: Outgoing) -> list[Any]:
        """One answer as the platform's messages (Block Kit payloads, Discord posts, terminal
        lines), without sending anything."""
        ...


@runtime_checkable
class ChatAdapter(Adapter, Protocol):
    """A front end that runs as a service of its own (Slack, Discord)."""

    async def health(self) -> tuple[int, dict]:
        """What `GET /healthz` answers: 200 when ready to answer, else 503, and a report
        fit for a public endpoint (no secrets, hosts or paths)."""
        ...

    async def aclose(self) -> None:
        """Take no new work, let the answers in flight finish, close the connections."""
        ...
