"""The static embedding: our WordPiece must be the source model's, or the vectors mean nothing."""
import gzip

import numpy as np
import pytest

from bot.embedding import ARTIFACT, StaticEmbedding, shared
from bot.normalise import tokenize

tokenizers = pytest.importorskip("tokenizers")


@pytest.fixture(scope="module")
def reference():
    return tokenizers.Tokenizer.from_file(str(ARTIFACT / "tokenizer.json"))


def test_wordpiece_matches_the_reference_tokenizer(reference):
    words = sorted(set(gzip.open(ARTIFACT.parent / "english-words.txt.gz", "rt").read().split()))[::3]
    words += ["naïve", "café", "東京都", "résumé", "don't", "rlhf'd", "ﬁne", "straße", "x²", "gpt4o", "a" * 120]
    emb = shared()
    unk = reference.token_to_id("[UNK]")
    mismatched = []
    for word, enc in zip(words, reference.encode_batch(words, add_special_tokens=False)):
        expected = tuple(i for i in enc.ids if i != unk)
        if emb._pieces(word) != expected:
            mismatched.append(word)
    assert not mismatched, mismatched[:20]


def test_vectors_are_unit_length_and_meaningful():
    emb = StaticEmbedding()
    a = emb.encode_words(tokenize("the chatbot made up a refund policy").words)
    b = emb.encode_words(tokenize("the support bot invented a return rule").words)
    c = emb.encode_words(tokenize("lunch is in the kitchen at noon").words)
    assert abs(float(a @ a) - 1.0) < 1e-5
    assert float(a @ b) > float(a @ c) + 0.2
    assert not emb.encode_words(()).any()  # nothing to read: the zero vector, not NaN
    assert np.isfinite(emb.encode_words(tokenize("\u200b☃☃☃").words)).all()
