"""Builders for Slack -> app requests, shaped like Slack's documented payloads, and
signed with Slack's v0 HMAC-SHA256 scheme so the *real* bolt RequestVerification
middleware accepts them.

Two layers:

1. Payload builders return plain dicts (easy to tweak in a test):
   :func:`url_verification`, :func:`event_callback` (+ :func:`app_mention_event`,
   :func:`im_message_event`, :func:`bot_message_event`, :func:`message_changed_event`),
   :func:`slash_command`, :func:`message_action`, :func:`block_actions`.
2. :func:`signed` encodes a payload the way Slack sends it (JSON for Events API,
   ``application/x-www-form-urlencoded`` for slash commands, ``payload=<json>`` form
   for interactivity) and signs it -> :class:`SignedRequest`, which can ``.post(url)``.

Pure stdlib; no network except ``SignedRequest.post`` to the URL you give it.  Cheap
enough to pre-build thousands of requests for a load generator.

Signature (https://docs.slack.dev/authentication/verifying-requests-from-slack/):
``X-Slack-Signature = "v0=" + hex(HMAC_SHA256(secret, f"v0:{ts}:{raw_body}"))`` and
``X-Slack-Request-Timestamp = ts``; bolt rejects |now - ts| > 300 s with HTTP 401.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Union
from urllib.parse import urlencode

__all__ = [
    "sign",
    "SignedRequest",
    "Response",
    "signed",
    "encode",
    "url_verification",
    "event_callback",
    "app_mention_event",
    "im_message_event",
    "channel_message_event",
    "bot_message_event",
    "message_changed_event",
    "slash_command",
    "message_action",
    "block_actions",
    "socket_envelope",
]

TEAM_ID = "T1"
APP_ID = "A1"
BOT_USER_ID = "UBOT"
USER_ID = "U123"
CHANNEL_ID = "C123"
DM_CHANNEL_ID = "D123"
VERIFICATION_TOKEN = "deprecated-verification-token"  # Slack still sends it; bolt ignores it

_seq = itertools.count(1)

INTERACTIVE_TYPES = {
    "block_actions",
    "message_action",
    "shortcut",
    "view_submission",
    "view_closed",
    "interactive_message",
    "block_suggestion",
    "dialog_submission",
}


def _next_ts() -> str:
    return f"{int(time.time())}.{next(_seq):06d}"


# --------------------------------------------------------------------------------------
# signing & transport
# --------------------------------------------------------------------------------------


def sign(secret: str, body: Union[str, bytes], ts: Optional[Union[int, str]] = None) -> Dict[str, str]:
    """Slack v0 signature headers for ``body`` (the exact bytes that will be sent)."""
    if ts is None:
        ts = int(time.time())
    ts = str(ts)
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    base = f"v0:{ts}:{body}".encode("utf-8")
    digest = hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


@dataclass
class Response:
    status: int
    headers: Dict[str, str]
    body: bytes
    elapsed: float

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else None


@dataclass
class SignedRequest:
    body: bytes
    headers: Dict[str, str] = field(default_factory=dict)

    def post(self, url: str, timeout: float = 5.0) -> Response:
        """POST with urllib (no proxy); HTTP errors are returned, not raised."""
        req = urllib.request.Request(url, data=self.body, headers=self.headers, method="POST")
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        start = time.perf_counter()
        try:
            with opener.open(req, timeout=timeout) as r:
                body = r.read()
                return Response(r.status, dict(r.headers.items()), body, time.perf_counter() - start)
        except urllib.error.HTTPError as e:
            body = e.read()
            return Response(e.code, dict(e.headers.items()), body, time.perf_counter() - start)

    def with_headers(self, **headers: str) -> "SignedRequest":
        h = dict(self.headers)
        h.update(headers)
        return SignedRequest(self.body, h)


def encode(payload: Mapping[str, Any], kind: str = "auto") -> tuple:
    """Encode ``payload`` as Slack would. Returns ``(body_bytes, content_type)``.

    kind: ``"json"`` (Events API), ``"form"`` (slash commands), ``"interactive"``
    (``payload=<json>`` form for block_actions / shortcuts / views), or ``"auto"``.
    """
    if kind == "auto":
        if "command" in payload and "response_url" in payload and "type" not in payload:
            kind = "form"
        elif payload.get("type") in INTERACTIVE_TYPES:
            kind = "interactive"
        else:
            kind = "json"
    if kind == "json":
        return json.dumps(payload, separators=(",", ":")).encode("utf-8"), "application/json"
    if kind == "form":
        return urlencode({k: ("" if v is None else str(v)) for k, v in payload.items()}).encode("utf-8"), (
            "application/x-www-form-urlencoded"
        )
    if kind == "interactive":
        return urlencode({"payload": json.dumps(payload, separators=(",", ":"))}).encode("utf-8"), (
            "application/x-www-form-urlencoded"
        )
    raise ValueError(f"unknown kind {kind!r}")


def signed(
    secret: str,
    payload: Union[Mapping[str, Any], str, bytes],
    *,
    kind: str = "auto",
    ts: Optional[Union[int, str]] = None,
    retry_num: Optional[int] = None,
    retry_reason: str = "http_timeout",
    bad_signature: bool = False,
    content_type: Optional[str] = None,
) -> SignedRequest:
    """Encode + sign a payload.

    ts: request timestamp (default now); use ``int(time.time()) - 301`` for a stale one.
    retry_num: adds ``X-Slack-Retry-Num`` / ``X-Slack-Retry-Reason`` like an Events API
        redelivery (the body, incl. ``event_id``, is identical to the first delivery).
    bad_signature: sign with a wrong secret (expect HTTP 401).
    """
    if isinstance(payload, (str, bytes)):
        body = payload.encode("utf-8") if isinstance(payload, str) else payload
        ctype = content_type or ("application/json" if body[:1] == b"{" else "application/x-www-form-urlencoded")
    else:
        body, ctype = encode(payload, kind)
        ctype = content_type or ctype
    headers = {"Content-Type": ctype, "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)"}
    headers.update(sign(secret + "-WRONG" if bad_signature else secret, body, ts))
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = retry_reason
    return SignedRequest(body, headers)


# --------------------------------------------------------------------------------------
# Events API
# --------------------------------------------------------------------------------------


def url_verification(challenge: str = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P") -> Dict[str, Any]:
    return {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}


def event_callback(
    event: Dict[str, Any],
    *,
    event_id: Optional[str] = None,
    team_id: str = TEAM_ID,
    api_app_id: str = APP_ID,
    bot_user_id: str = BOT_USER_ID,
    event_time: Optional[int] = None,
) -> Dict[str, Any]:
    """Events API outer envelope (``type: event_callback``). Reuse the same dict (same
    ``event_id``) to simulate a retry."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "context_team_id": team_id,
        "context_enterprise_id": None,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_seq):010d}",
        "event_time": event_time or int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-fake-{next(_seq)}",
    }


