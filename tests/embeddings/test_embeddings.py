"""Query embeddings: ONNX Runtime gives the vectors torch gives, and repeated queries hit the cache."""

from __future__ import annotations

import math

import pytest

from embeddings.model import Embedder, normalise_query


def test_queries_go_through_onnx_runtime_with_the_same_vectors(embedder: Embedder) -> None:
    assert embedder.query_backend == "onnxruntime"
    for query in ("a cozy murder in a small village", "how to bake sourdough bread at home"):
        onnx = embedder.query_encoder.encode(query)
        torch = embedder.model.encode([query], normalize_embeddings=True)[0]
        assert math.isclose(sum(a * b for a, b in zip(onnx, torch, strict=True)), 1.0, abs_tol=1e-4)
        assert math.isclose(math.hypot(*onnx), 1.0, abs_tol=1e-5)


def test_the_cache_key_is_the_normalised_query(embedder: Embedder) -> None:
    assert normalise_query("  A Cozy\tMurder \n") == "a cozy murder"
    first = embedder.embed_query_sync("Poems about   the SEA")
    assert embedder.cached("poems about the sea") == first


def test_the_model_runs_where_embedding_device_says(embedder: Embedder) -> None:
    import torch

    from embeddings.model import device_for

    assert embedder.model.device.type == "cpu"  # the default
    assert device_for("cpu") == "cpu"
    gpu = torch.cuda.is_available()
    assert device_for("auto") == ("cuda" if gpu else "cpu")
    if not gpu:
        with pytest.raises(RuntimeError, match="sees no GPU"):
            device_for("cuda")
