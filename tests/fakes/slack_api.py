"""Offline fake of the Slack Web API (+ response_url hooks, file upload URLs and a
Socket Mode WebSocket endpoint) for testing the Slack adapter without the network.

Design
------
* One aiohttp server on 127.0.0.1:<ephemeral port>, running in its own thread with
  its own event loop, so it can be used from plain synchronous pytest tests *and*
  from code under test that runs its own asyncio loop (bolt AsyncApp, SocketMode).
* ``base_url`` (``http://127.0.0.1:PORT/api/``) is what the adapter must receive via
  ``SLACK_API_URL``; the slack_sdk client appends the method name
  (``.../api/chat.postMessage``), exactly like ``https://slack.com/api/``.
* Every request is recorded as a :class:`Call` (method, parsed params, headers with
  secrets redacted).  ``calls()`` / ``wait_for()`` read them.
* Responses look like Slack's (``{"ok": true, ...}``), with light validation that
  catches adapter bugs early: missing channel / text, Block Kit limits
  (see :func:`block_kit_problems`), missing or malformed tokens.
* Failure injection: :meth:`FakeSlackAPI.enqueue` (one-shot, e.g. a 429 with
  ``Retry-After``), :meth:`FakeSlackAPI.set_response` (sticky) and
  :meth:`FakeSlackAPI.set_latency` (slow API).
* ``response_url(key)`` gives a URL that records what bolt's ``respond()`` posts.
* ``apps.connections.open`` returns ``ws://127.0.0.1:PORT/socket-mode/...``; the fake
  sends Slack's ``hello`` and lets a test push envelopes with :meth:`socket_send`
  and collect the app's acknowledgements (``method == "socket_mode.ack"``).

Nothing here needs network access or real credentials.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Union
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

__all__ = [
    "Call",
    "FakeSlackAPI",
    "LoopbackServer",
    "BackgroundLoop",
    "block_kit_problems",
    "message_texts",
    "BOT_USER_ID",
    "BOT_ID",
    "TEAM_ID",
    "APP_ID",
]

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
TEAM_ID = "T1"
APP_ID = "A1"

# Headers whose values must never be stored verbatim.
_SECRET_HEADERS = {"authorization", "cookie", "x-slack-signature"}
_SECRET_PARAMS = {"token", "client_secret", "refresh_token", "code"}


class _StartStop:
    """A with-block runs start() on entry (its result is the `as` value) and stop() on exit."""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


# --------------------------------------------------------------------------------------
# generic "serve an aiohttp Application on loopback in a background thread" helper
# --------------------------------------------------------------------------------------


class LoopbackServer(_StartStop):
    """Serve an ``aiohttp.web.Application`` on ``127.0.0.1:<free port>`` in a thread.

    Used for the fake Slack API itself, and handy for serving the *app under test*
    (bolt ``AsyncApp`` wrapped in an aiohttp app) from synchronous tests::

        srv = LoopbackServer(lambda: build_web_app()).start()
        srv.url("/slack/events")
        srv.call(some_coroutine())   # run a coroutine on the server's loop
        srv.stop()

    ``app`` may be an Application or a zero-arg factory; a factory is invoked on the
    server's own loop, so objects that bind to "the running loop" at construction
    (aiohttp ClientSession, asyncio.Lock in older code...) end up on the right loop.
    """

    def __init__(
        self,
        app: Union[web.Application, Callable[[], web.Application]],
        host: str = "127.0.0.1",
        port: int = 0,
        shutdown_timeout: float = 2.0,
    ) -> None:
        self._app_or_factory = app
        self.host = host
        self._requested_port = port
        self._shutdown_timeout = shutdown_timeout
        self.port: Optional[int] = None
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._runner: Optional[web.AppRunner] = None
        self._ready = threading.Event()
        self._startup_error: Optional[BaseException] = None

    # -- lifecycle -----------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> "LoopbackServer":
        self._thread = threading.Thread(target=self._thread_main, name="loopback-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("loopback server did not start in time")
        if self._startup_error is not None:
            raise RuntimeError("loopback server failed to start") from self._startup_error
        return self

    def _thread_main(self) -> None:
        loop = asyncio.new_event_loop()
        self.loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._start_site())
        except BaseException as e:  # pragma: no cover - surfaced by start()
            self._startup_error = e
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            try:
                pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
                for t in pending:
                    t.cancel()
                if pending:
                    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()

    async def _start_site(self) -> None:
        app = self._app_or_factory
        if not isinstance(app, web.Application):
            app = app()
            if asyncio.iscoroutine(app):
                app = await app
        self.app = app
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=self._shutdown_timeout)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self._requested_port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    def stop(self, timeout: float = 10.0) -> None:
        if self.loop is None or self._thread is None:
            return
        if self._runner is not None and self.loop.is_running():
            fut = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self.loop)
            try:
                fut.result(timeout)
            except Exception:
                pass
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)
        self._thread = None

    # -- helpers -------------------------------------------------------------------

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        if not path.startswith("/"):
            path = "/" + path
        return self.origin + path

    def call(self, coro: Any, timeout: float = 10.0) -> Any:
        """Run a coroutine on the server loop from another thread and return its result."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)