def _rich_text(text: str) -> List[Dict[str, Any]]:
    return [
        {
            "type": "rich_text",
            "block_id": f"b{next(_seq)}",
            "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}],
        }
    ]


def app_mention_event(
    text: str = "what about model evals?",
    *,
    user: str = USER_ID,
    channel: str = CHANNEL_ID,
    ts: Optional[str] = None,
    thread_ts: Optional[str] = None,
    bot_user_id: str = BOT_USER_ID,
    team: str = TEAM_ID,
    mention_prefix: bool = True,
    bot_id: Optional[str] = None,
) -> Dict[str, Any]:
    """``app_mention`` inner event. ``text`` gets ``<@UBOT> `` prepended unless
    mention_prefix=False.  ``bot_id`` makes it a mention *posted by another bot*."""
    ts = ts or _next_ts()
    full = f"<@{bot_user_id}> {text}" if mention_prefix else text
    ev: Dict[str, Any] = {
        "type": "app_mention",
        "user": user,
        "text": full,
        "ts": ts,
        "team": team,
        "channel": channel,
        "event_ts": ts,
        "blocks": _rich_text(full),
    }
    if bot_id:
        ev["bot_id"] = bot_id
        ev["bot_profile"] = {"id": bot_id, "name": "other-bot", "app_id": "AOTHER", "team_id": team}
    else:
        ev["client_msg_id"] = f"00000000-0000-4000-8000-{next(_seq):012d}"
    if thread_ts:
        ev["thread_ts"] = thread_ts
    return ev


