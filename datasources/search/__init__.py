"""The search store: one Qdrant point per book (its sentence embedding) with a payload to filter on.

Two backends behind `index.VectorIndex`: an in-process Qdrant Edge shard on local disk (the default,
for a laptop with nothing installed; `edge`) and a Qdrant server through qdrant-client (`server`);
only those two modules import qdrant packages. `open_index` picks one; `source` holds the
per-request loaders. Imports nothing above datasources.
"""

from __future__ import annotations

from pathlib import Path

from datasources.search.index import VectorIndex


def open_index(qdrant_url: str | None, data_dir: Path) -> VectorIndex:
    """A Qdrant server when a URL is configured, else the embedded shard under the data directory."""
    # The chosen backend only: the embedded shard never loads qdrant-client, nor a server the shard.
    if qdrant_url:
        from datasources.search.server import ClientIndex

        return ClientIndex(qdrant_url)
    from datasources.search.edge import EdgeIndex

    return EdgeIndex(data_dir / "qdrant")
