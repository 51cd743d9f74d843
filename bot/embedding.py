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
import unicodedata
from itertools import chain
from pathlib import Path

import numpy as np

from ._kernels import sum_rows

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
        model = json.loads((directory / "tokenizer.json").read_text(encoding="utf-8"))["model"]
        self.vocab: dict[str, int] = model["vocab"]
        self._prefix = model.get("continuing_subword_prefix", "##")
        self._max_chars = int(model.get("max_input_chars_per_word", 100))
        self._unk = self.vocab.get(model.get("unk_token", "[UNK]"), -1)
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
        """BERT's uncased WordPiece for one word, as the source model's tokenizer does it
        (accents stripped, punctuation and CJK characters split off, greedy longest match,
        [UNK] dropped as model2vec drops it). In Python: the Rust tokenizer's binding costs
        ~70 µs a call, more than the whole rest of the decision; tests check it matches."""
        out: list[int] = []
        for chunk in _bert_chunks(word):
            ids = self._wordpiece(chunk)
            out.extend(i for i in ids if i != self._unk)
        return tuple(out)

    def _wordpiece(self, chunk: str) -> list[int]:
        if len(chunk) > self._max_chars:
            return [self._unk]
        vocab = self.vocab
        ids: list[int] = []
        start = 0
        while start < len(chunk):
            end = len(chunk)
            found = None
            while start < end:
                piece = chunk[start:end] if start == 0 else self._prefix + chunk[start:end]
                found = vocab.get(piece)
                if found is not None:
                    break
                end -= 1
            if found is None:
                return [self._unk]  # WordPiece gives up on the whole word
            ids.append(found)
            start = end
        return ids

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


def _bert_chunks(word: str) -> list[str]:
    """BertNormalizer + BertPreTokenizer on one word: lower-case, strip accents, then split
    punctuation and CJK ideographs into chunks of their own."""
    if word.isascii() and word.isalnum():  # most chat words: nothing to strip or split
        return [word.lower()]
    text = unicodedata.normalize("NFD", word.lower())
    chunks: list[str] = []
    current: list[str] = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat == "Mn":
            continue
        if ch.isspace() or cat.startswith("C"):
            if current:
                chunks.append("".join(current))
                current = []
            continue
        if _is_punct(ch, cat) or _is_cjk(ord(ch)):
            if current:
                chunks.append("".join(current))
                current = []
            chunks.append(ch)
        else:
            current.append(ch)
    if current:
        chunks.append("".join(current))
    return chunks


def _is_punct(ch: str, cat: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return cat.startswith("P")


def _is_cjk(cp: int) -> bool:
    return (
        0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF or 0x2A700 <= cp <= 0x2B73F
        or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F
    )  # fmt: skip


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
