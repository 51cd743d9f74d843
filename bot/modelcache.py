"""The trained decision, cached by what it is a function of: knowledge, encoders, recipe.

A cold fit of a few thousand examples takes a second or two; a restart or a reload of
unchanged knowledge should not pay it again. The cache is numpy's .npz read with
allow_pickle=False, so a file planted in the cache folder cannot run code, and a corrupt or
stale file is simply retrained over. Each process also keeps the models it built, so tests
and hot reloads of the same content never refit.

Where: $TRIAGE_MODEL_CACHE, else $XDG_CACHE_HOME/triage-bot, else ~/.cache/triage-bot. A
folder that cannot be written is not an error: the bot trains in memory and says so in logs.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
from pathlib import Path

import numpy as np

from .embedding import shared as shared_embedding
from .transformer import active as active_transformer
from .schema import Knowledge
from .model import Model

log = logging.getLogger("bot.model")

RECIPE_VERSION = "19"  # bump when bot/train.py or bot/features.py changes what a fit produces
_ARRAYS = (
    "idf", "words_w", "emb_w", "emb_b", "stack_dense", "stack_sparse", "stack_b",
    "pit_w", "pit_b", "example_vecs", "example_labels", "example_basis",
)  # fmt: skip
_memo: dict[str, Model] = {}
_memo_lock = threading.Lock()
_MEMO_CAP = 8


def cache_dir(env=os.environ) -> Path:
    if env.get("TRIAGE_MODEL_CACHE"):
        return Path(env["TRIAGE_MODEL_CACHE"])
    base = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return base / "triage-bot"


def model_for(knowledge: Knowledge) -> Model:
    """The trained model for this knowledge: from memory, from disk, or fitted now.

    Raises train.TrainingError when the examples cannot support a learned decision.
    """
    key = cache_key(knowledge)
    with _memo_lock:
        if key in _memo:
            return _memo[key]
    path = cache_dir() / f"model-{key}.npz"
    model = load(path) if path.exists() else None
    if model is None:
        from .train import train  # late: scipy is imported only when fitting

        model = train(knowledge)
        save(model, path)
    with _memo_lock:
        if len(_memo) >= _MEMO_CAP:
            _memo.clear()
        _memo[key] = model
    return model


def cache_key(knowledge: Knowledge) -> str:
    """The cache key, without importing scipy just to read its version:
    the installed distribution's metadata says the same."""
    from importlib.metadata import version

    encoder = active_transformer()
    parts = [knowledge.version, shared_embedding().version, encoder.version if encoder else "static", RECIPE_VERSION,
             version("scipy"), np.__version__]  # fmt: skip
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]


def save(model: Model, path: Path) -> None:
    meta = {
        "vocab": sorted(model.vocab, key=model.vocab.get),
        "stack_keys": sorted(model.stack_keys, key=model.stack_keys.get),
        "pitfall_ids": list(model.pitfall_ids),
        "example_texts": list(model.example_texts),
        "temperature": model.temperature,
        "pit_threshold": model.pit_threshold,
        "abstain_below": model.abstain_below,
        "tuned_version": model.tuned_version,
        "meta": model.meta,
    }
    arrays = {name: getattr(model, name) for name in _ARRAYS}
    arrays["meta_json"] = np.asarray(json.dumps(meta))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".model-", suffix=".npz")
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, path)  # readers see the old file or the new one, never half of one
    except OSError as exc:
        log.warning("model cache not written", extra={"path": str(path), "error": str(exc)})


def load(path: Path) -> Model | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta_json"]))
            arrays = {name: data[name] for name in _ARRAYS}
        return Model(
            vocab={g: i for i, g in enumerate(meta["vocab"])},
            stack_keys={k: i for i, k in enumerate(meta["stack_keys"])},
            pitfall_ids=tuple(meta["pitfall_ids"]),
            example_texts=tuple(meta["example_texts"]),
            temperature=float(meta["temperature"]),
            pit_threshold=float(meta["pit_threshold"]),
            abstain_below=float(meta["abstain_below"]),
            tuned_version=str(meta.get("tuned_version", "")),
            meta=meta["meta"],
            **arrays,
        )
    except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
        log.warning("model cache unreadable, retraining", extra={"path": str(path), "error": str(exc)})
        return None
