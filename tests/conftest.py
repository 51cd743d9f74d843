"""Shared fixtures: a small, hand-made knowledge base whose behaviour the tests can predict.

Engine tests use this instead of the shipped rules, which moderators keep changing; the
shipped knowledge is tested through its own examples and the dev set.
"""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
SHIPPED_KNOWLEDGE = REPO / "knowledge"

_READING = "https://reflexive-ai.github.io/research/{}/"
TOPICS = ["power-and-control", "transparency-and-accountability", "capability-and-risk", "concentration", "algorithmic-bias"]
PITFALLS = ["technical-overreach", "deferring-to-experts", "merged-mandates", "missed-intersection", "governance-substitution"]


def _category(name: str) -> dict:
    return {
        "title": f"{name.title()} safety",
        "headline": f"This looks like a {name} concern",
        "framing": f"{name} framing",
        "questions": [f"{name} question {i}" for i in range(1, 5)],
        "expertise": [f"{name} expert"],
        "success": "s",
        "limitations": "l",
        "oversight": f"{name} oversight",
        "interventions": [{"name": "Testing", "when": "during development", "what": "w"}],
        "readings": ["034-technical-vs-societal-safety", f"r-{name}"],
    }


MINI = {
    "categories.yaml": {"categories": {c: _category(c) for c in ("technical", "societal", "both")}},
    "topics.yaml": {
        "topics": {
            t: {"title": t, "summary": "sum", "technical": "tech side", "societal": "soc side",
                "questions": [f"{t} question"], "readings": [f"r-{t}"]}
            for t in TOPICS
        }
    },
    "pitfalls.yaml": {
        "pitfalls": {p: {"title": p, "explanation": "e", "advice": "a", "readings": ["034-technical-vs-societal-safety"]} for p in PITFALLS}
    },
    "readings.yaml": {
        "readings": {
            r: {"title": f"Title {r}", "url": _READING.format(r), "categories": ["technical"]}
            for r in ["034-technical-vs-societal-safety", "r-technical", "r-societal", "r-both"] + [f"r-{t}" for t in TOPICS]
        }
    },
    "language.yaml": {
        "ai_context": ["ai", "model", "chatbot"],
        "exclusions": ["bias tape", "model train"],
        "negations": ["not", "no", "never", "can't"],
        "hedges": ["maybe", "might", "i think"],
    },
    "rules/rules.yaml": {
        "rules": [
            {"id": "hallucination", "concept": "made-up facts", "category": "technical", "weight": 2.0,
             "phrases": ["hallucinate", "made up"]},
            {"id": "jailbreak", "concept": "bypassing safeguards", "category": "technical", "weight": 2.0,
             "phrases": ["jailbreak", "bypass ... guardrails"]},
            {"id": "who-decides", "concept": "decision rights", "category": "societal", "weight": 2.0,
             "phrases": ["who decides"]},
            {"id": "surveillance", "concept": "surveillance", "category": "societal", "weight": 2.0,
             "phrases": ["surveillance"]},
            {"id": "bias", "concept": "biased outcomes", "category": "both", "weight": 1.5, "needs_ai_context": True,
             "topics": ["algorithmic-bias"], "phrases": ["bias"]},
            {"id": "kill-switch", "concept": "shutdown control", "category": "both", "weight": 2.0,
             "topics": ["power-and-control"], "phrases": ["kill switch"]},
            {"id": "kill", "concept": "violent content", "category": "technical", "weight": 0.5, "phrases": ["kill"]},
            {"id": "weak", "concept": "a weak hint", "category": "technical", "weight": 0.5, "phrases": ["robustness"]},
        ],
        "pitfall_rules": [
            {"id": "law-makes-robust", "pitfall": "governance-substitution", "concept": "law as reliability",
             "all": [["law", "regulation"], ["robust", "reliable"]]},
        ],
    },
    "examples.yaml": {
        "examples": [
            {"text": "the chatbot made up a citation", "label": "technical"},
            {"text": "who decides where the surveillance goes?", "label": "societal"},
            {"text": "bias tape for the quilt", "label": "unclear", "no_signals": True},
        ]
    },
}


def write_knowledge(root: Path, files: dict) -> Path:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    return root


def load_with(directory: Path, files: dict | None = None):
    """(knowledge, problems) for a knowledge directory once `files` are written into it:
    how a test adds to or breaks the mini knowledge base, in one call."""
    from bot.knowledge import load_knowledge

    return load_knowledge(write_knowledge(directory, files or {}))


def loaded(directory: Path, files: dict | None = None):
    """As `load_with`, for a test that needs the knowledge: a problem fails it, listed."""
    knowledge, problems = load_with(directory, files)
    assert knowledge is not None, [str(p) for p in problems]
    return knowledge


@pytest.fixture
def pg_schema():
    """A fresh PostgreSQL schema (dropped afterwards); skipped only outside CI if the server is down."""
    import uuid

    from tests.store.store_helpers import pg_admin, require_pg

    require_pg()
    name = f"t_{uuid.uuid4().hex[:12]}"
    yield name
    with pg_admin() as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture
def mini_dir(tmp_path: Path) -> Path:
    """A fresh copy of the mini knowledge base in a temp directory (tests may edit it)."""
    return write_knowledge(tmp_path / "knowledge", copy.deepcopy(MINI))


@pytest.fixture
def mini(mini_dir: Path):
    return loaded(mini_dir)
