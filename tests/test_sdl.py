"""gql/schema.graphql is what frontend teams build against: it must match the code."""

from __future__ import annotations

from conftest import ROOT

from schema.root import schema


def test_exported_sdl_matches_the_code() -> None:
    exported = (ROOT / "gql" / "schema.graphql").read_text()
    assert exported == schema.as_str() + "\n", "gql/schema.graphql is stale: run `bookgraph schema`"
