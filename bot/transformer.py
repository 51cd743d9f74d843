"""The optional fourth view: all-MiniLM-L6-v2 fine-tuned on the examples, run in numpy.

The shipped decision reads static token vectors, which cannot see word order or context: "not a
bias issue, the parser drops accents" and "a bias issue the parser hides" average to nearly the
same vector. The whole transformer, fine-tuned as a classifier on the curated examples, reads
the message in context; as one more stage-1 view it raised the examples' cross-validated
macro-F1 from 0.90 to 0.94 and every blind set by 0.02-0.03 (README, "Accurate mode"). It costs
10-20 ms and ~70 MB a process instead of microseconds, so it is opt-in: `--encoder transformer`
or TRIAGE_ENCODER=transformer. The static path stays the default and meets the speed budget.

Its training data are the examples, so the stacker must never see its in-sample calls on them
(they would look near-perfect and drown the other views). The artifact therefore carries, beside
the weights tuned on every example, each example's out-of-fold logits from the five fold models
(same hashed folds as bot/train.py). An example added or reworded since has none, and gets the
full model's call, which is out of sample for it. Recipe: bench/fine_tuned_transformer.py.
Nothing is downloaded; no torch at run time.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import struct
import threading
from pathlib import Path

import numpy as np

from .normalise import prepare, same_text
from .vocabulary import LABELS
from .wordpiece import WordPiece

ARTIFACT = Path(__file__).with_name("data") / "tuned-minilm"
ENCODERS = ("static", "transformer")
_LAYERS, _WIDTH, _HEADS = 6, 384, 12


class TransformerError(Exception):
    """The artifact is missing or unreadable: the bot says so and does not start in this mode."""


def text_key(text: str) -> str:
    """How an example's stored out-of-fold logits are found: a hash of its text as the folds see it."""
    return hashlib.blake2b(same_text(text).encode(), digest_size=12).hexdigest()


