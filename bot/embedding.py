"""A dense sentence vector for the learned decision: static token vectors, averaged.

Phrase lists must enumerate every wording; a sentence embedding puts "three labs control
all frontier compute" near "a few firms own the chips" without anyone writing that down.
A transformer would cost milliseconds and a torch install per message, so the vectors were
distilled once from all-MiniLM-L6-v2 into one row per WordPiece token (model2vec's method,
recipe and licence in bot/data/static-minilm/). Encoding is then a tokenizer call and a mean:
tens of microseconds, no network, nothing downloaded at run time.
"""
from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

ARTIFACT = Path(__file__).with_name("data") / "static-minilm"
MAX_TOKENS = 512  # the source model's window; longer messages add nothing it was trained on
_WORD_CACHE_CAP = 200_000


class StaticEmbedding:
    """Token rows averaged and L2-normalised, as model2vec's StaticModel.encode does."""

    def __init__(self, directory: Path = ARTIFACT) -> None:
        directory = Path(directory)
        config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
        self.vectors = np.load(directory / "vectors.npy", allow_pickle=False).astype(np.float32)
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        unk = self.tokenizer.token_to_id("[UNK]")
        self._unk = -1 if unk is None else unk
        self.normalize = bool(config.get("normalize", True))
        self.dims = int(self.vectors.shape[1])
        digest = hashlib.sha256(self.vectors[:64].tobytes())
        digest.update(json.dumps(config, sort_keys=True).encode())
        self.version = digest.hexdigest()[:12]  # part of the trained model's cache key

        self._ids: dict[str, tuple[int, ...]] = {}

    def word_ids(self, words) -> list[int]:
        """Token ids of already-split words. Tokenizing a whole message costs ~70 µs in the
        Rust tokenizer's Python binding; chat vocabulary repeats, so each distinct word is
        tokenized once (in one batch per message) and remembered."""
        cache = self._ids
        missing = [w for w in dict.fromkeys(words) if w not in cache]
        if missing:
            if len(cache) + len(missing) > _WORD_CACHE_CAP:
                cache.clear()
            for word, enc in zip(missing, self.tokenizer.encode_batch(missing, add_special_tokens=False)):
                cache[word] = tuple(i for i in enc.ids if i != self._unk)
        out: list[int] = []
        for w in words:
            out.extend(cache[w])
        return out[:MAX_TOKENS]

    def encode_words(self, words) -> np.ndarray:
        """The message vector: the mean of its tokens' rows, L2-normalised (model2vec's pooling)."""
        ids = self.word_ids(words)
        if not ids:
            return np.zeros(self.dims, dtype=np.float32)
        vec = self.vectors.take(ids, axis=0).sum(axis=0)
        if self.normalize:
            norm = float(np.sqrt(vec @ vec))
            if norm > 0:
                vec /= norm
        else:
            vec /= len(ids)
        return vec


_shared: StaticEmbedding | None = None
_lock = threading.Lock()


def shared() -> StaticEmbedding:
    """One copy per process: the vectors are 30 MB and every knowledge version shares them."""
    global _shared
    if _shared is None:
        with _lock:
            if _shared is None:
                _shared = StaticEmbedding()
    return _shared