def im_message_event(
    text: str = "is this a safety issue?",
    *,
    user: str = USER_ID,
    channel: str = DM_CHANNEL_ID,
    ts: Optional[str] = None,
    thread_ts: Optional[str] = None,
    team: str = TEAM_ID,
) -> Dict[str, Any]:
    """``message`` event in a DM (``message.im`` subscription => ``channel_type: im``)."""
    ts = ts or _next_ts()
    ev: Dict[str, Any] = {
        "client_msg_id": f"00000000-0000-4000-8000-{next(_seq):012d}",
        "type": "message",
        "text": text,
        "user": user,
        "ts": ts,
        "blocks": _rich_text(text),
        "team": team,
        "channel": channel,
        "event_ts": ts,
        "channel_type": "im",
    }
    if thread_ts:
        ev["thread_ts"] = thread_ts
    return ev


def channel_message_event(text: str = "hello", *, channel: str = CHANNEL_ID, **kw: Any) -> Dict[str, Any]:
    """A plain channel message (``message.channels``) -- the app should NOT subscribe to
    these; useful to assert it ignores them if they arrive anyway."""
    ev = im_message_event(text, channel=channel, **kw)
    ev["channel_type"] = "channel"
    return ev


def bot_message_event(
    text: str = "automated notice",
    *,
    bot_id: str = "BOTHER",
    user: Optional[str] = "UOTHERBOT",
    channel: str = DM_CHANNEL_ID,
    channel_type: str = "im",
    legacy_subtype: bool = False,
    ts: Optional[str] = None,
) -> Dict[str, Any]:
    """A message posted by a bot.  Modern apps: no subtype, has ``bot_id`` + ``user`` +
    ``bot_profile``.  ``legacy_subtype=True``: classic ``subtype: bot_message`` with
    ``username`` and no ``user``.  Pass our own ids (UBOT/BBOT) to simulate our echo."""
    ts = ts or _next_ts()
    ev: Dict[str, Any] = {
        "type": "message",
        "text": text,
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
        "channel_type": channel_type,
        "bot_id": bot_id,
    }
    if legacy_subtype:
        ev["subtype"] = "bot_message"
        ev["username"] = "legacy-bot"
    else:
        if user:
            ev["user"] = user
        ev["app_id"] = "AOTHER"
        ev["bot_profile"] = {"id": bot_id, "name": "other-bot", "app_id": "AOTHER", "team_id": TEAM_ID, "deleted": False}
        ev["blocks"] = _rich_text(text)
        ev["team"] = TEAM_ID
    return ev


def message_changed_event(
    new_text: str = "edited text",
    *,
    old_text: str = "original text",
    user: str = USER_ID,
    channel: str = DM_CHANNEL_ID,
    channel_type: str = "im",
    unfurl: bool = False,
) -> Dict[str, Any]:
    """``message`` / ``subtype: message_changed`` (an edit, or -- with unfurl=True --
    Slack adding link-unfurl attachments to an existing message)."""
    orig_ts = _next_ts()
    ev_ts = _next_ts()
    message: Dict[str, Any] = {
        "type": "message",
        "user": user,
        "text": new_text,
        "ts": orig_ts,
        "team": TEAM_ID,
        "client_msg_id": f"00000000-0000-4000-8000-{next(_seq):012d}",
    }
    if unfurl:
        message["attachments"] = [
            {
                "from_url": "https://example.com/article",
                "original_url": "https://example.com/article",
                "service_name": "example.com",
                "title": "An article",
                "title_link": "https://example.com/article",
                "text": "unfurled preview",
                "fallback": "example.com: An article",
                "id": 1,
            }
        ]
    else:
        message["edited"] = {"user": user, "ts": ev_ts}
    return {
        "type": "message",
        "subtype": "message_changed",
        "message": message,
        "previous_message": {"type": "message", "user": user, "text": old_text, "ts": orig_ts, "team": TEAM_ID},
        "channel": channel,
        "hidden": True,
        "ts": ev_ts,
        "event_ts": ev_ts,
        "channel_type": channel_type,
    }


# --------------------------------------------------------------------------------------
# slash commands & interactivity
# --------------------------------------------------------------------------------------


