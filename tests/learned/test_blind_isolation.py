"""The blind set measures the decision only while no blind text is in its training data."""
import json
import re

import pytest

from bot.knowledge import load_knowledge
from tests.conftest import REPO, SHIPPED_KNOWLEDGE

BLIND = REPO / "tests" / "blind" / "blind.jsonl"
BLIND_SETS = sorted(BLIND.parent.glob("*.jsonl"))  # realistic chat posts, formal risk descriptions, plain-language posts
SHINGLE = 12  # twelve words in a row in common is a copied passage; eight can be an idiom


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.casefold())


def _shingles(text: str) -> set[tuple[str, ...]]:
    w = _words(text)
    return {tuple(w[i : i + SHINGLE]) for i in range(len(w) - SHINGLE + 1)}


def test_the_blind_sets_are_there():
    assert {p.name for p in BLIND_SETS} >= {"blind.jsonl", "blind-formal.jsonl", "blind-plain.jsonl"}


@pytest.mark.parametrize("path", BLIND_SETS, ids=lambda p: p.name)
def test_no_blind_text_or_near_copy_in_the_training_examples(path):
    blind = [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(blind) >= (400 if path == BLIND else 150)
    knowledge, _ = load_knowledge(SHIPPED_KNOWLEDGE)
    training = [e.text for e in knowledge.examples]
    exact = {" ".join(_words(t)) for t in training}
    copies = [t for t in blind if " ".join(_words(t)) in exact]
    assert not copies, copies[:3]
    train_shingles = set().union(*(_shingles(t) for t in training))
    near = [t for t in blind if _shingles(t) & train_shingles]
    assert not near, near[:3]


def test_training_reads_only_the_knowledge_directory():
    """bot/train.py and the loader take every example from the knowledge files; the blind
    folder is outside the knowledge directory, so nothing can pull it in."""
    assert not BLIND.resolve().is_relative_to(SHIPPED_KNOWLEDGE.resolve())
    knowledge, _ = load_knowledge(SHIPPED_KNOWLEDGE)
    assert all(not e.source.startswith("tests/") for e in knowledge.examples)
