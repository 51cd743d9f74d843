"""Ack latency of the Slack adapter in HTTP mode under a steady stream of /triage commands.

    .venv/bin/python bench/slack_acks.py [--rate 200] [--seconds 10] [--workers 1] [--json]

Three processes, all on loopback and offline:
  1. this one: the fake Slack Web API (tests/fakes/slack_api.py), which also receives the
     answers posted to each command's response_url;
  2. the bot: `python -m adapters.cli slack --http` (the real adapter, bolt and Service, with a
     SQLite store in a temp dir and the shipped knowledge);
  3. the load generator: sends signed slash commands (distinct users, so nobody is rate
     limited and every command is triaged and recorded) at a fixed rate, open loop, and
     times each one from request to HTTP 200, i.e. the ack Slack waits for (3 s budget).

Prints p50/p90/p99/max ack latency, acks/s, and how many answers reached their
response_url. Exit status 1 when p99 exceeds --target-ms (default 100) or anything failed.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-bench-not-a-real-token"
CONCERNS = [
    "the support bot keeps hallucinating refund policies that don't exist",
    "the kill switch works, but only the CEO can use it and nobody oversees that",
    "who decides where the facial recognition cameras go in our city?",
    "our model can be jailbroken to bypass its guardrails with a simple prompt",
    "the hiring model shows bias against older applicants",
    "is this payload of training data legal to use?",
]


def _percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


def generate(url: str, response_base: str, rate: float, count: int, warmup: int, out) -> None:
    """Load generator (runs in its own process)."""
    import aiohttp

    from tests.fakes import slack_payloads as sp

    def build(i: int, prefix: str):
        cmd = sp.slash_command(CONCERNS[i % len(CONCERNS)], user_id=f"U{prefix}{i:06d}",
                               response_url=f"{response_base}{prefix}{i}")  # fmt: skip
        return sp.signed(SECRET, cmd)

    async def run() -> dict:
        warm = [build(i, "w") for i in range(warmup)]
        reqs = [build(i, "b") for i in range(count)]
        latencies: list[float] = []
        lateness: list[float] = []
        statuses: dict[int, int] = {}
        errors: list[str] = []
        connector = aiohttp.TCPConnector(limit=256)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=10)) as session:

            async def send(req, record: bool) -> None:
                start = time.perf_counter()
                try:
                    async with session.post(url, data=req.body, headers=req.headers) as resp:
                        await resp.read()
                        status = resp.status
                except Exception as exc:  # noqa: BLE001
                    if record:
                        errors.append(type(exc).__name__)
                    return
                if record:
                    latencies.append(time.perf_counter() - start)
                    statuses[status] = statuses.get(status, 0) + 1

            for req in warm:
                await send(req, False)
            await asyncio.sleep(0.5)
            loop = asyncio.get_running_loop()
            tasks = []
            t0 = loop.time() + 0.05
            for i, req in enumerate(reqs):
                due = t0 + i / rate
                delay = due - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                lateness.append(max(0.0, loop.time() - due))
                tasks.append(asyncio.create_task(send(req, True)))
            await asyncio.gather(*tasks)
            elapsed = loop.time() - t0
        return {"latencies": latencies, "statuses": statuses, "errors": errors, "elapsed": elapsed,
                "max_lateness_ms": max(lateness) * 1000 if lateness else 0.0}  # fmt: skip

    out.put(asyncio.run(run()))


def _get(url: str) -> int:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=2) as r:
            return r.status
    except Exception:
        return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=200.0, help="commands per second (default 200)")
    ap.add_argument("--seconds", type=float, default=10.0, help="duration (default 10)")
    ap.add_argument("--workers", type=int, default=1, help="bot worker processes (default 1)")
    ap.add_argument("--target-ms", type=float, default=100.0, help="p99 ack target (default 100)")
    ap.add_argument("--json", action="store_true")
    opts = ap.parse_args(argv)
    count = max(1, min(int(opts.rate * opts.seconds), 20_000))  # bounded

    from adapters.slack.web import free_port
    from tests.fakes.slack_api import FakeSlackAPI

    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        os.environ.pop(name, None)
    with FakeSlackAPI() as slack, tempfile.TemporaryDirectory() as tmp:
        port = free_port("127.0.0.1")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TRIAGE_"))}
        env.update(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=slack.base_url,
                   TRIAGE_DATA_DIR=tmp, PYTHONPATH=str(REPO))  # fmt: skip
        log_path = Path(tmp) / "bot.log"
        with open(log_path, "wb") as log:
            bot = subprocess.Popen([sys.executable, "-m", "adapters.cli", "slack", "--http", "--host", "127.0.0.1", "--port", str(port),
                                    "--workers", str(opts.workers), "--log-level", "WARNING"],
                                   env=env, cwd=str(REPO), stderr=log)  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while _get(f"http://127.0.0.1:{port}/healthz") != 200:
                if time.monotonic() > deadline or bot.poll() is not None:
                    print(log_path.read_text()[-2000:], file=sys.stderr)
                    raise SystemExit("the bot did not come up")
                time.sleep(0.1)
            warmup = 50
            ctx = mp.get_context("spawn")
            results = ctx.Queue()
            gen = ctx.Process(target=generate, args=(f"http://127.0.0.1:{port}/slack/events", slack.response_url(""), opts.rate, count, warmup, results))
            gen.start()
            res = results.get(timeout=opts.seconds + 120)
            gen.join(10)
            # every command's answer should reach its response_url
            deadline = time.monotonic() + 30
            while len(slack.calls("response_url")) < count + warmup and time.monotonic() < deadline:
                time.sleep(0.1)
            delivered = len(slack.calls("response_url")) - warmup
            triaged = sum(1 for c in slack.calls("response_url") if "fb|" in json.dumps(c.params.get("blocks")))
            bad_blocks = sum(1 for c in slack.calls("response_url") if any(p.startswith("invalid") for p in c.problems))
        finally:
            bot.terminate()
            try:
                bot.wait(30)
            except subprocess.TimeoutExpired:
                bot.kill()
    lat = sorted(x * 1000 for x in res["latencies"])
    acked = res["statuses"].get(200, 0)
    report = {
        "commands": count,
        "rate_target": opts.rate,
        "workers": opts.workers,
        "acked_200": acked,
        "other_status": {k: v for k, v in res["statuses"].items() if k != 200},
        "errors": len(res["errors"]),
        "duration_s": round(res["elapsed"], 2),
        "acks_per_s": round(acked / res["elapsed"], 1) if res["elapsed"] else 0.0,
        "p50_ms": round(_percentile(lat, 50), 2),
        "p90_ms": round(_percentile(lat, 90), 2),
        "p99_ms": round(_percentile(lat, 99), 2),
        "max_ms": round(lat[-1], 2) if lat else None,
        "generator_max_lateness_ms": round(res["max_lateness_ms"], 2),
        "answers_delivered": delivered,
        "answers_triaged": triaged - warmup,
        "answers_with_invalid_blocks": bad_blocks,
        "bot_exit_code": bot.returncode,
    }
    ok = (acked == count and report["p99_ms"] <= opts.target_ms and delivered == count and bad_blocks == 0 and bot.returncode == 0)
    report["ok"] = ok
    if opts.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{count} /triage commands at {opts.rate:g}/s for {report['duration_s']} s, {opts.workers} worker(s)")
        print(f"  acks: {acked} x 200, other {report['other_status'] or 'none'}, errors {report['errors']}; {report['acks_per_s']} acks/s")
        print(f"  ack latency: p50 {report['p50_ms']} ms, p90 {report['p90_ms']} ms, p99 {report['p99_ms']} ms, max {report['max_ms']} ms"
              f" (target p99 <= {opts.target_ms:g} ms)")
        print(f"  answers delivered to response_url: {delivered}/{count} ({report['answers_triaged']} full triages); invalid blocks: {bad_blocks}; "
              f"generator max lateness {report['generator_max_lateness_ms']} ms; bot exit {bot.returncode}")
        print("  OK" if ok else "  FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
