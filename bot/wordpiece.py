"""BERT's uncased WordPiece, as the source model's tokenizer reads text; one implementation for
both encoders (the static vectors and the fine-tuned transformer), whose vocabularies differ.

In Python: the Rust tokenizer's binding costs ~70 µs a call, more than the whole rest of the
decision; tests check every piece against it (tests/learned/test_embedding.py).
"""
from __future__ import annotations

import json
import unicodedata
from pathlib import Path


class WordPiece:
    """Lower-case, strip accents, split punctuation and CJK characters off, then the greedy
    longest match of each chunk against the vocabulary."""

    def __init__(self, vocab: dict[str, int], unk_token: str = "[UNK]", prefix: str = "##", max_chars: int = 100) -> None:
        self.vocab = vocab
        self.unk = vocab.get(unk_token, -1)
        self._prefix = prefix
        self._max_chars = max_chars

    @classmethod
    def from_tokenizer_json(cls, path: Path) -> "WordPiece":
        """A Hugging Face tokenizer.json's WordPiece model (what model2vec saves)."""
        model = json.loads(Path(path).read_text(encoding="utf-8"))["model"]
        return cls(model["vocab"], model.get("unk_token", "[UNK]"), model.get("continuing_subword_prefix", "##"),
                   int(model.get("max_input_chars_per_word", 100)))  # fmt: skip

    @classmethod
    def from_vocab_txt(cls, path: Path) -> "WordPiece":
        """BERT's vocab.txt: one token a line, its id its line number."""
        lines = Path(path).read_text(encoding="utf-8").split("\n")
        return cls({t: i for i, t in enumerate(lines) if t})

    def word_ids(self, word: str) -> list[int]:
        """One whitespace-free word's pieces, [UNK] kept."""
        out: list[int] = []
        for chunk in _bert_chunks(word):
            out.extend(self._chunk(chunk))
        return out

    def text_ids(self, text: str, limit: int | None = None) -> list[int]:
        """A text's pieces, [UNK] kept (no [CLS]/[SEP]: the caller frames them); with `limit`,
        the first `limit` of them, without tokenizing the rest of an 8,000-character post."""
        out: list[int] = []
        for word in text.split():
            out.extend(self.word_ids(word))
            if limit is not None and len(out) >= limit:
                return out[:limit]
        return out

    def _chunk(self, chunk: str) -> list[int]:
        if len(chunk) > self._max_chars:
            return [self.unk]
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
                return [self.unk]  # WordPiece gives up on the whole word
            ids.append(found)
            start = end
        return ids


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
        if cat == "Mn" or ch == "\ufffd" or (cat.startswith("C") and not ch.isspace()):
            continue  # accents stripped; control and format characters (a zero-width joiner) dropped
        if ch.isspace():
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
