"""`triage-bot bench`: speed and memory, measured, with the naive baseline in the same run.

Speed claims live here and in the README, never in timed tests: a loaded CI machine would
make a timed test flaky without telling us anything.
"""
from __future__ import annotations

import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from .classify import triage
from .knowledge import Knowledge, load_knowledge
from .check import check
from .reload import KnowledgeHolder
from .timings import naive_baseline, summary

_FILLER = (
    "the we our a it is this that team model system users people after when why how should "
    "can so and but with for on in to of about from again just really think maybe still "
    "yesterday release customer report data question issue worried noticed seems"
).split()


def sample_messages(knowledge: Knowledge, count: int, words: int | None, seed: int = 7) -> list[str]:
    """Chat-like messages: real rule phrases and examples mixed with everyday filler."""
    rng = random.Random(seed)
    phrases = [p.text for r in knowledge.rules for p in r.phrases if "..." not in p.text]
    examples = [e.text for e in knowledge.examples] or ["the model made up a citation"]
    out = []
    for _ in range(count):
        if words is None:
            base = rng.choice(examples).split()
            pos = rng.randrange(len(base) + 1)
            base[pos:pos] = rng.choice(phrases).split() if rng.random() < 0.5 else []
            out.append(" ".join(base))
        else:
            bag = []
            while len(bag) < words:
                bag.extend(rng.choice(phrases).split() if rng.random() < 0.15 else [rng.choice(_FILLER)])
            out.append(" ".join(bag[:words]))
    return out


def generated_rules(count: int, seed: int = 11) -> str:
    """A synthetic rule file of `count` rules, 5 phrases each, to measure scaling."""
    rng = random.Random(seed)
    # Random 8-10 letter pseudo-words over rare letters: phrases neither collide with each
    # other nor with English, as a real rule base's phrases mostly don't.
    letters = "qxzjvkwyaeiou"
    lines = ["rules:"]
    for n in range(count):
        lines.append(f"  - id: gen-{n}")
        lines.append(f'    concept: "generated concept {n}"')
        lines.append(f"    category: {('technical', 'societal', 'both')[n % 3]}")
        lines.append("    phrases:")
        for _ in range(5):
            words = ["".join(rng.choice(letters) for _ in range(rng.randint(8, 10))) for _ in range(rng.randint(1, 3))]
            lines.append(f'      - "{" ".join(words)}"')
    return "\n".join(lines) + "\n"


def latency(knowledge: Knowledge, messages: list[str]) -> dict:
    for m in messages[:50]:  # warm the stem and typo caches as a running bot would be
        triage(knowledge, m)
    times = []
    start = time.perf_counter()
    for m in messages:
        t0 = time.perf_counter_ns()
        triage(knowledge, m)
        times.append((time.perf_counter_ns() - t0) / 1000.0)
    return summary(times, time.perf_counter() - start)


def timed(fn, repeat: int = 3):
    best, value = None, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = fn()
        elapsed = time.perf_counter() - t0
        best = elapsed if best is None else min(best, elapsed)
    return best, value


