"""gql/schema.graphql is what frontend teams build against, gql/subgraph.graphql what routers compose:
both must match the code, and the clients' one must carry nothing of federation's."""

from __future__ import annotations

from graphql import build_schema
from support import ROOT

from schema.root import schema
from schema.sdl import client_sdl, subgraph_sdl


def test_exported_sdl_matches_the_code() -> None:
    assert (ROOT / "gql" / "schema.graphql").read_text() == client_sdl(schema), (
        "stale: run `bookgraph schema`"
    )
    assert (ROOT / "gql" / "subgraph.graphql").read_text() == subgraph_sdl(schema), (
        "stale: run `bookgraph schema`"
    )


def test_the_clients_sdl_has_no_federation_internals_and_builds_on_its_own() -> None:
    sdl = client_sdl(schema)
    for internal in ("_entities", "_service", "_Any", "_Entity", "_Service", "@key", "@link"):
        assert internal not in sdl, internal
    built = build_schema(sdl)  # no unknown directives or types: codegen reads it as it is
    assert built.query_type is not None and "books" in built.query_type.fields
    assert {"DateTime", "Decimal"} <= set(built.type_map)
    subgraph = subgraph_sdl(schema)
    assert "_entities" in subgraph and '@key(fields: "id")' in subgraph
