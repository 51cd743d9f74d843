"""The rule base, ready to decide with: read and checked (`bot.reader`), then compiled.

Compiling attaches what deciding needs and reading must not: the phrase matcher and the
learned decision. Keeping that step here, above the reader and the schema, is what lets
the matcher and the model depend on the schema without an import cycle.
"""
from __future__ import annotations

from pathlib import Path

from .reader import knowledge_files, read_knowledge
from .schema import Knowledge, Phrase
from .yamlfile import Problem, did_you_mean, gc_paused

# What callers take from here rather than from the reader or the schema.
__all__ = ["Knowledge", "Phrase", "build", "did_you_mean", "knowledge_files", "load_knowledge"]


def load_knowledge(directory: Path) -> tuple[Knowledge | None, list[Problem]]:
    """Read, validate and compile a knowledge directory.

    Returns (knowledge, problems). Knowledge is None when any problem is an error.
    """
    with gc_paused():
        knowledge, problems = read_knowledge(Path(directory))
        if knowledge is not None:
            try:
                build(knowledge)
            except Exception as exc:  # noqa: BLE001 - a fit that fails must refuse the edit, not crash the bot
                problems = [*problems, Problem(str(directory), 0, f"the decision could not be trained from these examples: {exc.__class__.__name__}: {exc}")]
                return None, problems
        return knowledge, problems


def build(knowledge: Knowledge) -> Knowledge:
    """Attach the matcher and the learned decision (or the note saying why there is none).

    Imported here, not at the top: `import bot.knowledge` for the types stays cheap, and
    numpy and the model load only when knowledge is really compiled.
    """
    from .matcher import Matcher
    from .modelcache import model_for
    from .train import TrainingError

    object.__setattr__(knowledge, "matcher", Matcher(knowledge))
    try:
        object.__setattr__(knowledge, "model", model_for(knowledge))
    except TrainingError as exc:
        object.__setattr__(knowledge, "model_note", f"no learned decision, the rules decide alone: {exc}")
    return knowledge