class TunedTransformer:
    """BertModel (6 layers, 384 wide, 12 heads), mean pooling, the classifier head: logits over
    the labels, in the order of config.json's `labels`."""

    def __init__(self, directory: Path = ARTIFACT) -> None:
        directory = Path(directory)
        try:
            self.config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
            w = read_safetensors(directory / "weights.safetensors")
            self.wordpiece = WordPiece.from_vocab_txt(directory / "vocab.txt")
            with np.load(directory / "oof.npz", allow_pickle=False) as data:
                keys, logits = data["keys"], data["logits"].astype(np.float32)
        except (OSError, ValueError, KeyError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise TransformerError(f"the fine-tuned transformer in {directory} cannot be read: {exc}") from None
        self.labels = tuple(self.config["labels"])
        if self.labels != tuple(LABELS):
            raise TransformerError(f"the fine-tuned transformer in {directory} was trained for labels {self.labels}, not {tuple(LABELS)}")
        self.max_tokens = int(self.config["max_tokens"])
        self._oof = dict(zip(keys.tolist(), logits))
        # The token table stays float16 (23 MB; only a message's rows are widened); the layers
        # are float32 and pre-transposed, so a message is a few BLAS calls per layer.
        self._tokens = np.array(w["embeddings.word_embeddings.weight"])  # a copy: the file's bytes can go
        self._positions = w["embeddings.position_embeddings.weight"].astype(np.float32)
        self._type0 = w["embeddings.token_type_embeddings.weight"][0].astype(np.float32)
        self._ln0 = _ln_params(w, "embeddings.LayerNorm")
        self._layers = [_layer(w, f"encoder.layer.{i}.") for i in range(_LAYERS)]
        self._head_w = np.ascontiguousarray(w["head.weight"].astype(np.float32).T)
        self._head_b = w["head.bias"].astype(np.float32)
        digest = hashlib.sha256(self._head_w.tobytes())
        digest.update(json.dumps(self.config, sort_keys=True).encode())
        self.version = digest.hexdigest()[:12]  # part of the trained decision's cache key
        from scipy.special import erf  # GELU as the model was trained with it (exact, not tanh)

        self._erf = erf
        self._cls, self._sep = self.wordpiece.vocab["[CLS]"], self.wordpiece.vocab["[SEP]"]

    def logits(self, text: str) -> np.ndarray:
        """The fine-tuned model's call on a new message (one forward pass)."""
        # As the model was tuned: [CLS] pieces [SEP], cut at max_tokens (a long post loses its [SEP]).
        ids = [self._cls, *self.wordpiece.text_ids(text, self.max_tokens), self._sep][: self.max_tokens]
        n = len(ids)
        x = self._tokens[ids].astype(np.float32) + self._positions[:n] + self._type0
        x = _ln(x, *self._ln0)
        erf = self._erf
        for qkv_w, qkv_b, out_w, out_b, ln1, in_w, in_b, down_w, down_b, ln2 in self._layers:
            q, k, v = (x @ qkv_w + qkv_b).reshape(n, 3, _HEADS, _WIDTH // _HEADS).transpose(1, 2, 0, 3)
            s = q @ k.transpose(0, 2, 1) * (1.0 / math.sqrt(_WIDTH // _HEADS))
            a = np.exp(s - s.max(-1, keepdims=True))
            a /= a.sum(-1, keepdims=True)
            c = (a @ v).transpose(1, 0, 2).reshape(n, _WIDTH)
            x = _ln(c @ out_w + out_b + x, *ln1)
            h = x @ in_w + in_b
            h = 0.5 * h * (1.0 + erf(h * (1.0 / math.sqrt(2.0))))
            x = _ln(h @ down_w + down_b + x, *ln2)
        return x.mean(0) @ self._head_w + self._head_b

    def example_logits(self, texts) -> np.ndarray:
        """Logits for training examples (N, labels): the stored out-of-fold ones where the text
        is known, the full model's call (out of sample for it) where it is new, on the text as a
        message would be prepared."""
        rows = []
        for t in texts:
            stored = self._oof.get(text_key(t))
            rows.append(stored if stored is not None else self.logits(prepare(t).text or ""))
        return np.vstack(rows).astype(np.float64)  # as the other views' out-of-fold outputs

    def known(self, texts) -> int:
        """How many of these texts have stored out-of-fold logits (the rest cost a forward pass)."""
        return sum(text_key(t) in self._oof for t in texts)


def _layer(w: dict, p: str) -> tuple:
    qkv_w = np.hstack([w[p + f"attention.self.{m}.weight"].astype(np.float32).T for m in ("query", "key", "value")])
    qkv_b = np.concatenate([w[p + f"attention.self.{m}.bias"].astype(np.float32) for m in ("query", "key", "value")])
    return (
        np.ascontiguousarray(qkv_w), qkv_b,
        np.ascontiguousarray(w[p + "attention.output.dense.weight"].astype(np.float32).T), w[p + "attention.output.dense.bias"].astype(np.float32),
        _ln_params(w, p + "attention.output.LayerNorm"),
        np.ascontiguousarray(w[p + "intermediate.dense.weight"].astype(np.float32).T), w[p + "intermediate.dense.bias"].astype(np.float32),
        np.ascontiguousarray(w[p + "output.dense.weight"].astype(np.float32).T), w[p + "output.dense.bias"].astype(np.float32),
        _ln_params(w, p + "output.LayerNorm"),
    )  # fmt: skip


def _ln_params(w: dict, name: str) -> tuple[np.ndarray, np.ndarray]:
    return w[name + ".weight"].astype(np.float32), w[name + ".bias"].astype(np.float32)


def _ln(x: np.ndarray, gain: np.ndarray, bias: np.ndarray) -> np.ndarray:
    m = x.mean(-1, keepdims=True)
    d = x - m
    return d / np.sqrt((d * d).mean(-1, keepdims=True) + 1e-12) * gain + bias


_DTYPES = {"F16": np.float16, "F32": np.float32, "I64": np.int64}


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The safetensors layout (an 8-byte header length, a JSON header, raw little-endian
    arrays), read with numpy alone: no pickle, nothing executed."""
    raw = path.read_bytes()
    if len(raw) < 8:
        raise ValueError(f"{path.name} is {len(raw)} bytes: not a safetensors file")
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    out = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        start, end = spec["data_offsets"]
        out[name] = np.frombuffer(raw, dtype=_DTYPES[spec["dtype"]], count=(end - start) // np.dtype(_DTYPES[spec["dtype"]]).itemsize,
                                  offset=8 + n + start).reshape(spec["shape"])  # fmt: skip
    return out


# --- which encoder this process uses ------------------------------------------------------

_chosen: str | None = None
_active: TunedTransformer | None = None
_lock = threading.Lock()


def configure(encoder: str | None) -> None:
    """Choose the encoder for this process (the command line's --encoder). None: from
    TRIAGE_ENCODER, else static. Loads the transformer now, so a missing artifact is a
    start-up error rather than a failure on the first message."""
    global _chosen, _active
    name = (encoder or os.environ.get("TRIAGE_ENCODER") or "static").strip().lower()
    if name not in ENCODERS:
        raise TransformerError(f"unknown encoder '{name}' (known: {', '.join(ENCODERS)})")
    with _lock:
        _chosen = name
        if name == "static":
            _active = None
        elif _active is None:
            _active = TunedTransformer(ARTIFACT)


def active() -> TunedTransformer | None:
    """The transformer when this process was configured to use it, else None."""
    if _chosen is None:
        configure(None)
    return _active
