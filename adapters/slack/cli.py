"""`triage-bot slack [--http [--port N] [--host H] [--workers N]] [--upload-charts]`.

Socket Mode when SLACK_APP_TOKEN is set and --http is not given; HTTP mode otherwise.
Environment: SLACK_BOT_TOKEN (always), SLACK_APP_TOKEN (Socket Mode), SLACK_SIGNING_SECRET
(HTTP mode), SLACK_API_URL (optional Web API base URL), SLACK_UPLOAD_CHARTS=1, PORT.
HTTP mode serves GET /healthz on its own port; Socket Mode with --health-port PORT.
"""
from __future__ import annotations

import argparse
import asyncio
import os

from adapters import runtime

USAGE_MODE = (
    "set SLACK_APP_TOKEN (xapp-...) to run in Socket Mode, or pass --http to serve the "
    "Events API over HTTP (with SLACK_SIGNING_SECRET)"
)


def build_parser() -> argparse.ArgumentParser:
    p = runtime.parser("slack", "Run the Slack front end.")
    p.add_argument("--http", action="store_true", help="serve HTTP (Events API) instead of Socket Mode")
    p.add_argument("--host", default=os.environ.get("HOST", "0.0.0.0"), help="HTTP mode: address to bind (default 0.0.0.0)")
    p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")), help="HTTP mode: port (default $PORT or 3000)")
    p.add_argument("--workers", type=int, default=1, help="HTTP mode: worker processes sharing the port (default 1)")
    p.add_argument("--upload-charts", action="store_true", default=None,
                   help="upload stats as PNG images (needs the files:write scope; or SLACK_UPLOAD_CHARTS=1)")
    p.add_argument("--drain-seconds", type=float, default=10.0, help="on SIGTERM, wait this long for replies in flight")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)  # set by the supervisor
    return p


def run(args, build_service) -> int:
    opts = build_parser().parse_args(runtime.own_flags(args))

    from .settings import Settings

    settings = Settings.from_env(upload_charts=opts.upload_charts, drain_seconds=opts.drain_seconds)
    if not settings.bot_token:
        return runtime.usage_error("SLACK_BOT_TOKEN is not set (the bot token, xoxb-...)")
    http = opts.http
    if not http and not settings.app_token:
        return runtime.usage_error(USAGE_MODE)
    if http and not settings.signing_secret:
        return runtime.usage_error("HTTP mode needs SLACK_SIGNING_SECRET (Basic Information > App Credentials)")
    if opts.workers < 1 or (opts.workers > 1 and not http):
        return runtime.usage_error("--workers N (N >= 1) applies to HTTP mode only")
    problem = runtime.start_logging(opts.log_level)
    if problem:
        return runtime.usage_error(problem)
    if http and opts.workers > 1 and not opts.worker:
        from .web import free_port, supervise, worker_argv

        port = opts.port or free_port(opts.host)
        return supervise(worker_argv(args, opts, port), opts.workers)

    from .app import SlackAdapter

    service = build_service(args, watch=True)
    adapter = SlackAdapter(service, settings)
    if http:
        from .web import serve_http

        asyncio.run(serve_http(adapter, opts.host, opts.port, reuse_port=opts.worker))
    else:
        from .socket_mode import serve_socket_mode

        asyncio.run(serve_socket_mode(adapter, health_host=opts.host, health_port=opts.health_port))
    return 0
