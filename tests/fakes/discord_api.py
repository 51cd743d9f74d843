"""A local fake Discord: REST API + gateway websocket on one aiohttp server.

The REAL discord.py client runs against it unmodified:

* REST: ``discord.http.Route.BASE`` is a class attribute read each time a
  ``Route`` is built, by both ``HTTPClient`` and the webhook adapter that sends
  interaction callbacks and follow-ups, so pointing it at ``fake.api_base``
  redirects every REST call.  Responses carry ``Content-Type`` exactly
  ``application/json`` (discord.py's ``json_or_text`` compares the header
  verbatim; ``aiohttp.web.json_response`` would add ``; charset=utf-8`` and
  discord.py would then hand strings to code expecting dicts).  204 responses
  have no body and no content type.
* Gateway: ``discord.Client`` connects to ``DiscordWebSocket.DEFAULT_GATEWAY``
  (it never asks ``GET /gateway/bot``); ``AutoShardedClient`` asks
  ``GET /gateway/bot`` and uses the returned ``url``.  ``patched_urls()``
  patches both (with ``adapters.discord.shim``), so either client class reaches this fake.  The fake speaks
  the documented handshake: HELLO(op 10) -> client HEARTBEAT(op 1) / IDENTIFY
  (op 2) -> HEARTBEAT_ACK(op 11), READY, GUILD_CREATE...; RESUME(op 6) ->
  RESUMED.  Frames are sent as uncompressed TEXT, which discord.py accepts
  even though it asks for ``compress=zlib-stream``/``zstd-stream``.

Everything the client sends is recorded (``fake.calls`` for REST,
``fake.gateway_frames`` for gateway ops).  Tests push events with
``await fake.dispatch("INTERACTION_CREATE", payload)`` and wait for REST calls
with ``await fake.wait_for_calls(...)``.

Interaction rules enforced like Discord: a callback for a dispatched
interaction after ``interaction_deadline`` (3 s) gets 404 ``Unknown
interaction`` (10062); a second callback gets 400 (40060).  Message payloads
violating documented limits (``discord_payloads.message_limit_errors``) get
400 ``Invalid Form Body`` (50035) when ``validate_limits`` is on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable, ContextManager, Dict, List, Optional, Pattern, Tuple, Union

from aiohttp import WSMsgType, web

from . import discord_payloads as P

API_PREFIX = "/api/v10"
JSON_CT = "application/json"

PathSpec = Union[None, str, Pattern[str]]


@dataclass
class RecordedFile:
    field: str
    filename: Optional[str]
    content_type: Optional[str]
    data: bytes


@dataclass
class RecordedCall:
    """One REST request as Discord would receive it."""

    method: str
    path: str  # without the /api/v10 prefix, e.g. "/interactions/123/tok/callback"
    query: Dict[str, str]
    headers: Dict[str, str]
    json: Any  # parsed JSON body, or the parsed ``payload_json`` part of a multipart body
    files: List[RecordedFile]
    raw: bytes
    at: float  # time.perf_counter() when received
    status: int = 0  # status the fake answered with
    response: Any = None

    @property
    def is_multipart(self) -> bool:
        return self.headers.get("Content-Type", "").startswith("multipart/")

    # --- interaction-callback helpers -------------------------------------
    @property
    def callback_type(self) -> Optional[int]:
        return (self.json or {}).get("type") if isinstance(self.json, dict) else None

    @property
    def message_payload(self) -> Dict[str, Any]:
        """The message part: ``data`` of an interaction callback, else the body itself."""
        if not isinstance(self.json, dict):
            return {}
        if re.fullmatch(r"/interactions/\d+/[^/]+/callback", self.path):
            return self.json.get("data") or {}
        return self.json

    @property
    def flags(self) -> int:
        return int(self.message_payload.get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & P.EPHEMERAL_FLAG)

    @property
    def allowed_mentions(self) -> Optional[Dict[str, Any]]:
        return self.message_payload.get("allowed_mentions")

    @property
    def embeds(self) -> List[Dict[str, Any]]:
        return self.message_payload.get("embeds") or []

    @property
    def content(self) -> Optional[str]:
        return self.message_payload.get("content")

    @property
    def components(self) -> List[Dict[str, Any]]:
        return self.message_payload.get("components") or []

    def custom_ids(self) -> List[str]:
        out: List[str] = []

        def walk(items: List[Dict[str, Any]]) -> None:
            for c in items:
                if c.get("custom_id"):
                    out.append(c["custom_id"])
                walk(c.get("components") or [])

        walk(self.components)
        return out

    def __repr__(self) -> str:  # keep assertion output readable
        body = json.dumps(self.json)[:300] if self.json is not None else ""
        return f"<{self.method} {self.path} -> {self.status} {body}>"


@dataclass
class _Override:
    method: str
    path: Pattern[str]
    status: int
    body: Any
    times: Optional[int]
    delay: float
    headers: Dict[str, str]


@dataclass
class _Interaction:
    id: str
    token: str
    application_id: str
    dispatched_at: float
    channel_id: Optional[str] = None
    message_id: Optional[str] = None  # the message a component was clicked on
    acked: bool = False
    original_id: Optional[str] = None


@dataclass
class _GatewayConn:
    ws: web.WebSocketResponse
    query: Dict[str, str]
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    seq: int = 0
    shard_id: int = 0
    shard_count: int = 1
    session_id: Optional[str] = None
    identified: bool = False


class FakeDiscord:
    """Fake Discord REST + gateway. Use as ``async with FakeDiscord() as fake:``."""

    def __init__(
        self,
        world: Optional[P.World] = None,
        *,
        token: Optional[str] = "fake-token",
        interaction_deadline: float = 3.0,
        validate_limits: bool = True,
        heartbeat_interval_ms: int = 41250,
        shards: int = 1,
    ) -> None:
        self.world = world or P.World()
        self.token = token  # None: accept any Authorization
        self.interaction_deadline = interaction_deadline
        self.validate_limits = validate_limits
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.shards = shards

        self.calls: List[RecordedCall] = []
        self.gateway_frames: List[Dict[str, Any]] = []  # every frame the client sent
        self.identifies: List[Dict[str, Any]] = []  # IDENTIFY ``d`` payloads
        self.messages: Dict[str, Dict[str, Any]] = {}  # every message object the fake created
        self.commands: Dict[Optional[str], List[Dict[str, Any]]] = {}  # guild id (None=global) -> commands
        self.interactions: Dict[str, _Interaction] = {}
        self.errors: List[str] = []  # protocol problems seen by the fake

        self._overrides: List[_Override] = []
        self._conns: List[_GatewayConn] = []
        self._changed: Optional[asyncio.Condition] = None
        self._runner: Optional[web.AppRunner] = None
        self.port: int = 0

    # ------------------------------------------------------------------ life
    async def start(self) -> "FakeDiscord":
        self._changed = asyncio.Condition()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway_handler)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._rest_handler)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server  # type: ignore[attr-defined]
        self.port = server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        for conn in list(self._conns):
            with contextlib.suppress(Exception):
                await conn.ws.close(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> "FakeDiscord":
        return await self.start()

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    @property
    def api_base(self) -> str:
        """Value for ``discord.http.Route.BASE`` / ``DISCORD_API_URL``."""
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def patched_urls(self) -> ContextManager[None]:
        """Point discord.py's REST base and default gateway at this fake (restored on exit),
        through the front end's one module of discord.py internals."""
        from adapters.discord.shim import endpoints

        return endpoints(self.api_base, self.gateway_url)

    # ------------------------------------------------------------- queries
    def calls_matching(
        self,
        method: Optional[str] = None,
        path: PathSpec = None,
        predicate: Optional[Callable[[RecordedCall], bool]] = None,
        *,
        since: int = 0,
    ) -> List[RecordedCall]:
        """Recorded calls (from index ``since``) matching method, full-path regex and predicate."""
        rx = _compile(path)
        return [
            c
            for c in self.calls[since:]
            if (method is None or c.method == method.upper())
            and (rx is None or rx.fullmatch(c.path))
            and (predicate is None or predicate(c))
        ]

    async def wait_for_calls(
        self,
        method: Optional[str] = None,
        path: PathSpec = None,
        *,
        n: int = 1,
        timeout: float = 5.0,
        predicate: Optional[Callable[[RecordedCall], bool]] = None,
        since: int = 0,
    ) -> List[RecordedCall]:
        """Wait until at least ``n`` matching calls (among ``calls[since:]``) were
        received; return the first ``n``. Raises ``AssertionError`` listing every
        call seen on timeout."""
        assert self._changed is not None, "fake not started"

        def found() -> List[RecordedCall]:
            return self.calls_matching(method, path, predicate, since=since)

        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(lambda: len(found()) >= n), timeout)
            except asyncio.TimeoutError:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {n} x {method or '*'} {getattr(path, 'pattern', path)}; "
                    f"saw {self.calls!r}; fake errors: {self.errors!r}"
                ) from None
        return found()[:n]

    async def wait_for_call(self, method: Optional[str] = None, path: PathSpec = None, **kw: Any) -> RecordedCall:
        return (await self.wait_for_calls(method, path, n=1, **kw))[0]

    def interaction_calls(self, interaction: Union[str, Dict[str, Any]]) -> List[RecordedCall]:
        """Every REST call answering one interaction (callback + webhook follow-ups/edits)."""
        token = interaction["token"] if isinstance(interaction, dict) else self.interactions[interaction].token
        return [c for c in self.calls if f"/{token}/" in c.path + "/"]

    async def wait_for_callback(self, interaction: Dict[str, Any], timeout: float = 5.0) -> RecordedCall:
        """Wait for ``POST /interactions/{id}/{token}/callback`` of this interaction."""
        path = f"/interactions/{interaction['id']}/{re.escape(interaction['token'])}/callback"
        return await self.wait_for_call("POST", path, timeout=timeout)

    def override(
        self,
        method: str,
        path: str,
        *,
        status: int = 200,
        body: Any = None,
        times: Optional[int] = 1,
        delay: float = 0.0,
        headers: Optional[Dict[str, str]] = None,
    ) -> None:
        """Answer the next ``times`` matching requests (None = forever) with ``status``/``body``
        after ``delay`` seconds, e.g. ``override("POST", r"/channels/\\d+/messages",
        status=429, body={"message": "rate limited", "retry_after": 0.01, "global": False},
        headers={"Via": "1.1 google"})``. Overrides are still recorded."""
        self._overrides.append(
            _Override(method.upper(), re.compile(path), status, body, times, delay, dict(headers or {}))
        )

    def clear(self) -> None:
        self.calls.clear()

    # ------------------------------------------------------------- gateway
    @property
    def connected(self) -> bool:
        return any(c.identified and not c.ws.closed for c in self._conns)

    async def wait_identified(self, shards: int = 1, timeout: float = 5.0) -> None:
        assert self._changed is not None
        async with self._changed:
            try:
                await asyncio.wait_for(
                    self._changed.wait_for(
                        lambda: sum(1 for c in self._conns if c.identified and not c.ws.closed) >= shards
                    ),
                    timeout,
                )
            except asyncio.TimeoutError:
                raise AssertionError(f"gateway not identified; frames={self.gateway_frames!r}") from None

    def _conn_for(self, data: Any, shard_id: Optional[int]) -> _GatewayConn:
        live = [c for c in self._conns if c.identified and not c.ws.closed]
        if not live:
            raise AssertionError("no identified gateway connection; is the client running?")
        if shard_id is None:
            guild_id = data.get("guild_id") if isinstance(data, dict) else None
            count = live[0].shard_count
            shard_id = (int(guild_id) >> 22) % count if guild_id else 0
        for c in live:
            if c.shard_id == shard_id:
                return c
        raise AssertionError(f"no connection for shard {shard_id}")

    async def dispatch(self, event: str, data: Dict[str, Any], *, shard_id: Optional[int] = None) -> float:
        """Send a DISPATCH (op 0) frame ``t=event`` on the right shard's connection.
        Returns ``time.perf_counter()`` just before sending (benchmark start).
        INTERACTION_CREATE payloads are registered for callback checks."""
        conn = self._conn_for(data, shard_id)
        if event == "INTERACTION_CREATE":
            self.register_interaction(data)
        t0 = time.perf_counter()
        if event == "INTERACTION_CREATE":
            self.interactions[data["id"]].dispatched_at = t0
        await self._send_dispatch(conn, event, data)
        return t0

    def register_interaction(self, data: Dict[str, Any]) -> None:
        """Track an interaction (done by ``dispatch``; call it yourself when injecting
        through ``client._connection.parsers`` instead of the gateway)."""
        msg = data.get("message")
        if msg is not None:
            self.messages.setdefault(msg["id"], msg)
        self.interactions[data["id"]] = _Interaction(
            id=data["id"],
            token=data["token"],
            application_id=data["application_id"],
            dispatched_at=time.perf_counter(),
            channel_id=(data.get("channel") or {}).get("id") or data.get("channel_id"),
            message_id=msg["id"] if msg else None,
        )

    async def send_op(self, op: int, d: Any = None, *, shard_id: int = 0) -> None:
        """Send a raw non-dispatch opcode (e.g. 7 RECONNECT, 9 INVALID_SESSION, 1 HEARTBEAT)."""
        conn = self._conn_for({}, shard_id)
        async with conn.lock:
            await conn.ws.send_str(json.dumps({"op": op, "d": d, "s": None, "t": None}))

    async def close_gateway(self, code: int = 4000, *, shard_id: int = 0) -> None:
        """Close the socket from the server side (4000 = unknown error: the client resumes)."""
        conn = self._conn_for({}, shard_id)
        await conn.ws.close(code=code)

    async def _send_dispatch(self, conn: _GatewayConn, event: str, data: Any) -> None:
        async with conn.lock:
            conn.seq += 1
            await conn.ws.send_str(json.dumps({"op": 0, "t": event, "s": conn.seq, "d": data}))

    async def _notify(self) -> None:
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()

    async def _gateway_handler(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        conn = _GatewayConn(ws=ws, query=dict(request.query))
        self._conns.append(conn)
        if request.query.get("encoding", "json") != "json":
            self.errors.append(f"gateway encoding {request.query.get('encoding')!r} unsupported")
        async with conn.lock:
            await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}, "s": None, "t": None}))
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    if msg.type is WSMsgType.BINARY:
                        self.errors.append("client sent a binary gateway frame")
                    continue
                frame = json.loads(msg.data)
                self.gateway_frames.append(frame)
                await self._on_gateway_frame(conn, frame)
                await self._notify()
        finally:
            await self._notify()
        return ws

    async def _on_gateway_frame(self, conn: _GatewayConn, frame: Dict[str, Any]) -> None:
        op, d = frame.get("op"), frame.get("d")
        if op == 1:  # HEARTBEAT
            async with conn.lock:
                await conn.ws.send_str(json.dumps({"op": 11, "d": None, "s": None, "t": None}))
        elif op == 2:  # IDENTIFY
            self.identifies.append(d)
            if self.token is not None and d.get("token") != self.token:
                await conn.ws.close(code=4004)  # Authentication failed
                return
            shard = d.get("shard")
            if shard:
                conn.shard_id, conn.shard_count = int(shard[0]), int(shard[1])
            conn.session_id = P.new_token()[:32]
            ready = self.world.ready(
                session_id=conn.session_id, resume_gateway_url=self.gateway_url, shard=shard
            )
            await self._send_dispatch(conn, "READY", ready)
            gid = int(self.world.guild_id)
            if (gid >> 22) % conn.shard_count == conn.shard_id:
                await self._send_dispatch(conn, "GUILD_CREATE", self.world.guild_create())
            conn.identified = True
        elif op == 6:  # RESUME
            old = next((c for c in self._conns if c.session_id == d.get("session_id")), None)
            if old is None:
                async with conn.lock:
                    await conn.ws.send_str(json.dumps({"op": 9, "d": False, "s": None, "t": None}))
                return
            conn.session_id, conn.shard_id, conn.shard_count = old.session_id, old.shard_id, old.shard_count
            conn.seq = max(old.seq, int(d.get("seq") or 0))
            old.session_id = None
            await self._send_dispatch(conn, "RESUMED", {})
            conn.identified = True
        elif op == 8:  # REQUEST_GUILD_MEMBERS
            g = self.world.guild_create()
            await self._send_dispatch(
                conn,
                "GUILD_MEMBERS_CHUNK",
                {
                    "guild_id": d.get("guild_id"),
                    "members": g["members"],
                    "chunk_index": 0,
                    "chunk_count": 1,
                    "not_found": [],
                    "nonce": d.get("nonce"),
                },
            )
        # op 3 PRESENCE_UPDATE, op 4 VOICE_STATE: recorded only

    # ---------------------------------------------------------------- REST
    async def _rest_handler(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body: Any = None
        files: List[RecordedFile] = []
        raw = b""
        ctype = request.headers.get("Content-Type", "")
        if ctype.startswith("multipart/"):
            body, files = await _parse_multipart(request)
        else:
            raw = await request.read()
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
        call = RecordedCall(
            method=request.method,
            path=path,
            query=dict(request.query),
            headers=dict(request.headers),
            json=body,
            files=files,
            raw=raw,
            at=time.perf_counter(),
        )
        self.calls.append(call)
        try:
            status, payload, extra = await self._route(call)
        except Exception as exc:  # a bug in the fake must not look like a Discord answer
            self.errors.append(f"{call.method} {path}: {exc!r}")
            status, payload, extra = 500, {"message": f"fake error: {exc!r}", "code": 0}, {}
        call.status, call.response = status, payload
        await self._notify()
        return _response(status, payload, extra)

    async def _route(self, call: RecordedCall) -> Tuple[int, Any, Dict[str, str]]:
        for ov in list(self._overrides):
            if ov.method == call.method and ov.path.fullmatch(call.path):
                if ov.times is not None:
                    ov.times -= 1
                    if ov.times <= 0:
                        self._overrides.remove(ov)
                if ov.delay:
                    await asyncio.sleep(ov.delay)
                return ov.status, ov.body, ov.headers

        is_webhook_or_callback = call.path.startswith("/interactions/") or re.match(r"/webhooks/\d+/[^/]+", call.path)
        if not is_webhook_or_callback and self.token is not None:
            if call.headers.get("Authorization") != f"Bot {self.token}":
                return 401, {"message": "401: Unauthorized", "code": 0}, {}

        m, p, w = call.method, call.path, self.world
        if m == "GET" and p == "/users/@me":
            return 200, w.bot_user, {}
        if m == "GET" and p in ("/oauth2/applications/@me", "/applications/@me"):
            return 200, w.application(), {}
        if m == "GET" and p == "/gateway":
            return 200, {"url": self.gateway_url}, {}
        if m == "GET" and p == "/gateway/bot":
            return 200, {
                "url": self.gateway_url,
                "shards": self.shards,
                "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1},
            }, {}

        mt = re.fullmatch(r"/interactions/(\d+)/([^/]+)/callback", p)
        if mt and m == "POST":
            return self._interaction_callback(call, mt.group(1), mt.group(2))

        mt = re.fullmatch(r"/webhooks/(\d+)/([^/]+)(/messages/(@original|\d+))?", p)
        if mt:
            return self._webhook(call, mt.group(1), mt.group(2), mt.group(4))

        mt = re.fullmatch(r"/applications/(\d+)(/guilds/(\d+))?/commands", p)
        if mt:
            guild = mt.group(3)
            if m == "PUT":
                created = [self._command_object(c, mt.group(1), guild) for c in (call.json or [])]
                self.commands[guild] = created
                return 200, created, {}
            if m == "GET":
                return 200, self.commands.get(guild, []), {}

        mt = re.fullmatch(r"/channels/(\d+)/messages", p)
        if mt and m == "POST":
            errs = self._limit_errors(call.json)
            if errs:
                return 400, _form_error(errs), {}
            msg = self._make_message(call.json or {}, channel_id=mt.group(1))
            return 200, msg, {}

        mt = re.fullmatch(r"/channels/(\d+)/messages/(\d+)", p)
        if mt:
            if m == "PATCH":
                errs = self._limit_errors(call.json)
                if errs:
                    return 400, _form_error(errs), {}
                return 200, self._edit_message(mt.group(2), call.json or {}, channel_id=mt.group(1)), {}
            if m == "GET":
                msg = self.messages.get(mt.group(2))
                return (200, msg, {}) if msg else (404, {"message": "Unknown Message", "code": 10008}, {})
            if m == "DELETE":
                self.messages.pop(mt.group(2), None)
                return 204, None, {}

        if re.fullmatch(r"/channels/\d+/typing", p) and m == "POST":
            return 204, None, {}
        if re.fullmatch(r"/channels/\d+/messages/\d+/reactions/[^/]+/@me", p) and m in ("PUT", "DELETE"):
            return 204, None, {}
        if m == "POST" and p == "/users/@me/channels":
            rid = str((call.json or {}).get("recipient_id"))
            ch_id = w.dm_channel_id if rid == w.member_id else P.snowflake()
            return 200, P.dm_channel(ch_id, P.user(rid, f"user{rid[-4:]}")), {}
        mt = re.fullmatch(r"/guilds/(\d+)/members/(\d+)", p)
        if mt and m == "GET":
            try:
                return 200, w.member_of(mt.group(2)), {}
            except KeyError:
                return 404, {"message": "Unknown Member", "code": 10007}, {}
        if m == "GET" and re.fullmatch(r"/applications/\d+/emojis", p):
            return 200, {"items": []}, {}
        if m == "GET" and re.fullmatch(r"/applications/\d+/entitlements", p):
            return 200, [], {}

        self.errors.append(f"unhandled route {m} {p}")
        return 404, {"message": "404: Not Found", "code": 0}, {}

    # -- interactions ------------------------------------------------------
    def _interaction_callback(self, call: RecordedCall, iid: str, token: str) -> Tuple[int, Any, Dict[str, str]]:
        info = self.interactions.get(iid)
        if info is not None:
            if info.token != token:
                return 401, {"message": "Invalid interaction token", "code": 50027}, {}
            if call.at - info.dispatched_at > self.interaction_deadline:
                self.errors.append(f"interaction {iid} answered after {call.at - info.dispatched_at:.2f}s")
                return 404, {"message": "Unknown interaction", "code": 10062}, {}
            if info.acked:
                return 400, {"message": "Interaction has already been acknowledged.", "code": 40060}, {}
        body = call.json if isinstance(call.json, dict) else {}
        rtype = body.get("type")
        data = body.get("data") or {}
        if rtype in (4, 7):
            errs = self._limit_errors(data)
            if errs:
                return 400, _form_error(errs), {}
        if info is None:
            info = _Interaction(id=iid, token=token, application_id=self.world.application_id, dispatched_at=call.at)
            self.interactions[iid] = info
        info.acked = True

        flags = int(data.get("flags") or 0)
        cb: Dict[str, Any] = {
            "interaction": {
                "id": iid,
                "type": 2,
                "response_message_loading": rtype == 5,
                "response_message_ephemeral": bool(flags & P.EPHEMERAL_FLAG),
            },
        }
        channel_id = info.channel_id or self.world.channel_id
        if rtype in (4, 5):
            msg = self._make_message(
                {**data, "content": "" if rtype == 5 else data.get("content", "")},
                channel_id=channel_id,
                interaction=True,
                extra_flags=(1 << 7) if rtype == 5 else 0,  # LOADING
            )
            info.original_id = msg["id"]
            cb["interaction"]["response_message_id"] = msg["id"]
            cb["resource"] = {"type": rtype, "message": msg}
        elif rtype == 7:  # UPDATE_MESSAGE: edits the message the component is on
            if info.message_id:
                msg = self._edit_message(info.message_id, data, channel_id=channel_id)
            else:
                msg = self._make_message(data, channel_id=channel_id, interaction=True)
            cb["resource"] = {"type": 7, "message": msg}
        elif rtype == 9:  # MODAL
            cb["resource"] = {"type": 9}
        return 200, cb, {}

    def _webhook(self, call: RecordedCall, app_id: str, token: str, which: Optional[str]) -> Tuple[int, Any, Dict[str, str]]:
        info = next((i for i in self.interactions.values() if i.token == token), None)
        if info is None:
            self.errors.append(f"webhook call for unknown token {token[:12]}...")
            return 404, {"message": "Unknown Webhook", "code": 10015}, {}
        if app_id != info.application_id:
            return 404, {"message": "Unknown Webhook", "code": 10015}, {}
        if which is None:  # follow-up
            if call.method != "POST":
                return 405, {"message": "405: Method Not Allowed", "code": 0}, {}
            if not info.acked:
                return 404, {"message": "Unknown Webhook", "code": 10015}, {}
            errs = self._limit_errors(call.json)
            if errs:
                return 400, _form_error(errs), {}
            msg = self._make_message(call.json or {}, channel_id=info.channel_id or self.world.channel_id, interaction=True)
            if call.query.get("wait", "").lower() in ("true", "1"):
                return 200, msg, {}
            return 204, None, {}
        mid = info.original_id if which == "@original" else which
        if mid is None or mid not in self.messages:
            return 404, {"message": "Unknown Message", "code": 10008}, {}
        if call.method == "GET":
            return 200, self.messages[mid], {}
        if call.method == "DELETE":
            self.messages.pop(mid, None)
            return 204, None, {}
        if call.method == "PATCH":
            errs = self._limit_errors(call.json)
            if errs:
                return 400, _form_error(errs), {}
            return 200, self._edit_message(mid, call.json or {}), {}
        return 405, {"message": "405: Method Not Allowed", "code": 0}, {}

    # -- helpers -----------------------------------------------------------
    def _limit_errors(self, payload: Any) -> List[str]:
        if not self.validate_limits or not isinstance(payload, dict):
            return []
        return P.message_limit_errors(payload)

    def _make_message(
        self, payload: Dict[str, Any], *, channel_id: str, interaction: bool = False, extra_flags: int = 0
    ) -> Dict[str, Any]:
        w = self.world
        attachments = [
            {"id": P.snowflake(), "filename": a.get("filename", "file"), "size": 0, "url": "https://cdn.invalid/x",
             "proxy_url": "https://cdn.invalid/x"}
            for a in payload.get("attachments") or []
        ]
        msg = P.message(
            channel_id=channel_id,
            author=P.user(w.bot_id, w.bot_name, bot=True),
            content=payload.get("content") or "",
            embeds=payload.get("embeds"),
            components=payload.get("components"),
            flags=int(payload.get("flags") or 0) | extra_flags,
            msg_type=20 if interaction else (19 if payload.get("message_reference") else 0),
            webhook_id=w.application_id if interaction else None,
            application_id=w.application_id if interaction else None,
            message_reference=payload.get("message_reference"),
            attachments=attachments,
        )
        self.messages[msg["id"]] = msg
        return msg

    def _edit_message(self, mid: str, payload: Dict[str, Any], channel_id: Optional[str] = None) -> Dict[str, Any]:
        msg = self.messages.get(mid)
        if msg is None:
            msg = P.message(message_id=mid, channel_id=channel_id or self.world.channel_id,
                            author=P.user(self.world.bot_id, self.world.bot_name, bot=True))
            self.messages[mid] = msg
        for key in ("content", "embeds", "components"):
            if key in payload:
                msg[key] = payload[key] if payload[key] is not None else ([] if key != "content" else "")
        if "flags" in payload and payload["flags"] is not None:
            msg["flags"] = int(payload["flags"])
        msg["flags"] = int(msg.get("flags") or 0) & ~(1 << 7)  # no longer loading
        msg["edited_timestamp"] = P.iso_now()
        return msg

    @staticmethod
    def _command_object(cmd: Dict[str, Any], app_id: str, guild_id: Optional[str]) -> Dict[str, Any]:
        out = {
            "id": P.snowflake(),
            "application_id": app_id,
            "version": P.snowflake(),
            "type": cmd.get("type", 1),
            "description": cmd.get("description", ""),
            "default_member_permissions": cmd.get("default_member_permissions"),
            "nsfw": cmd.get("nsfw", False),
            **cmd,
        }
        if guild_id:
            out["guild_id"] = guild_id
        return out


# ---------------------------------------------------------------------------
# running a real client against the fake
# ---------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def running_client(
    fake: FakeDiscord,
    client: Any,
    *,
    token: Optional[str] = None,
    ready_timeout: float = 10.0,
    patch_urls: bool = True,
) -> AsyncIterator[Any]:
    """Start ``client.start(token)`` against ``fake``, wait for ``on_ready``
    (give the client a small ``guild_ready_timeout`` or this waits ~2 s), yield
    it, then ``client.close()`` and join. Re-raises a crash of the client task."""
    cm = fake.patched_urls() if patch_urls else contextlib.nullcontext()
    with cm:
        task = asyncio.create_task(client.start(token or fake.token or "fake-token"))
        ready = asyncio.create_task(client.wait_until_ready())
        try:
            done, _ = await asyncio.wait({task, ready}, timeout=ready_timeout, return_when=asyncio.FIRST_COMPLETED)
            if task in done:
                task.result()  # raises the start() error
                raise AssertionError("client.start() returned before ready")
            if ready not in done:
                raise AssertionError(
                    f"client not ready after {ready_timeout}s; calls={fake.calls!r} frames={fake.gateway_frames!r} "
                    f"errors={fake.errors!r}"
                )
            yield client
        finally:
            ready.cancel()
            if not client.is_closed():
                await client.close()
            try:
                await asyncio.wait_for(task, 5.0)
            except asyncio.CancelledError:
                pass