class BackgroundLoop(_StartStop):
    """An asyncio loop running in a daemon thread, for code under test that needs a
    long-lived loop (e.g. bolt's AsyncSocketModeHandler) while the test stays sync::

        with BackgroundLoop() as bg:
            handler = bg.call(make_handler())      # constructed on the loop
            bg.call(handler.connect_async())
            ...
            bg.call(handler.close_async())
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="background-loop", daemon=True)

    def start(self) -> "BackgroundLoop":
        self._thread.start()
        return self

    def call(self, coro: Any, timeout: float = 10.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        async def _cancel_rest() -> None:
            me = asyncio.current_task()
            rest = [t for t in asyncio.all_tasks() if t is not me and not t.done()]
            for t in rest:
                t.cancel()
            await asyncio.gather(*rest, return_exceptions=True)

        if self.loop.is_running():
            try:
                self.call(_cancel_rest(), timeout)
            except Exception:
                pass
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout)
        if not self.loop.is_running():
            self.loop.close()


# --------------------------------------------------------------------------------------
# recorded calls
# --------------------------------------------------------------------------------------


@dataclass
class Call:
    """One request received by the fake.

    ``method`` is the Web API method (``"chat.postMessage"``), or ``"response_url"``
    for posts to a response_url, ``"upload"`` for file bytes sent to an upload URL,
    ``"socket_mode.ack"`` for a Socket Mode acknowledgement sent by the app.
    ``params`` merges query string, form fields and JSON body (JSON wins).
    ``key`` is the response_url / upload id.  Secrets are redacted.
    """

    method: str
    http_method: str
    path: str
    params: Dict[str, Any]
    headers: Dict[str, str]
    token_type: Optional[str]  # "bot" (xoxb), "user" (xoxp), "app" (xapp), other/None
    is_json: bool
    key: Optional[str] = None
    body: bytes = b""
    at: float = field(default_factory=time.monotonic)
    problems: List[str] = field(default_factory=list)
    status: int = 200
    response: Any = None

    def __getitem__(self, item: str) -> Any:
        return self.params[item]

    def get(self, item: str, default: Any = None) -> Any:
        return self.params.get(item, default)

    @property
    def text(self) -> Optional[str]:
        return self.params.get("text")

    @property
    def blocks(self) -> List[dict]:
        blocks = self.params.get("blocks") or []
        if isinstance(blocks, str):
            try:
                blocks = json.loads(blocks)
            except ValueError:
                return []
        return blocks

def _token_type(token: Optional[str]) -> Optional[str]:
    if not token:
        return None
    for prefix, kind in (("xoxb-", "bot"), ("xoxp-", "user"), ("xapp-", "app"), ("xoxe", "refresh")):
        if token.startswith(prefix):
            return kind
    return "other"


def _redact_headers(headers: Any) -> Dict[str, str]:
    out: Dict[str, str] = {}
    for k, v in headers.items():
        if k.lower() in _SECRET_HEADERS:
            if k.lower() == "authorization" and v.startswith("Bearer "):
                kind = _token_type(v[len("Bearer ") :])
                out[k] = f"Bearer <redacted {kind} token>"
            else:
                out[k] = "<redacted>"
        else:
            out[k] = v
    return out


# --------------------------------------------------------------------------------------
# Block Kit / message linting (mirrors limits documented by Slack)
# --------------------------------------------------------------------------------------

MAX_BLOCKS_PER_MESSAGE = 50
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ID_LENGTH = 255  # action_id / block_id
MAX_MESSAGE_TEXT = 40000  # chat.postMessage truncates top-level text beyond this


def _text_of(obj: Any) -> str:
    if isinstance(obj, dict):
        return str(obj.get("text", ""))
    if isinstance(obj, str):
        return obj
    return ""


def block_kit_problems(message: Dict[str, Any]) -> List[str]:
    """Return human-readable problems for a chat.* / response_url message payload.

    Hard errors (Slack answers ``invalid_blocks``) start with ``"invalid_blocks:"``;
    soft issues start with ``"warning:"`` (e.g. blocks without a top-level ``text``
    fallback, which Slack accepts but the adapter is required to always send).
    """
    problems: List[str] = []
    blocks = message.get("blocks")
    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks)
        except ValueError:
            return ["invalid_blocks: blocks is not valid JSON"]
    text = message.get("text")
    if blocks:
        if not isinstance(blocks, list):
            return ["invalid_blocks: blocks must be an array"]
        if len(blocks) > MAX_BLOCKS_PER_MESSAGE:
            problems.append(f"invalid_blocks: {len(blocks)} blocks > {MAX_BLOCKS_PER_MESSAGE}")
        if not text:
            problems.append("warning: blocks without top-level text fallback")
        for i, b in enumerate(blocks):
            if not isinstance(b, dict) or "type" not in b:
                problems.append(f"invalid_blocks: block {i} has no type")
                continue
            bid = b.get("block_id")
            if bid is not None and len(str(bid)) > MAX_ID_LENGTH:
                problems.append(f"invalid_blocks: block {i} block_id too long")
            t = b["type"]
            if t == "section":
                st = _text_of(b.get("text"))
                if len(st) > MAX_SECTION_TEXT:
                    problems.append(f"invalid_blocks: section {i} text {len(st)} > {MAX_SECTION_TEXT}")
                fields = b.get("fields") or []
                if len(fields) > MAX_SECTION_FIELDS:
                    problems.append(f"invalid_blocks: section {i} has {len(fields)} fields > {MAX_SECTION_FIELDS}")
                for f in fields:
                    if len(_text_of(f)) > MAX_FIELD_TEXT:
                        problems.append(f"invalid_blocks: section {i} field text > {MAX_FIELD_TEXT}")
                if not st and not fields:
                    problems.append(f"invalid_blocks: section {i} needs text or fields")
            elif t == "header":
                ht = _text_of(b.get("text"))
                if len(ht) > MAX_HEADER_TEXT:
                    problems.append(f"invalid_blocks: header {i} text {len(ht)} > {MAX_HEADER_TEXT}")
                if isinstance(b.get("text"), dict) and b["text"].get("type") != "plain_text":
                    problems.append(f"invalid_blocks: header {i} text must be plain_text")
            elif t == "context":
                els = b.get("elements") or []
                if len(els) > MAX_CONTEXT_ELEMENTS:
                    problems.append(f"invalid_blocks: context {i} has {len(els)} elements > {MAX_CONTEXT_ELEMENTS}")
            elif t == "actions":
                els = b.get("elements") or []
                if len(els) > MAX_ACTIONS_ELEMENTS:
                    problems.append(f"invalid_blocks: actions {i} has {len(els)} elements > {MAX_ACTIONS_ELEMENTS}")
                for e in els:
                    if not isinstance(e, dict):
                        continue
                    if e.get("type") == "button":
                        if len(_text_of(e.get("text"))) > MAX_BUTTON_TEXT:
                            problems.append(f"invalid_blocks: button text > {MAX_BUTTON_TEXT} in block {i}")
                        if len(str(e.get("value", ""))) > MAX_BUTTON_VALUE:
                            problems.append(f"invalid_blocks: button value > {MAX_BUTTON_VALUE} in block {i}")
                    if len(str(e.get("action_id", ""))) > MAX_ID_LENGTH:
                        problems.append(f"invalid_blocks: action_id too long in block {i}")
    if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
        problems.append(f"warning: text {len(text)} chars > {MAX_MESSAGE_TEXT} (Slack truncates)")
    return problems


def message_texts(message: Dict[str, Any]) -> List[str]:
    """Every user-visible string in a message payload (text, blocks, attachments).

    Useful for safety assertions, e.g. that no ``<!channel>`` / ``<!here>`` /
    ``<!everyone>`` / ``<@U...>`` reached Slack unescaped.
    """
    out: List[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k in ("text", "fallback", "pretext", "title", "value") and isinstance(v, str):
                    out.append(v)
                else:
                    walk(v)
        elif isinstance(node, list):
            for x in node:
                walk(x)

    if isinstance(message.get("text"), str):
        out.append(message["text"])
    for key in ("blocks", "attachments"):
        v = message.get(key)
        if isinstance(v, str):
            try:
                v = json.loads(v)
            except ValueError:
                continue
        walk(v)
    return out


# --------------------------------------------------------------------------------------
# the fake
# --------------------------------------------------------------------------------------


@dataclass
class _Canned:
    body: Any
    status: int = 200
    headers: Dict[str, str] = field(default_factory=dict)


class FakeSlackAPI(_StartStop):
    """A local fake Slack Web API.  Use as a context manager or start()/stop().

    It answers as the workspace TEAM_ID whose bot is BOT_USER_ID / BOT_ID (app APP_ID),
    unknown Web API methods with ``{"ok": true}``, and chat.* calls that break a Block
    Kit hard limit with ``invalid_blocks``, like Slack.

    >>> with FakeSlackAPI() as slack:
    ...     os.environ["SLACK_API_URL"] = slack.base_url
    ...     ...
    ...     [post] = slack.wait_for("chat.postMessage")
    ...     assert post["thread_ts"] == "1700000000.000100"
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._calls: List[Call] = []
        self._queued: Dict[str, List[_Canned]] = {}
        self._sticky: Dict[str, _Canned] = {}
        self._latency: Dict[str, float] = {}
        self._ts_counter = itertools.count(100)
        self._file_counter = itertools.count(1)
        self._ws_counter = itertools.count(1)
        self._sockets: List[web.WebSocketResponse] = []
        self._server = LoopbackServer(self._build_app)
        self.users: Dict[str, Dict[str, Any]] = {}

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> "FakeSlackAPI":
        self._server.start()
        return self

    def stop(self) -> None:
        if self._server.loop is not None and self._sockets:
            async def _close_all() -> None:
                for ws in list(self._sockets):
                    await ws.close()

            try:
                self._server.call(_close_all(), timeout=5)
            except Exception:
                pass
        self._server.stop()

    # -- addresses -------------------------------------------------------------------

    @property
    def origin(self) -> str:
        return self._server.origin

    @property
    def base_url(self) -> str:
        """Value for SLACK_API_URL / ``AsyncWebClient(base_url=...)``."""
        return self._server.url("/api/")

    def response_url(self, key: str = "r1") -> str:
        """A response_url to put in slash-command / interactive payloads."""
        return self._server.url(f"/response/{key}")

    # -- configuration / failure injection ----------------------------------------------

    def enqueue(
        self,
        method: str,
        body: Any,
        *,
        status: int = 200,
        headers: Optional[Dict[str, str]] = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with this canned response.

        e.g. ``slack.enqueue("chat.postMessage", {"ok": False, "error": "ratelimited"},
        status=429, headers={"Retry-After": "0"})`` to exercise RateLimitErrorRetryHandler.
        ``method`` may also be ``"response_url"`` or ``"upload"``.
        """
        with self._cond:
            self._queued.setdefault(method, []).extend(
                _Canned(body, status, dict(headers or {})) for _ in range(times)
            )

    def rate_limit(self, method: str, retry_after: int = 0, times: int = 1) -> None:
        """Shortcut: next ``times`` calls of ``method`` get HTTP 429 + Retry-After."""
        self.enqueue(
            method,
            {"ok": False, "error": "ratelimited"},
            status=429,
            headers={"Retry-After": str(retry_after)},
            times=times,
        )

    def set_response(self, method: str, body: Any, *, status: int = 200, headers: Optional[Dict[str, str]] = None) -> None:
        """Always answer ``method`` with this response (until ``reset``)."""
        with self._cond:
            self._sticky[method] = _Canned(body, status, dict(headers or {}))

    def set_latency(self, method: str, seconds: float) -> None:
        """Delay answers to ``method`` (``"*"`` = every method)."""
        with self._cond:
            self._latency[method] = seconds

    def add_user(self, user_id: str, **fields: Any) -> None:
        """Customise users.info for ``user_id`` (e.g. ``is_bot=True``, ``name=...``)."""
        self.users[user_id] = fields

    # -- inspection ------------------------------------------------------------------

    def calls(self, method: Optional[str] = None, key: Optional[str] = None) -> List[Call]:
        """Recorded calls (all, or for one method / one response_url key), oldest first."""
        with self._cond:
            return [
                c
                for c in self._calls
                if (method is None or c.method == method) and (key is None or c.key == key)
            ]

    def methods(self) -> List[str]:
        """Method names of all recorded calls, in order (handy in assertion messages)."""
        with self._cond:
            return [c.method for c in self._calls]

    def reset(self) -> None:
        """Forget recorded calls and canned responses (not users / latency)."""
        with self._cond:
            self._calls.clear()
            self._queued.clear()
            self._sticky.clear()

    def wait_for(
        self,
        method: Optional[str] = None,
        count: int = 1,
        timeout: float = 5.0,
        key: Optional[str] = None,
    ) -> List[Call]:
        """Block until at least ``count`` matching calls were recorded; return them.

        Raises AssertionError on timeout.  Do NOT call this from a coroutine running on
        the same loop as the app under test.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                matched = [
                    c
                    for c in self._calls
                    if (method is None or c.method == method) and (key is None or c.key == key)
                ]
                if len(matched) >= count:
                    return matched
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"expected >= {count} call(s) to {method or '*'}"
                        f"{'/' + key if key else ''} within {timeout}s, got {len(matched)}; "
                        f"all calls: {[c.method for c in self._calls]}"
                    )
                self._cond.wait(remaining)

    def assert_no_calls(self, method: Optional[str] = None, within: float = 0.3) -> None:
        """Wait ``within`` seconds and assert nothing (matching) was called."""
        time.sleep(within)
        got = self.calls(method)
        assert not got, f"unexpected calls: {[c.method for c in got]}"

    # -- Socket Mode -----------------------------------------------------------------

    def socket_connections(self) -> int:
        return len([ws for ws in self._sockets if not ws.closed])

    def wait_socket_connected(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while self.socket_connections() == 0:
            if time.monotonic() > deadline:
                raise AssertionError("no Socket Mode connection within timeout")
            time.sleep(0.01)

    def socket_send(self, envelope: Dict[str, Any]) -> None:
        """Send one Socket Mode envelope (see slack_payloads.socket_envelope) to the
        most recent live connection."""
        live = [ws for ws in self._sockets if not ws.closed]
        if not live:
            raise AssertionError("no live Socket Mode connection")
        ws = live[-1]
        self._server.call(ws.send_str(json.dumps(envelope)))

    # -- server internals ------------------------------------------------------------

    def _build_app(self) -> web.Application:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_route("POST", "/response/{key}", self._handle_response_url)
        app.router.add_route("POST", "/upload/{key}", self._handle_upload)
        app.router.add_route("GET", "/socket-mode/{key}", self._handle_socket)
        return app

    def _next_ts(self) -> str:
        return f"1700000000.{next(self._ts_counter):06d}"

    def _take_canned(self, method: str) -> Optional[_Canned]:
        with self._cond:
            q = self._queued.get(method)
            if q:
                return q.pop(0)
            return self._sticky.get(method)

    def _record(self, call: Call) -> None:
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()

    async def _delay(self, method: str) -> None:
        with self._cond:
            d = self._latency.get(method, self._latency.get("*", 0.0))
        if d:
            await asyncio.sleep(d)

    @staticmethod
    async def _parse(request: web.Request) -> tuple:
        raw = await request.read()
        params: Dict[str, Any] = dict(request.query)
        is_json = False
        ctype = request.content_type or ""
        if raw:
            if ctype == "application/json" or raw[:1] in (b"{", b"["):
                try:
                    parsed = json.loads(raw.decode("utf-8"))
                    if isinstance(parsed, dict):
                        params.update(parsed)
                    is_json = True
                except ValueError:
                    pass
            elif ctype == "application/x-www-form-urlencoded":
                params.update(dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True)))
            elif ctype.startswith("multipart/"):
                # files.upload (v1) style; keep fields, drop file contents
                pass
        return raw, params, is_json

    def _make_call(self, method: str, request: web.Request, raw: bytes, params: Dict[str, Any], is_json: bool, key: Optional[str] = None) -> Call:
        auth = request.headers.get("Authorization", "")
        token = auth[len("Bearer ") :] if auth.startswith("Bearer ") else params.get("token")
        safe_params = {k: ("<redacted>" if k in _SECRET_PARAMS else v) for k, v in params.items()}
        return Call(
            method=method,
            http_method=request.method,
            path=request.path,
            params=safe_params,
            headers=_redact_headers(request.headers),
            token_type=_token_type(token if isinstance(token, str) else None),
            is_json=is_json,
            key=key,
            body=raw if method == "upload" else b"",
        )

    @staticmethod
    def _json(body: Any, status: int = 200, headers: Optional[Dict[str, str]] = None) -> web.Response:
        if isinstance(body, (dict, list)):
            return web.json_response(body, status=status, headers=headers)
        return web.Response(text=str(body), status=status, headers=headers, content_type="text/plain")

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        raw, params, is_json = await self._parse(request)
        call = self._make_call(method, request, raw, params, is_json)
        await self._delay(method)
        canned = self._take_canned(method)
        if canned is not None:
            call.status, call.response = canned.status, canned.body
            self._record(call)
            return self._json(canned.body, canned.status, canned.headers)
        status, body = self._default_answer(method, params, call)
        call.status, call.response = status, body
        self._record(call)
        return self._json(body, status)

    def _default_answer(self, method: str, params: Dict[str, Any], call: Call) -> tuple:
        kind = call.token_type
        if method == "apps.connections.open":
            if kind != "app":
                return 200, {"ok": False, "error": "invalid_auth" if kind else "not_authed"}
            key = f"c{next(self._ws_counter)}"
            url = self._server.url(f"/socket-mode/{key}").replace("http://", "ws://", 1)
            return 200, {"ok": True, "url": url}
        if kind is None:
            return 200, {"ok": False, "error": "not_authed"}
        if kind not in ("bot", "user"):
            return 200, {"ok": False, "error": "invalid_auth"}

        if method == "auth.test":
            return 200, {
                "ok": True,
                "url": "https://fake-workspace.slack.com/",
                "team": "Fake Workspace",
                "user": "triage-bot",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
            }
        if method in ("chat.postMessage", "chat.postEphemeral", "chat.update"):
            channel = params.get("channel")
            if not channel:
                return 200, {"ok": False, "error": "channel_not_found"}
            if method == "chat.postEphemeral" and not params.get("user"):
                return 200, {"ok": False, "error": "user_not_found"}
            if method == "chat.update" and not params.get("ts"):
                return 200, {"ok": False, "error": "message_not_found"}
            if not (params.get("text") or params.get("blocks") or params.get("attachments")):
                return 200, {"ok": False, "error": "no_text"}
            call.problems = block_kit_problems(params)
            if any(p.startswith("invalid_blocks") for p in call.problems):
                return 200, {"ok": False, "error": "invalid_blocks", "errors": call.problems}
            if method == "chat.postEphemeral":
                return 200, {"ok": True, "message_ts": self._next_ts()}
            ts = params.get("ts") if method == "chat.update" else self._next_ts()
            message = {
                "type": "message",
                "user": BOT_USER_ID,
                "bot_id": BOT_ID,
                "app_id": APP_ID,
                "team": TEAM_ID,
                "text": params.get("text", ""),
                "ts": ts,
            }
            for k in ("blocks", "thread_ts", "metadata"):
                if k in params:
                    message[k] = params[k]
            body = {"ok": True, "channel": channel, "ts": ts, "message": message}
            if method == "chat.update":
                body["text"] = params.get("text", "")
            return 200, body
        if method == "chat.delete":
            return 200, {"ok": True, "channel": params.get("channel"), "ts": params.get("ts")}
        if method == "users.info":
            uid = params.get("user")
            if not uid:
                return 200, {"ok": False, "error": "user_not_found"}
            extra = dict(self.users.get(uid, {}))
            is_bot = bool(extra.pop("is_bot", uid == BOT_USER_ID))
            name = extra.pop("name", uid.lower())
            user = {
                "id": uid,
                "team_id": TEAM_ID,
                "name": name,
                "real_name": extra.pop("real_name", name),
                "deleted": False,
                "is_bot": is_bot,
                "is_app_user": False,
                "tz": "UTC",
                "profile": {"display_name": name, "real_name": name},
            }
            user.update(extra)
            return 200, {"ok": True, "user": user}
        if method == "files.getUploadURLExternal":
            if not params.get("filename") or not params.get("length"):
                return 200, {"ok": False, "error": "invalid_arguments"}
            fid = f"F{next(self._file_counter):08d}"
            return 200, {"ok": True, "upload_url": self._server.url(f"/upload/{fid}"), "file_id": fid}
        if method == "files.completeUploadExternal":
            files = params.get("files")
            if isinstance(files, str):
                try:
                    files = json.loads(files)
                except ValueError:
                    files = None
            if not files:
                return 200, {"ok": False, "error": "invalid_arguments"}
            return 200, {
                "ok": True,
                "files": [{"id": f.get("id"), "title": f.get("title") or ""} for f in files],
            }
        if method in ("conversations.info",):
            cid = params.get("channel", "C1")
            return 200, {"ok": True, "channel": {"id": cid, "is_im": cid.startswith("D"), "name": cid.lower()}}
        return 200, {"ok": True}

    async def _handle_response_url(self, request: web.Request) -> web.StreamResponse:
        key = request.match_info["key"]
        raw, params, is_json = await self._parse(request)
        call = self._make_call("response_url", request, raw, params, is_json, key=key)
        call.problems = block_kit_problems(params)
        await self._delay("response_url")
        canned = self._take_canned("response_url")
        if canned is not None:
            call.status, call.response = canned.status, canned.body
            self._record(call)
            return self._json(canned.body, canned.status, canned.headers)
        # real hooks.slack.com answers 200 with a plain-text "ok"
        call.response = "ok"
        self._record(call)
        return web.Response(text="ok", content_type="text/html")

    async def _handle_upload(self, request: web.Request) -> web.StreamResponse:
        key = request.match_info["key"]
        raw = await request.read()
        call = self._make_call("upload", request, raw, {}, False, key=key)
        canned = self._take_canned("upload")
        if canned is not None:
            call.status, call.response = canned.status, canned.body
            self._record(call)
            return self._json(canned.body, canned.status, canned.headers)
        call.response = f"OK - {len(raw)}"
        self._record(call)
        return web.Response(text=f"OK - {len(raw)}", content_type="text/plain")

    async def _handle_socket(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        self._record(self._make_call("socket_mode.connect", request, b"", dict(request.query), False, key=request.match_info["key"]))
        await ws.send_str(json.dumps({
            "type": "hello",
            "num_connections": 1,
            "debug_info": {"host": "fake-socket-mode", "approximate_connection_time": 18060},
            "connection_info": {"app_id": APP_ID},
        }))  # fmt: skip
        async for msg in ws:
            if msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                break
            if msg.type != WSMsgType.TEXT:
                continue
            try:
                data = json.loads(msg.data)
            except ValueError:
                data = {"raw": msg.data}
            data = data if isinstance(data, dict) else {}
            call = self._make_call("socket_mode.ack", request, b"", data, True, key=data.get("envelope_id"))
            if isinstance(data.get("payload"), dict):
                call.problems = block_kit_problems(data["payload"])
            self._record(call)
        return ws
