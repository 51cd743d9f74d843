"""A dense sentence vector for the learned decision: static token vectors, averaged.

Phrase lists must enumerate every wording; a sentence embedding puts "three labs control
all frontier compute" near "a few firms own the chips" without anyone writing that down.
A transformer would cost milliseconds and a torch install per message, so the vectors were
distilled once from all-MiniLM-L6-v2 into one row per WordPiece token (model2vec's method,
recipe and licence in bot/data/static-minilm/). Encoding is then WordPiece lookups and a
mean: about ten microseconds, no network, nothing downloaded at run time.
"""
from __future__ import annotations

import hashlib
import json
import threading
from itertools import chain
from pathlib import Path

import numpy as np

from ._kernels import sum_rows
from .wordpiece import WordPiece

ARTIFACT = Path(__file__).with_name("data") / "static-minilm"
MAX_TOKENS = 512  # the source model's window; longer messages add nothing it was trained on
_WORD_CACHE_CAP = 200_000


class StaticEmbedding:
    """Token rows averaged and L2-normalised, as model2vec's StaticModel.encode does."""

    def __init__(self, directory: Path = ARTIFACT) -> None:
        directory = Path(directory)
        config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
        # Kept as stored (float16, 15 MB): bot/_kernels.c widens only the rows a message
        # uses. Held as float32 instead, the console's peak memory rose 30 MB (the two
        # copies at load) to within 4 MB of its 150 MB budget.
        self.vectors = np.load(directory / "vectors.npy", allow_pickle=False)
        self.wordpiece = WordPiece.from_tokenizer_json(directory / "tokenizer.json")
        self.normalize = bool(config.get("normalize", True))
        self.dims = int(self.vectors.shape[1])
        digest = hashlib.sha256(self.vectors[:64].tobytes())
        digest.update(json.dumps(config, sort_keys=True).encode())
        self.version = digest.hexdigest()[:12]  # part of the trained model's cache key

        self._ids: dict[str, tuple[int, ...]] = {}

    def word_ids(self, words) -> list[int]:
        """Token ids of already-split words, each word's pieces computed once and remembered
        (chat vocabulary repeats): one C-level pass over the cache, WordPiece for new words."""
        cache = self._ids
        if len(cache) > _WORD_CACHE_CAP:
            cache.clear()
        pieces = list(map(cache.get, words))
        if None in pieces:
            for i, (w, ids) in enumerate(zip(words, pieces)):
                if ids is None:
                    pieces[i] = cache[w] = self._pieces(w)
        out = list(chain.from_iterable(pieces))
        return out[:MAX_TOKENS]

    def _pieces(self, word: str) -> tuple[int, ...]:
        """One word's pieces, [UNK] dropped as model2vec drops it (a token with no vector)."""
        unk = self.wordpiece.unk
        return tuple(i for i in self.wordpiece.word_ids(word) if i != unk)

    def encode_words(self, words) -> np.ndarray:
        """The message vector: the mean of its tokens' rows, L2-normalised (model2vec's pooling)."""
        ids = self.word_ids(words)
        if not ids:
            return np.zeros(self.dims, dtype=np.float32)
        vec = np.zeros(self.dims, dtype=np.float32)
        sum_rows(vec, self.vectors, ids)  # numpy has no vectorised float16 sum: ~25 µs in the flow
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
