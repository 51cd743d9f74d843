"""The one place the Slack front end uses a library internal, and why no public API does it.

bolt's form parsing (`slack_bolt.request.internals.parse_body`, 1.30) takes ANY form body
that contains the substring "payload" for an interactive `payload=<json>` body, so the slash
command `/triage is this payload risky?` parses to {} and is answered 404. `AsyncBoltRequest`
accepts an already parsed body only in Socket Mode; in HTTP mode it insists on the raw text
(which bolt's signature check needs) and parses it itself. So the request is built the
public way and, when it is such a slash command, given its real fields and the context
bolt derives from them with `build_async_context`, which bolt only exposes from
`slack_bolt.request.async_internals`.

`tests/slack/test_slack_interactive.py` asserts bolt still misparses such a body; when that
test says the bug is gone, delete this module.
"""
from __future__ import annotations

from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_bolt_request
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest


async def bolt_request(request: web.Request) -> AsyncBoltRequest:
    """`to_bolt_request`, with a form body that has no `payload` field parsed as the plain
    form it is."""
    req = await to_bolt_request(request)
    if not req.body and req.raw_body and req.content_type == "application/x-www-form-urlencoded":
        fields = dict(parse_qsl(req.raw_body, keep_blank_values=True))
        if fields and "payload" not in fields:
            req.body = fields
            req.context = build_async_context(AsyncBoltContext({}), req.body)
    return req
