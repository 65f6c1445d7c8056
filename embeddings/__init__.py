"""Sentence embeddings: the MiniLM model loaded once per process with its query cache (`model`),
and query embeddings through ONNX Runtime from the same weights (`onnx_query`)."""
