"""Builders for Slack -> app requests, shaped like Slack's documented payloads, and
signed with Slack's v0 HMAC-SHA256 scheme so the *real* bolt app and our own signature
check accept them.

Two layers:

1. Payload builders return plain dicts (easy to tweak in a test):
   :func:`url_verification`, :func:`event_callback` (+ :func:`app_mention_event`,
   :func:`im_message_event`, :func:`channel_message_event`, :func:`bot_message_event`,
   :func:`message_changed_event`), :func:`slash_command`, :func:`message_action`,
   :func:`block_actions`, and :func:`socket_envelope` for Socket Mode.
2. :func:`signed` encodes a payload the way Slack sends it (JSON for Events API,
   ``application/x-www-form-urlencoded`` for slash commands, ``payload=<json>`` form
   for interactivity) and signs it -> :class:`SignedRequest`, which can ``.post(url)``.

Pure stdlib; no network except ``SignedRequest.post`` to the URL you give it.  Cheap
enough to pre-build thousands of requests for a load generator (bench/slack_acks.py).

Signature (https://docs.slack.dev/authentication/verifying-requests-from-slack/):
``X-Slack-Signature = "v0=" + hex(HMAC_SHA256(secret, f"v0:{ts}:{raw_body}"))`` and
``X-Slack-Request-Timestamp = ts``; a request more than 300 s old or early is refused.
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

TEAM_ID = "T1"
APP_ID = "A1"
BOT_USER_ID = "UBOT"
USER_ID = "U123"
CHANNEL_ID = "C123"
DM_CHANNEL_ID = "D123"
VERIFICATION_TOKEN = "deprecated-verification-token"  # Slack still sends it; bolt ignores it
RESPONSE_URL = "https://hooks.slack.com/actions/T1/1/fake"  # tests pass the fake's own

_seq = itertools.count(1)


def _next_ts() -> str:
    return f"{int(time.time())}.{next(_seq):06d}"


def _client_msg_id() -> str:
    return f"00000000-0000-4000-8000-{next(_seq):012d}"


# --------------------------------------------------------------------------------------
# signing & transport
# --------------------------------------------------------------------------------------


def sign(secret: str, body: bytes, ts: Optional[Union[int, str]] = None) -> Dict[str, str]:
    """Slack v0 signature headers for ``body`` (the exact bytes that will be sent)."""
    ts = str(int(time.time()) if ts is None else ts)
    base = f"v0:{ts}:{body.decode('utf-8')}".encode("utf-8")
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
                return Response(r.status, dict(r.headers.items()), r.read(), time.perf_counter() - start)
        except urllib.error.HTTPError as e:
            return Response(e.code, dict(e.headers.items()), e.read(), time.perf_counter() - start)


def _encode(payload: Mapping[str, Any]) -> tuple[bytes, str]:
    """``payload`` as Slack sends it: a slash command as a flat form, an interactive payload
    as ``payload=<json>``, an Events API body as JSON."""
    if "command" in payload and "type" not in payload:
        return urlencode({k: "" if v is None else str(v) for k, v in payload.items()}).encode(), "application/x-www-form-urlencoded"
    if payload.get("type") in ("block_actions", "message_action"):
        return urlencode({"payload": json.dumps(payload, separators=(",", ":"))}).encode(), "application/x-www-form-urlencoded"
    return json.dumps(payload, separators=(",", ":")).encode(), "application/json"


def signed(
    secret: str,
    payload: Union[Mapping[str, Any], bytes],
    *,
    ts: Optional[Union[int, str]] = None,
    retry_num: Optional[int] = None,
    retry_reason: str = "http_timeout",
    bad_signature: bool = False,
) -> SignedRequest:
    """Encode + sign a payload (raw bytes are sent as they are).

    ts: request timestamp (default now); use ``int(time.time()) - 301`` for a stale one.
    retry_num: adds ``X-Slack-Retry-Num`` / ``X-Slack-Retry-Reason`` like an Events API
        redelivery (the body, incl. ``event_id``, is identical to the first delivery).
    bad_signature: sign with a wrong secret (expect HTTP 401).
    """
    if isinstance(payload, bytes):
        body, ctype = payload, "application/json" if payload[:1] == b"{" else "application/x-www-form-urlencoded"
    else:
        body, ctype = _encode(payload)
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


def event_callback(event: Dict[str, Any]) -> Dict[str, Any]:
    """Events API outer envelope (``type: event_callback``). Post the same dict (same
    ``event_id``) again to simulate a retry."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": TEAM_ID,
        "context_team_id": TEAM_ID,
        "context_enterprise_id": None,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": f"Ev{next(_seq):010d}",
        "event_time": int(time.time()),
        "authorizations": [
            {"enterprise_id": None, "team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True, "is_enterprise_install": False}
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-fake-{next(_seq)}",
    }


def _rich_text(text: str) -> List[Dict[str, Any]]:
    section = {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
    return [{"type": "rich_text", "block_id": f"b{next(_seq)}", "elements": [section]}]


def app_mention_event(
    text: str = "what about model evals?", *, user: str = USER_ID, thread_ts: Optional[str] = None, bot_id: Optional[str] = None
) -> Dict[str, Any]:
    """``app_mention`` inner event, ``<@UBOT> `` in front of ``text``. ``bot_id`` makes it
    a mention *posted by another bot*."""
    ts = _next_ts()
    full = f"<@{BOT_USER_ID}> {text}"
    ev: Dict[str, Any] = {
        "type": "app_mention", "user": user, "text": full, "ts": ts, "team": TEAM_ID, "channel": CHANNEL_ID,
        "event_ts": ts, "blocks": _rich_text(full),
    }  # fmt: skip
    if bot_id:
        ev["bot_id"] = bot_id
        ev["bot_profile"] = {"id": bot_id, "name": "other-bot", "app_id": "AOTHER", "team_id": TEAM_ID}
    else:
        ev["client_msg_id"] = _client_msg_id()
    if thread_ts:
        ev["thread_ts"] = thread_ts
    return ev


def im_message_event(text: str = "is this a safety issue?", *, user: str = USER_ID, channel: str = DM_CHANNEL_ID) -> Dict[str, Any]:
    """``message`` event in a DM (``message.im`` subscription => ``channel_type: im``)."""
    ts = _next_ts()
    return {
        "client_msg_id": _client_msg_id(), "type": "message", "text": text, "user": user, "ts": ts,
        "blocks": _rich_text(text), "team": TEAM_ID, "channel": channel, "event_ts": ts, "channel_type": "im",
    }  # fmt: skip


def channel_message_event(text: str = "hello") -> Dict[str, Any]:
    """A plain channel message (``message.channels``): the app does not subscribe to these;
    useful to assert it ignores them if they arrive anyway."""
    return {**im_message_event(text, channel=CHANNEL_ID), "channel_type": "channel"}


def bot_message_event(
    text: str = "automated notice", *, bot_id: str = "BOTHER", user: Optional[str] = "UOTHERBOT", legacy_subtype: bool = False
) -> Dict[str, Any]:
    """A message posted by a bot in a DM.  Modern apps: no subtype, has ``bot_id`` + ``user``
    + ``bot_profile``.  ``legacy_subtype=True``: classic ``subtype: bot_message`` with
    ``username`` and no ``user``.  Pass our own ids (UBOT/BBOT) to simulate our echo."""
    ts = _next_ts()
    ev: Dict[str, Any] = {
        "type": "message", "text": text, "ts": ts, "channel": DM_CHANNEL_ID, "event_ts": ts, "channel_type": "im", "bot_id": bot_id,
    }  # fmt: skip
    if legacy_subtype:
        return {**ev, "subtype": "bot_message", "username": "legacy-bot"}
    if user:
        ev["user"] = user
    profile = {"id": bot_id, "name": "other-bot", "app_id": "AOTHER", "team_id": TEAM_ID, "deleted": False}
    return {**ev, "app_id": "AOTHER", "bot_profile": profile, "blocks": _rich_text(text), "team": TEAM_ID}


def message_changed_event(new_text: str = "edited text", *, unfurl: bool = False) -> Dict[str, Any]:
    """``message`` / ``subtype: message_changed`` in a DM: an edit, or (unfurl=True) Slack
    adding link-unfurl attachments to an existing message."""
    orig_ts, ev_ts = _next_ts(), _next_ts()
    message: Dict[str, Any] = {
        "type": "message", "user": USER_ID, "text": new_text, "ts": orig_ts, "team": TEAM_ID, "client_msg_id": _client_msg_id(),
    }  # fmt: skip
    if unfurl:
        message["attachments"] = [{
            "from_url": "https://example.com/article", "original_url": "https://example.com/article",
            "service_name": "example.com", "title": "An article", "title_link": "https://example.com/article",
            "text": "unfurled preview", "fallback": "example.com: An article", "id": 1,
        }]  # fmt: skip
    else:
        message["edited"] = {"user": USER_ID, "ts": ev_ts}
    return {
        "type": "message", "subtype": "message_changed", "message": message,
        "previous_message": {"type": "message", "user": USER_ID, "text": "original text", "ts": orig_ts, "team": TEAM_ID},
        "channel": DM_CHANNEL_ID, "hidden": True, "ts": ev_ts, "event_ts": ev_ts, "channel_type": "im",
    }  # fmt: skip


# --------------------------------------------------------------------------------------
# slash commands & interactivity
# --------------------------------------------------------------------------------------


def _trigger_id() -> str:
    return f"{next(_seq)}.{next(_seq)}.fakeTrigger"


def slash_command(
    text: str = "is RLHF reward hacking a safety problem?", *, response_url: str = RESPONSE_URL, user_id: str = USER_ID
) -> Dict[str, str]:
    """Slash command fields (sent form-encoded, flat key=value)."""
    return {
        "token": VERIFICATION_TOKEN, "team_id": TEAM_ID, "team_domain": "fake-workspace", "channel_id": CHANNEL_ID,
        "channel_name": "general", "user_id": user_id, "user_name": user_id.lower(), "command": "/triage", "text": text,
        "api_app_id": APP_ID, "is_enterprise_install": "false", "response_url": response_url, "trigger_id": _trigger_id(),
    }  # fmt: skip


def _interactive(kind: str, user_id: str, response_url: str, **fields: Any) -> Dict[str, Any]:
    """What every interactivity payload carries (sent as ``payload=<json>``): who acted,
    in which workspace and channel, and the response_url to answer through."""
    return {
        "type": kind,
        "token": VERIFICATION_TOKEN,
        "user": {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": TEAM_ID},
        "team": {"id": TEAM_ID, "domain": "fake-workspace"},
        "channel": {"id": CHANNEL_ID, "name": "general"},
        "enterprise": None,
        "is_enterprise_install": False,
        "trigger_id": _trigger_id(),
        "response_url": response_url,
        **fields,
    }


def message_action(
    message_text: str = "our model hallucinates citations", *, message_user: str = "U456", response_url: str = RESPONSE_URL,
    thread_ts: Optional[str] = None,
) -> Dict[str, Any]:
    """Message shortcut (``type: message_action``) used by USER_ID on a message by
    ``message_user``."""
    message_ts = _next_ts()
    msg: Dict[str, Any] = {
        "type": "message", "user": message_user, "ts": message_ts, "text": message_text, "team": TEAM_ID,
        "client_msg_id": _client_msg_id(), "blocks": _rich_text(message_text),
    }  # fmt: skip
    if thread_ts:
        msg["thread_ts"] = thread_ts
    return _interactive("message_action", USER_ID, response_url, callback_id="triage_message", action_ts=_next_ts(),
                        message_ts=message_ts, message=msg)  # fmt: skip


def block_actions(
    action_id: str, value: str, *, block_id: str = "feedback", response_url: str = RESPONSE_URL, user_id: str = USER_ID,
    ephemeral: bool = False, message: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    """A button click (``type: block_actions``).

    ephemeral=True models a click on an *ephemeral* message: ``container.is_ephemeral``
    is true and Slack omits ``message``; chat.update is impossible there, only
    ``response_url`` (``replace_original``) works. Otherwise ``message`` is the clicked
    message (by default a bot message holding just this button).
    """
    message_ts = _next_ts()
    text = {"type": "plain_text", "text": "button", "emoji": True}
    action = {"action_id": action_id, "block_id": block_id, "text": text, "value": value, "type": "button", "action_ts": _next_ts()}
    payload = _interactive(
        "block_actions", user_id, response_url, api_app_id=APP_ID, state={"values": {}}, actions=[action],
        container={"type": "message", "message_ts": message_ts, "channel_id": CHANNEL_ID, "is_ephemeral": ephemeral},
    )  # fmt: skip
    if not ephemeral:
        button = {"type": "button", "action_id": action_id, "text": text, "value": value}
        payload["message"] = message or {
            "type": "message", "subtype": "bot_message", "text": "triage result", "ts": message_ts, "bot_id": "BBOT",
            "user": BOT_USER_ID, "blocks": [
                {"type": "section", "block_id": "verdict", "text": {"type": "mrkdwn", "text": "triage result"}},
                {"type": "actions", "block_id": block_id, "elements": [button]},
            ],
        }  # fmt: skip
    return payload


# --------------------------------------------------------------------------------------
# Socket Mode
# --------------------------------------------------------------------------------------


def socket_envelope(
    payload: Dict[str, Any], *, envelope_id: Optional[str] = None, retry_attempt: Optional[int] = None, retry_reason: str = ""
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