def slash_command(
    text: str = "is RLHF reward hacking a safety problem?",
    *,
    command: str = "/triage",
    response_url: str = "https://hooks.slack.com/commands/T1/1/fake",
    user_id: str = USER_ID,
    channel_id: str = CHANNEL_ID,
    channel_name: str = "general",
    team_id: str = TEAM_ID,
    api_app_id: str = APP_ID,
) -> Dict[str, str]:
    """Slash command fields (sent form-encoded, flat key=value)."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": "fake-workspace",
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": f"{next(_seq)}.{next(_seq)}.fakeTrigger",
    }


def message_action(
    message_text: str = "our model hallucinates citations",
    *,
    callback_id: str = "triage_message",
    response_url: str = "https://hooks.slack.com/app/T1/1/fake",
    user_id: str = USER_ID,
    channel_id: str = CHANNEL_ID,
    message_user: str = "U456",
    message_ts: Optional[str] = None,
    thread_ts: Optional[str] = None,
    team_id: str = TEAM_ID,
) -> Dict[str, Any]:
    """Message shortcut (``type: message_action``), sent as ``payload=<json>``."""
    message_ts = message_ts or _next_ts()
    msg: Dict[str, Any] = {
        "type": "message",
        "user": message_user,
        "ts": message_ts,
        "text": message_text,
        "team": team_id,
        "client_msg_id": f"00000000-0000-4000-8000-{next(_seq):012d}",
        "blocks": _rich_text(message_text),
    }
    if thread_ts:
        msg["thread_ts"] = thread_ts
    return {
        "type": "message_action",
        "token": VERIFICATION_TOKEN,
        "action_ts": _next_ts(),
        "team": {"id": team_id, "domain": "fake-workspace"},
        "user": {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": team_id},
        "channel": {"id": channel_id, "name": "general"},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": f"{next(_seq)}.{next(_seq)}.fakeTrigger",
        "response_url": response_url,
        "message_ts": message_ts,
        "message": msg,
    }


def block_actions(
    action_id: str = "triage_feedback_up",
    value: str = "up",
    *,
    block_id: str = "feedback",
    response_url: str = "https://hooks.slack.com/actions/T1/1/fake",
    user_id: str = USER_ID,
    channel_id: str = CHANNEL_ID,
    message_ts: Optional[str] = None,
    ephemeral: bool = False,
    message: Optional[Dict[str, Any]] = None,
    button_text: str = ":+1:",
    team_id: str = TEAM_ID,
    api_app_id: str = APP_ID,
) -> Dict[str, Any]:
    """Button click (``type: block_actions``), sent as ``payload=<json>``.

    ephemeral=True models a click on an *ephemeral* message: ``container.is_ephemeral``
    is true and Slack omits ``message`` -- chat.update is impossible there, only
    ``response_url`` (``replace_original``) works.
    """
    message_ts = message_ts or _next_ts()
    action_ts = _next_ts()
    payload: Dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": team_id},
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": ephemeral,
        },
        "trigger_id": f"{next(_seq)}.{next(_seq)}.fakeTrigger",
        "team": {"id": team_id, "domain": "fake-workspace"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": "general"},
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": block_id,
                "text": {"type": "plain_text", "text": button_text, "emoji": True},
                "value": value,
                "type": "button",
                "action_ts": action_ts,
            }
        ],
    }
    if not ephemeral:
        payload["message"] = message or {
            "type": "message",
            "subtype": "bot_message",
            "text": "triage result",
            "ts": message_ts,
            "bot_id": "BBOT",
            "user": BOT_USER_ID,
            "blocks": [
                {"type": "section", "block_id": "verdict", "text": {"type": "mrkdwn", "text": "triage result"}},
                {
                    "type": "actions",
                    "block_id": block_id,
                    "elements": [
                        {
                            "type": "button",
                            "action_id": action_id,
                            "text": {"type": "plain_text", "text": button_text, "emoji": True},
                            "value": value,
                        }
                    ],
                },
            ],
        }
    return payload


# --------------------------------------------------------------------------------------
# Socket Mode
# --------------------------------------------------------------------------------------


def socket_envelope(
    payload: Dict[str, Any],
    *,
    envelope_id: Optional[str] = None,
    retry_attempt: Optional[int] = None,
    retry_reason: str = "",
) -> Dict[str, Any]:
    """Wrap a payload in a Socket Mode envelope (type inferred from the payload).
    Events carry ``retry_attempt``/``retry_reason`` (bolt maps them to the
    X-Slack-Retry-* headers); commands/interactive accept a response payload."""
    if payload.get("type") == "event_callback":
        etype = "events_api"
    elif "command" in payload and "type" not in payload:
        etype = "slash_commands"
    else:
        etype = "interactive"
    env: Dict[str, Any] = {
        "envelope_id": envelope_id or f"env-{next(_seq)}",
        "payload": payload,
        "type": etype,
        "accepts_response_payload": etype != "events_api",
    }
    if etype == "events_api":
        env["retry_attempt"] = retry_attempt or 0
        env["retry_reason"] = retry_reason
    return env
