"""Benchmark for `triage-bot report`: a generated Slack workspace export, timed end to end.

    python bench/report_export.py [--messages 1000000] [--workers 2] [--keep DIR]

Writes a Slack export zip with MESSAGES messages (people's concerns and chatter, thread
replies, bots, joins, a few empty ones) straight into the archive, runs the real command on
it as a separate process and samples the memory of that process and of its workers every
0.1 s from /proc. Reported: messages/s over the whole run (reading, triage, writing the three
files) and peak RSS, both for the largest single process and summed over the process tree
at its peak. Targets (issue 11): >= 5,000 messages/s and <= 300 MB on a 2-core machine.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
START = 1672531200  # 2023-01-01 UTC
CONCERNS = [
    "the support bot keeps making up refund policies that do not exist",
    "who decides which neighbourhoods the predictive policing model patrols?",
    "our hiring model rejects older applicants and nobody can appeal the decision",
    "someone found a jailbreak that bypasses the guardrails on the assistant",
    "the minister says the new AI law will make our models robust, so we can skip the red-teaming",
    "is it ok that the vendor trains on our customers' chats without asking them?",
    "the summariser hallucinated a citation in the board report",
    "three companies control all the compute, what does that mean for smaller labs?",
    "the model's accuracy drops badly on accents it never saw in testing",
    "can we get an audit trail for every automated credit decision",
]
CHATTER = [
    "lunch at noon?", "thanks, merged", "can someone review my PR", "the build is green again",
    "standup moved to 10:30", "happy friday everyone", "I'll be out tomorrow", "see the doc I shared",
    "good point, let's discuss on Monday", "has anyone seen the new office plants",
]

TAILS = ["cc", "see the thread from", "flagged by", "per the notes from", "asking for", "raised again by",
         "any thoughts", "following up with", "after the review with", "from the meeting with"]
NAMES = ["ada", "grace", "linus", "margaret", "alan", "katherine", "tim", "barbara", "dennis", "frances",
         "the legal team", "the data team", "procurement", "the ethics board", "our vendor", "the pilot users"]


def generate(path: Path, messages: int, channels: int = 24, seed: int = 7) -> None:
    """Day files of ~200 messages, written member by member (the whole export is never in memory)."""
    rnd = random.Random(seed)
    per_day = 200
    days = -(-messages // (per_day * channels))
    written = 0
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        names = [f"team-{i:02d}" for i in range(channels)]
        z.writestr("channels.json", json.dumps([{"id": f"C{i:08d}", "name": n} for i, n in enumerate(names)]))
        z.writestr("users.json", json.dumps([{"id": f"U{i:08d}", "name": f"user{i}"} for i in range(500)]))
        for day in range(days):
            for name in names:
                n = min(per_day, messages - written)
                if n <= 0:
                    break
                base = START + day * 86400
                rows, last = [], None
                for k in range(n):
                    ts = f"{base + k * 300 + rnd.random():.6f}"
                    row = _message(rnd, ts, last)
                    rows.append(row)
                    last = ts if "thread_ts" not in row else last
                stamp = time.strftime("%Y-%m-%d", time.gmtime(base))
                with z.open(f"{name}/{stamp}.json", "w") as f:
                    f.write(json.dumps(rows, indent=4).encode())
                written += n


def generate_discord(path: Path, messages: int, channels: int = 4, seed: int = 7) -> None:
    """DiscordChatExporter files, one per channel, written message by message: each file is one
    JSON document of hundreds of megabytes, which the reader must not load whole."""
    rnd = random.Random(seed)
    path.mkdir(parents=True, exist_ok=True)
    per_channel = -(-messages // channels)
    for c in range(channels):
        n = min(per_channel, messages - c * per_channel)
        with (path / f"lab - team-{c:02d} [{c}].json").open("w", encoding="utf-8") as f:
            head = {"guild": {"id": "1", "name": "Lab"}, "channel": {"id": str(c), "type": "GuildTextChat", "name": f"team-{c:02d}"}}
            f.write(json.dumps(head, indent=2)[:-2] + ',\n  "messages": [\n')
            for k in range(n):
                row = _message(rnd, str(START + k * 30), None)
                bot = row.get("subtype") == "bot_message"
                out = {"id": str(c * per_channel + k), "type": "GuildMemberJoin" if row.get("subtype") == "channel_join" else "Default",
                       "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(START + k * 30)), "content": row["text"],
                       "author": {"id": row.get("user", "1"), "name": "x", "isBot": bot}, "attachments": [], "embeds": [], "reactions": []}
                f.write(("    " if k == 0 else ",\n    ") + json.dumps(out))
            f.write(f'\n  ],\n  "messageCount": {n}\n}}\n')


def _message(rnd: random.Random, ts: str, parent: str | None) -> dict:
    roll = rnd.random()
    user = f"U{rnd.randrange(500):08d}"
    if roll < 0.05:
        return {"type": "message", "subtype": "bot_message", "bot_id": "B0001", "text": "deploy finished", "ts": ts}
    if roll < 0.07:
        return {"type": "message", "subtype": "channel_join", "user": user, "text": f"<@{user}> has joined the channel", "ts": ts}
    if roll < 0.08:
        return {"type": "message", "user": user, "text": ":+1:", "ts": ts}
    text = rnd.choice(CONCERNS if roll < 0.45 else CHATTER)
    if rnd.random() < 0.6:  # vary the words, so that no cache sees the same message twice
        text = f"{text} {rnd.choice(TAILS)} {rnd.choice(NAMES)} (ticket {rnd.randrange(100000)})"
    if rnd.random() < 0.3:
        text = f"<@U{rnd.randrange(500):08d}> {text} <https://example.com/doc|the doc>"
    row = {"client_msg_id": f"{rnd.getrandbits(64):016x}", "type": "message", "text": text, "user": user, "ts": ts,
           "team": "T0001", "blocks": [{"type": "rich_text", "elements": []}]}
    if parent and rnd.random() < 0.2:
        row["thread_ts"], row["parent_user_id"] = parent, user
    return row


def _tree_rss(root: int) -> tuple[int, int, int]:
    """(RSS sum, largest RSS, PSS sum) in bytes of `root` and its descendants.

    Forked workers share the parent's pages (the knowledge and the trained model), and RSS
    counts a shared page once per process; PSS divides it among them, so the PSS sum is the
    memory the tree really holds."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in tree:
                tree.add(child)
                frontier.append(child)
    sizes, pss = [], 0
    for pid in tree:
        try:
            with open(f"/proc/{pid}/statm") as f:
                sizes.append(int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE"))
            with open(f"/proc/{pid}/smaps_rollup") as f:
                pss += next(int(line.split()[1]) for line in f if line.startswith("Pss:")) * 1024
        except (OSError, StopIteration):
            pass
    return sum(sizes), max(sizes, default=0), pss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--format", choices=("slack", "discord"), default="slack", help="what export to generate")
    parser.add_argument("--keep", type=Path, help="keep the export and the report in DIR (the export is reused)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="report-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    export = work / (f"slack-{args.messages}.zip" if args.format == "slack" else f"discord-{args.messages}")
    if not export.exists():
        started = time.perf_counter()
        (generate if args.format == "slack" else generate_discord)(export, args.messages)
        size = sum(f.stat().st_size for f in export.iterdir()) if export.is_dir() else export.stat().st_size
        print(f"generated {export} ({size / 1e6:.0f} MB) in {time.perf_counter() - started:.0f}s")
    out = work / "out"
    cmd = [sys.executable, "-m", "adapters.cli", "report", str(export), "--out", str(out), "--workers", str(args.workers), "--no-progress"]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak_sum = peak_one = peak_pss = 0
    while proc.poll() is None:
        total, largest, pss = _tree_rss(proc.pid)
        peak_sum, peak_one, peak_pss = max(peak_sum, total), max(peak_one, largest), max(peak_pss, pss)
        time.sleep(0.1)
    elapsed = time.perf_counter() - started
    stdout, stderr = proc.communicate()
    summary = json.loads((out / "summary.json").read_text())
    read, triaged = summary["counts"]["read"], summary["counts"]["triaged"]
    print(stdout.strip())
    if stderr.strip():
        print(stderr.strip(), file=sys.stderr)
    print(f"{args.format}: {read:,} messages read ({triaged:,} triaged) with {args.workers} worker(s) in {elapsed:.1f}s "
          f"on {os.cpu_count()} CPU(s): {read / elapsed:,.0f} messages/s ({triaged / elapsed:,.0f} triaged/s)")
    print(f"peak memory: {peak_pss / 2**20:.0f} MB PSS for the whole process tree (RSS summed, shared pages "
          f"counted once per process: {peak_sum / 2**20:.0f} MB), {peak_one / 2**20:.0f} MB RSS for the largest process")
    ok = read / elapsed >= 5000 and peak_pss <= 300 * 2**20 and proc.returncode == 0
    print("targets (>= 5,000 messages/s, <= 300 MB PSS):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