def console_rss_mb(knowledge_dir: Path, messages: list[str]) -> float:
    """Peak RSS (VmHWM) of a real `triage-bot console` process after it answered `messages`.

    Read from /proc while the process still runs: getrusage(RUSAGE_CHILDREN) would report
    the forked copy of this (much larger) benchmark process instead.
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", "adapters.cli", "console", "--knowledge", str(knowledge_dir)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        proc.stdin.write(("\n".join(messages) + "\n").encode())
        proc.stdin.flush()
        answered = 0
        while answered < len(messages):
            line = proc.stdout.readline()
            if not line:
                break
            answered += line == b"---\n"
        status = Path(f"/proc/{proc.pid}/status").read_text()
        kb = next(int(row.split()[1]) for row in status.splitlines() if row.startswith("VmHWM:"))
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    return round(kb / 1024, 1)


def service_latency(service, messages: list[str], event_ids: bool) -> dict:
    """Service.handle() per message, as an adapter calls it (no rate limit). With event ids,
    each message also pays the cross-process dedupe claim, a synchronous store round trip."""
    from .messages import DM, Incoming

    tag = uuid.uuid4().hex[:6]
    for n, m in enumerate(messages[:50]):
        service.handle(Incoming("bench", "W", "C", f"U{n % 50}", m, DM, event_id=f"warm-{tag}-{n}" if event_ids else None))
    times = []
    start = time.perf_counter()
    for n, m in enumerate(messages):
        t0 = time.perf_counter_ns()
        service.handle(Incoming("bench", "W", "C", f"U{n % 50}", m, DM, event_id=f"ev-{tag}-{n}" if event_ids else None))
        times.append((time.perf_counter_ns() - t0) / 1000.0)
    out = summary(times, time.perf_counter() - start)
    flush_start = time.perf_counter()
    if service.store is not None:
        service.store.flush(60)
    out["drain_s"] = round(time.perf_counter() - flush_start, 3)
    return out


def bench_recording(knowledge_dir: Path, messages: list[str]) -> dict:
    """Reply latency with records off, on SQLite and on PostgreSQL, in one run. Each store
    journals a record (fdatasync) before the reply; the "no fdatasync" rows show what the
    sync itself costs (without it a record survives a killed process, not a power cut)."""
    import os

    from .config import Config
    from .reload import KnowledgeHolder
    from .service import Service
    from .store import open_store

    config = Config(rate_per_minute=0)
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        pg_url = os.environ.get("TRIAGE_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        backends = [("none", None, {}), ("sqlite", None, {}), ("sqlite, no fdatasync", None, {"journal_sync": False}),
                    ("postgresql", pg_url, {"schema": schema}),
                    ("postgresql, no fdatasync", pg_url, {"schema": schema, "journal_sync": False})]
        for name, url, opts in backends:
            try:
                store = None if name == "none" else open_store(url, Path(tmp) / name, **opts)
            except Exception as exc:  # no server here: say so rather than fail the whole bench
                out[name] = {"error": str(exc)}
                continue
            service = Service(KnowledgeHolder(knowledge_dir), store, config)
            try:
                out[name] = service_latency(service, messages, event_ids=False)
                if store is not None:
                    out[name]["with_dedupe"] = service_latency(service, messages, event_ids=True)
                    out[name]["ok"] = store.health().get("ok")
            finally:
                service.close()
        try:
            import psycopg

            with psycopg.connect(pg_url, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        except Exception:
            pass
    base = out["none"]["median_us"]
    for name in out:
        if name != "none" and "median_us" in out[name]:
            out[name]["overhead_median_pct"] = round(100 * (out[name]["median_us"] - base) / base, 1)
            dedupe = out[name]["with_dedupe"]
            dedupe["claim_cost_median_us"] = round(dedupe["median_us"] - out[name]["median_us"], 1)
    return out


def rule_base_figures(knowledge: Knowledge, timings: dict[str, float], chat: list[str], long: list[str]) -> dict:
    """What the report says of each rule base it measures, shipped or generated, in one
    shape: its size, its load and check timings (seconds), then its reply latency on
    chat-sized and 300-word messages."""
    return {
        "rules": len(knowledge.rules),
        "phrases": knowledge.phrase_count,
        **{name: round(seconds, 4) for name, seconds in timings.items()},
        "chat": latency(knowledge, chat),
        "300_words": latency(knowledge, long),
    }


def run(args) -> int:
    quick = getattr(args, "quick", False)
    n_chat, n_long, n_base = (300, 50, 30) if quick else (5000, 500, 300)
    report: dict = {"python": sys.version.split()[0]}
    shipped_dir = Path(args.knowledge)

    load_s, (knowledge, _) = timed(lambda: load_knowledge(shipped_dir))
    check_s, _ = timed(lambda: check(shipped_dir), repeat=1)
    chat = sample_messages(knowledge, n_chat, None)
    report["shipped"] = rule_base_figures(knowledge, {"load_validate_s": load_s, "check_with_examples_s": check_s},
                                          chat, sample_messages(knowledge, n_long, 300))
    base = naive_baseline(knowledge, chat[:n_base])
    report["naive_partial_ratio"] = base
    report["speedup_vs_naive_median"] = round(base["median_us"] / report["shipped"]["chat"]["median_us"], 1)

    with tempfile.TemporaryDirectory() as tmp:
        big_dir = Path(tmp) / "knowledge"
        shutil.copytree(shipped_dir, big_dir)
        (big_dir / "rules" / "generated.yaml").write_text(generated_rules(5000))
        cold_start = time.perf_counter()
        big, problems = load_knowledge(big_dir)
        big_cold = time.perf_counter() - cold_start
        if big is None:
            print("generated knowledge failed to load:", problems[:3], file=sys.stderr)
            return 1
        holder = KnowledgeHolder(big_dir)
        # A moderator's edit: one rule changes in the 5,000-rule file, then the bot reloads.
        generated = big_dir / "rules" / "generated.yaml"
        generated.write_text(generated.read_text().replace('concept: "generated concept 0"', 'concept: "edited"'))
        reload_s, event = timed(holder.reload, repeat=1)
        assert event.ok, event.describe()
        big_check, _ = timed(lambda: check(big_dir), repeat=1)
        timings = {"cold_load_validate_s": big_cold, "reload_after_edit_s": reload_s, "check_with_warnings_s": big_check}
        report["rules_5000"] = rule_base_figures(big, timings, sample_messages(big, n_chat, None),
                                                 sample_messages(big, n_long, 300))
        report["rules_5000"]["chat_vs_shipped_median"] = round(
            report["rules_5000"]["chat"]["median_us"] / report["shipped"]["chat"]["median_us"], 2
        )
    from .bench_decision import run as decision_bench

    report["decision"] = decision_bench(knowledge, shipped_dir, chat[:300], quick)
    report["recording"] = bench_recording(shipped_dir, chat[: (500 if quick else 3000)])
    report["bench_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    report["console_peak_rss_mb"] = console_rss_mb(shipped_dir, chat[:200])
    if getattr(args, "json", False):
        print(json.dumps(report, indent=2))
    else:
        print(format_report(report))
    return 0


def format_report(r: dict) -> str:
    s, b, n = r["shipped"], r["rules_5000"], r["naive_partial_ratio"]
    rows = [
        ("shipped knowledge", f"{s['rules']} rules / {s['phrases']} phrases"),
        ("  load + validate", f"{s['load_validate_s'] * 1000:.1f} ms (check incl. examples {s['check_with_examples_s'] * 1000:.0f} ms)"),
        ("  chat message", _lat(s["chat"])),
        ("  300-word message", _lat(s["300_words"])),
        ("naive partial_ratio loop", f"median {n['median_us']:.0f} us, p99 {n['p99_us']:.0f} us (chat, {n['messages']} msgs)"),
        ("  speed-up (median, chat)", f"{r['speedup_vs_naive_median']}x"),
        ("generated 5,000-rule base", f"{b['rules']} rules / {b['phrases']} phrases"),
        ("  cold load + validate", f"{b['cold_load_validate_s'] * 1000:.0f} ms"),
        ("  reload after an edit", f"{b['reload_after_edit_s'] * 1000:.0f} ms"),
        ("  knowledge check", f"{b['check_with_warnings_s'] * 1000:.0f} ms (validation, warnings, examples)"),
        ("  chat message", _lat(b["chat"]) + f"  ({b['chat_vs_shipped_median']}x shipped)"),
        ("  300-word message", _lat(b["300_words"])),
        ("peak RSS", f"bench {r['bench_peak_rss_mb']} MB, console {r['console_peak_rss_mb']} MB"),
    ]
    from .bench_decision import format_rows

    rows += format_rows(r["decision"])
    for name, d in r["recording"].items():
        label = f"service.handle, records: {name}"
        if "error" in d:
            rows.append((label, f"not measured: {d['error'][:80]}"))
            continue
        extra = f"  (+{d['overhead_median_pct']}% vs none; queue drained {d['drain_s']} s later)" if "overhead_median_pct" in d else ""
        rows.append((label, _lat(d) + extra))
        if "with_dedupe" in d:
            dd = d["with_dedupe"]
            rows.append(("  + event-id dedupe claim", _lat(dd) + f"  (claim round trip ~{dd['claim_cost_median_us']:.0f} us)"))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def _lat(d: dict) -> str:
    return f"median {d['median_us']:.0f} us, p99 {d['p99_us']:.0f} us, {d['per_second']:,}/s ({d['messages']} msgs)"