# ---------------------------------------------------------------------------
# internals
# ---------------------------------------------------------------------------


def _compile(path: PathSpec) -> Optional[Pattern[str]]:
    if path is None:
        return None
    if isinstance(path, str):
        return re.compile(path)
    return path


def _response(status: int, payload: Any, extra: Dict[str, str]) -> web.Response:
    if status == 204 or payload is None:
        return web.Response(status=status if status != 200 else 204, headers=extra)
    headers = {"Content-Type": JSON_CT}
    headers.update(extra)
    return web.Response(status=status, body=json.dumps(payload).encode("utf-8"), headers=headers)


def _form_error(errors: List[str]) -> Dict[str, Any]:
    return {"message": "Invalid Form Body", "code": 50035, "errors": {"_fake": errors}}


async def _parse_multipart(request: web.Request) -> Tuple[Any, List[RecordedFile]]:
    """Split discord.py's multipart body: ``payload_json`` (the JSON payload) and ``files[n]``."""
    reader = await request.multipart()
    body: Any = None
    files: List[RecordedFile] = []
    async for part in reader:
        data = await part.read(decode=False)  # type: ignore[union-attr]
        name = part.name  # type: ignore[union-attr]
        if name == "payload_json":
            body = json.loads(bytes(data))
        else:
            files.append(
                RecordedFile(
                    field=name or "",
                    filename=part.filename,  # type: ignore[union-attr]
                    content_type=part.headers.get("Content-Type"),  # type: ignore[union-attr]
                    data=bytes(data),
                )
            )
    return body, files
