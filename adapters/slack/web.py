"""HTTP mode: our own aiohttp `web.Application` around bolt, and the worker supervisor.

  POST /slack/events  Events API, slash commands, interactivity (one Request URL for all)
  GET  /healthz       Service.health() as JSON: 200 when healthy, 503 otherwise (and
                      while draining, so a load balancer stops sending traffic)

Several workers (``--workers N``) each bind the same port with SO_REUSEPORT, so the kernel
spreads connections; they share the PostgreSQL store, whose event claims make a retried
event answered once whichever worker gets it. A small supervisor starts them, forwards
SIGTERM/SIGINT and restarts a worker that dies after running a while.
"""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import subprocess
import sys
import time

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_sdk.signature import SignatureVerifier

from adapters.health import add_health_route
from adapters.runtime import STOP_SIGNALS, wait_for_signal

from .app import SlackAdapter
from .shim import bolt_request

log = logging.getLogger("adapters.slack.web")

EVENTS_PATH = "/slack/events"
MAX_BODY = 1024 * 1024  # Slack payloads are far smaller; anything bigger is not from Slack


def is_signed(verifier: SignatureVerifier | None, body: bytes, headers) -> bool:
    """Slack's signature over this exact body, made within the last five minutes. A
    timestamp that is not a number, or a body that is not UTF-8, is simply not signed."""
    if verifier is None:
        return False
    try:
        return verifier.is_valid(body, headers.get("X-Slack-Request-Timestamp"), headers.get("X-Slack-Signature"))
    except (ValueError, TypeError):
        return False


def build_web_app(adapter: SlackAdapter, *, events_path: str = EVENTS_PATH) -> web.Application:
    """The aiohttp application for one worker. The adapter starts on the serving loop
    (on_startup) and is drained and closed in on_cleanup, which aiohttp runs after the
    in-flight requests have finished (so no request can start a task after the drain)."""

    secret = adapter.settings.signing_secret
    verifier = SignatureVerifier(secret) if secret else None

    async def events(request: web.Request) -> web.StreamResponse:
        if adapter.app is None:
            return web.Response(status=503, text="starting")
        # Before bolt parses anything: junk that is not Slack's must not reach a parser
        # whose failure is a 500 and an error log line.
        if not is_signed(verifier, await request.read(), request.headers):
            return web.Response(status=401, text="invalid request signature")
        try:
            bolt_req = await bolt_request(request)
        except ValueError:  # signed, yet not JSON or form data: a broken client, not an attack
            log.warning("signed request with an unreadable body", extra={"bytes": request.content_length})
            return web.Response(status=400, text="unreadable body")
        return await to_aiohttp_response(await adapter.app.async_dispatch(bolt_req))

    async def on_startup(_app: web.Application) -> None:
        await adapter.start()

    async def on_shutdown(_app: web.Application) -> None:
        adapter.draining = True  # health turns 503 at once

    async def on_cleanup(_app: web.Application) -> None:
        await adapter.aclose()

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post(events_path, events)
    add_health_route(app, adapter)
    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)
    app.on_cleanup.append(on_cleanup)
    return app


async def serve_http(adapter: SlackAdapter, host: str, port: int, *, reuse_port: bool = False, ready=None) -> None:
    """Serve until SIGTERM/SIGINT, then stop accepting, finish in-flight requests, drain
    reply tasks and close the Service."""
    runner = web.AppRunner(build_web_app(adapter), access_log=None, shutdown_timeout=adapter.settings.drain_seconds)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port, reuse_port=reuse_port or None, backlog=1024)
        await site.start()
        bound = runner.addresses[0][1] if runner.addresses else port
        log.info("slack http mode listening", extra={"host": host, "port": bound, "pid": os.getpid(), "path": EVENTS_PATH})
        if ready is not None:
            ready(bound)
        await wait_for_signal()
        log.info("slack http mode stopping", extra={"pid": os.getpid()})
    finally:
        await runner.cleanup()


# -- workers ------------------------------------------------------------------------------

_FAST_FAIL_S = 10.0  # a worker dying sooner than this after start is a startup failure


def free_port(host: str) -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def supervise(worker_argv: list[str], workers: int, *, grace: float = 20.0) -> int:
    """Run `workers` copies of `worker_argv`; forward SIGTERM/SIGINT to them and wait.

    A worker that exits after running a while is restarted; one that fails right after
    starting (bad knowledge, bad config, port taken) stops everything with its exit code.
    """
    stopping = False
    procs: list[tuple[subprocess.Popen, float]] = []

    def start() -> tuple[subprocess.Popen, float]:
        return subprocess.Popen(worker_argv), time.monotonic()

    def forward(signum, _frame) -> None:
        nonlocal stopping
        stopping = True
        for p, _ in procs:
            if p.poll() is None:
                try:
                    p.send_signal(signal.SIGTERM)
                except ProcessLookupError:
                    pass

    previous = {sig: signal.signal(sig, forward) for sig in STOP_SIGNALS}
    code = 0
    try:
        procs = [start() for _ in range(workers)]
        log.info("slack supervisor started workers", extra={"workers": workers, "pids": [p.pid for p, _ in procs]})
        while True:
            if stopping:
                break
            for i, (p, started) in enumerate(procs):
                rc = p.poll()
                if rc is None:
                    continue
                if time.monotonic() - started < _FAST_FAIL_S:
                    log.error("worker failed at startup; stopping", extra={"pid": p.pid, "exit_code": rc})
                    code = rc or 1
                    forward(signal.SIGTERM, None)
                    break
                log.warning("worker exited; restarting", extra={"pid": p.pid, "exit_code": rc})
                procs[i] = start()
            time.sleep(0.2)
        deadline = time.monotonic() + grace
        for p, _ in procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("worker did not stop in time; killing", extra={"pid": p.pid})
                p.kill()
                p.wait()
        log.info("slack supervisor stopped", extra={"exit_codes": [p.returncode for p, _ in procs]})
        return code
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def worker_argv(args, opts, port: int) -> list[str]:
    """The command line of one worker: this same program, one process, reuse_port."""
    argv = [sys.executable, "-m", "adapters.cli", "--knowledge", str(args.knowledge)]
    if getattr(args, "config", None):
        argv += ["--config", str(args.config)]
    argv += ["slack", "--http", "--host", opts.host, "--port", str(port), "--worker", "--log-level", opts.log_level]
    if opts.upload_charts:
        argv.append("--upload-charts")
    return argv
