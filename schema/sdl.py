"""The schema as text, for two readers: frontend teams and their code generators (`gql/schema.graphql`,
without Apollo Federation's machinery, which would otherwise end up in generated client types), and
routers that compose subgraphs (`gql/subgraph.graphql`, all of it)."""

from __future__ import annotations

import dataclasses

import strawberry
from graphql import (
    DefinitionNode,
    DirectiveDefinitionNode,
    DocumentNode,
    ObjectTypeDefinitionNode,
    ScalarTypeDefinitionNode,
    SchemaDefinitionNode,
    TypeDefinitionNode,
    UnionTypeDefinitionNode,
    parse,
    print_ast,
)

FEDERATION_TYPES = frozenset({"_Any", "_Entity", "_Service", "FieldSet", "link__Import", "link__Purpose"})
FEDERATION_FIELDS = frozenset({"_entities", "_service"})
FEDERATION_DIRECTIVES = frozenset({"key", "link", "shareable", "external", "requires", "provides", "extends"})


def subgraph_sdl(schema: strawberry.Schema) -> str:
    return schema.as_str() + "\n"


def client_sdl(schema: strawberry.Schema) -> str:
    document = parse(schema.as_str())
    kept: list[DefinitionNode] = []
    for definition in document.definitions:
        if isinstance(definition, SchemaDefinitionNode | DirectiveDefinitionNode):
            continue  # the root types have their default names; the directives are federation's
        if isinstance(definition, TypeDefinitionNode) and definition.name.value in FEDERATION_TYPES:
            continue
        kept.append(_without_federation(definition))
    return print_ast(DocumentNode(definitions=tuple(kept))) + "\n"


def _without_federation(definition: DefinitionNode) -> DefinitionNode:
    if not isinstance(definition, TypeDefinitionNode) or isinstance(
        definition, ScalarTypeDefinitionNode | UnionTypeDefinitionNode
    ):
        return definition
    directives = tuple(d for d in definition.directives or () if d.name.value not in FEDERATION_DIRECTIVES)
    changes: dict[str, object] = {"directives": directives}
    if isinstance(definition, ObjectTypeDefinitionNode):
        changes["fields"] = tuple(f for f in definition.fields or () if f.name.value not in FEDERATION_FIELDS)
    return dataclasses.replace(definition, **changes)  # type: ignore[arg-type]
