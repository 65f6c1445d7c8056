"""Fuzzing: operations schemathesis generates from the SDL, valid and invalid, queries and mutations,
sent as each role; whatever they ask, the server never fails (5xx) and never shows an unmasked error.

Schemathesis only draws the documents (a Hypothesis strategy per operation of gql/schema.graphql);
they are sent with httpx on the session's event loop, where the stores' connections live, to an app of
their own on the shop's private stores (the mutations place, cancel and restock) with a cost budget
too big to throttle the run."""

from __future__ import annotations

import base64
import builtins
import json
import math
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import schemathesis
import sqlalchemy as sa
from graphql import (
    NameNode,
    NullValueNode,
    ObjectFieldNode,
    ValueNode,
    build_schema,
    introspection_from_schema,
)
from hypothesis import HealthCheck, Phase, given, seed
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode
from schemathesis.graphql import nodes
from schemathesis.schemas import BaseSchema
from support import ROOT, Shop, token_for

from auth.viewer import Role
from schema.errors import MASKED_MESSAGE
from schema.relay import to_global_id

# All the server answers, the federation fields included.
SDL = ROOT / "gql" / "subgraph.graphql"
# The SDL carries federation directives (@key, @link) it does not define: build it without checking them.
SCHEMA = build_schema(SDL.read_text(), assume_valid_sdl=True)
# Per role, each drawn with its own seed: ~300 distinct operations, about a third of them mutations,
# a half of them invalid on purpose (wrong types, missing arguments).
EXAMPLES_PER_ROLE = 300
ROLES = {Role.ANONYMOUS: 1, Role.CUSTOMER: 2, Role.PARTNER: 3, Role.ADMIN: 4}

# Values worth more than random text. IDs: mostly well-formed global IDs (of every type, with keys the
# seeded data has and keys no column holds), some malformed; strings: text, UUIDs (valid idempotency
# keys) and cursors of every list holding any JSON; decimals: numbers and what is not one.
NODE_TYPES = ["Book", "Author", "Order", "Customer", "Genre", "OrderLine", ""]
CURSOR_TAGS = [
    *(
        f"books:{field}:{direction}"
        for field in ("TITLE", "PRICE", "PUBLISHED_YEAR")
        for direction in ("asc", "desc")
    ),
    "author-books",
    "customer-orders",
    "search:000000000000",
]
keys = st.one_of(st.integers(min_value=0, max_value=80), st.integers(min_value=-(2**70), max_value=2**70))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=2),
    max_leaves=4,
)


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode(errors="surrogatepass")).decode().rstrip("=")


ids = st.one_of(
    st.builds(to_global_id, st.sampled_from(NODE_TYPES), keys),
    st.builds(lambda t, pk: _b64(f"{t}:{pk}"), st.sampled_from(NODE_TYPES), st.text(max_size=8)),
    st.text(max_size=12),
)
cursors = st.one_of(
    st.builds(lambda *key: _b64(json.dumps(list(key))), st.sampled_from(CURSOR_TAGS), json_values, keys),
    st.builds(
        lambda tag, when, pk: _b64(json.dumps([tag, {"t": when}, pk])),
        st.sampled_from(CURSOR_TAGS),
        st.text(max_size=30) | st.datetimes().map(lambda d: d.isoformat()),
        keys,
    ),
    json_values.map(lambda value: _b64(json.dumps(value))),
)
strings = st.one_of(st.text(max_size=40), st.uuids().map(str), cursors)
decimals = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-(10**9), max_value=10**9).map(
        str
    ),
    st.sampled_from(["NaN", "-Infinity", "1e999999", "-0", "0.0000000001", "12,99", "", " 1"]),
    st.text(max_size=10),
)


def literal(value: Any) -> ValueNode:
    """A GraphQL literal of a JSON value."""
    if value is None:
        return NullValueNode()
    if isinstance(value, bool):
        return nodes.Boolean(value)
    if isinstance(value, int):
        return nodes.Int(value)
    if isinstance(value, float):
        return nodes.Float(value) if math.isfinite(value) else nodes.String(value)
    if isinstance(value, str):
        return nodes.String(value)
    if isinstance(value, list):
        return nodes.List([literal(item) for item in value])
    return nodes.Object(
        [ObjectFieldNode(name=NameNode(value=name), value=literal(item)) for name, item in value.items()]
    )


# Federation's entity representations: mostly {__typename, id} of any type, some anything at all.
representations = st.one_of(
    st.fixed_dictionaries(
        {"__typename": st.sampled_from([*NODE_TYPES, "Query", "_Service"]), "id": ids | keys},
        optional={"isbn": st.text(max_size=13), "extra": json_values},
    ),
    json_values,
).map(literal)

# Python exception names, tracebacks, driver and ORM names, SQL: none of it is for clients.
SCHEMA_TYPES = set(SCHEMA.type_map)
EXCEPTION_NAME = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*(?:Error|Exception|Warning)\b")
LEAKS = [
    re.compile(r"Traceback \(most recent call last\)"),
    re.compile(r'File "[^"]+", line \d+'),
    re.compile(r"\bline \d+, in \w+"),
    re.compile(
        r"\b(?:sqlalchemy|asyncpg|aiosqlite|sqlite3|psycopg2?|pydantic|orjson|binascii|qdrant_client)\b"
    ),
    re.compile(r"\[SQL: |\(Background on this error at|\[parameters: "),
    re.compile(r"\b(?:SELECT|INSERT INTO|UPDATE|DELETE FROM)\b[\s\S]*\b(?:FROM|VALUES|SET|WHERE)\b"),
    re.compile(r"<[\w.]+ object at 0x[0-9a-fA-F]+>"),
]
PYTHON_EXCEPTIONS = {
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
}


def leaks(text: str, document: str) -> list[str]:
    """What in `text` looks like the server's insides (unless the document itself holds it, echoed)."""
    found = [p.pattern for p in LEAKS if p.search(text) and not p.search(document)]
    for name in EXCEPTION_NAME.findall(text):
        if name not in SCHEMA_TYPES and name not in document:
            found.append(name)
    found.extend(
        name for name in PYTHON_EXCEPTIONS if re.search(rf"\b{name}\b", text) and name not in document
    )
    return sorted(set(found))


def operations_strategy() -> st.SearchStrategy[Any]:
    """Every query and mutation of the SDL, each as likely, valid or not; with federation's
    `_entities` and `_service` too, which schemathesis leaves out unless asked."""
    for name, values in {"ID": ids, "String": strings, "Decimal": decimals}.items():
        schemathesis.graphql.scalar(name, values.map(nodes.String))
    schemathesis.graphql.scalar("_Any", representations)
    api = schemathesis.graphql.from_dict(dict(introspection_from_schema(SCHEMA)))
    schemas: list[BaseSchema] = [api]
    root = SCHEMA.query_type.fields if SCHEMA.query_type else {}
    federation = [f"Query.{field}" for field in ("_entities", "_service") if field in root]
    if federation:
        schemas.append(api.include(name=federation))
    return st.one_of(
        [
            subset.as_strategy(mode)
            for subset in schemas
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        ]
    )


def draw(strategy: st.SearchStrategy[Any], count: int, seed_value: int) -> list[Any]:
    """`count` examples drawn under a fixed seed: the same ones every run."""
    drawn: list[Any] = []

    @seed(seed_value)
    @hypothesis_settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )
    @given(strategy)
    def collect(example: Any) -> None:
        drawn.append(example)

    collect()
    return drawn


def generate(strategy: st.SearchStrategy[Any], role_seed: int, count: int) -> list[str]:
    """`count` documents drawn under a fixed seed, duplicates dropped."""
    return list(dict.fromkeys(case.body for case in draw(strategy, count, role_seed)))


@pytest.fixture(scope="module")
def documents() -> dict[Role, list[str]]:
    """Every role's documents, drawn before the app starts (~2 s a role)."""
    strategy = operations_strategy()
    drawn = {role: generate(strategy, role_seed, EXAMPLES_PER_ROLE) for role, role_seed in ROLES.items()}
    for role, listed in drawn.items():
        assert len(listed) >= EXAMPLES_PER_ROLE * 0.8, f"only {len(listed)} distinct for {role}"
    return drawn


@pytest.fixture(scope="module")
async def fuzz_http(shop: Shop) -> AsyncIterator[httpx.AsyncClient]:
    """An app on the shop's stores whose cost budget no run of the fuzz can use up."""
    from app import create_app

    roomy = shop.settings.model_copy(update={"cost_bucket_size": 10**9, "cost_restore_rate": 10**6})
    application = create_app(roomy, stores=shop.stores)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://fuzz.test") as http:
            yield http


def problems(document: str, response: httpx.Response) -> list[str]:
    if response.status_code >= 500:
        return [f"HTTP {response.status_code}: {response.text[:2000]}"]
    try:
        body = response.json()
    except ValueError:
        return [f"HTTP {response.status_code}, not JSON: {response.text[:500]!r}"]
    if not isinstance(body, dict) or not ("data" in body or "errors" in body):
        return [f"HTTP {response.status_code}, not a GraphQL response: {response.text[:500]}"]
    found = []
    if response.status_code != 200 and not body.get("errors"):
        found.append(f"HTTP {response.status_code} without errors")
    for error in body.get("errors") or []:
        message = str(error.get("message", ""))
        extensions = error.get("extensions") or {}
        code = extensions.get("code")
        if not code:
            found.append(f"no extensions.code: {error}")
        if code == "INTERNAL" and (message != MASKED_MESSAGE or not extensions.get("requestId")):
            found.append(f"INTERNAL not masked: {error}")
        elif code == "INTERNAL":
            # Masked, but still a crash: whatever a client sends deserves a coded answer.
            found.append(f"a resolver crashed (masked INTERNAL) at {error.get('path')}")
        if {"exception", "stacktrace", "traceback"} & {k.lower() for k in extensions}:
            found.append(f"exception details in extensions: {error}")
        shown = message + " " + json.dumps({k: v for k, v in extensions.items() if k != "requestId"})
        if leaked := leaks(shown, document):
            found.append(f"leaks {leaked}: {error}")
    return found


@pytest.mark.parametrize("role", list(ROLES), ids=str)
async def test_generated_operations_never_break_the_server(
    role: Role, documents: dict[Role, list[str]], fuzz_http: httpx.AsyncClient, shop: Shop
) -> None:
    headers = {}
    if role is not Role.ANONYMOUS:
        headers["Authorization"] = f"Bearer {token_for(shop.settings, f'fuzz-{role}', role)}"
    failures = []
    for document in documents[role]:
        response = await fuzz_http.post("/graphql", json={"query": document}, headers=headers)
        if found := problems(document, response):
            failures.append(f"--- as {role}, HTTP {response.status_code}:\n{document}\n" + "\n".join(found))
    assert not failures, f"{len(failures)} of {len(documents[role])} operations failed:\n" + "\n".join(
        failures
    )


# --- Variables and raw bodies -------------------------------------------------------------------
# The operations above carry their values inline; clients send them as variables, which graphql-core
# coerces on another path (it is where `null` for `Int!` once answered INTERNAL). So: the app's own
# operations with any JSON as their variables, and bodies that are not well-formed requests at all.

OPERATIONS = sorted((ROOT / "gql" / "operations").glob("*.graphql"))
EXAMPLES_OF_VARIABLES = 300
EXAMPLES_OF_BODIES = 200

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(["", "\x00", "\ud800", "x" * 20_000, to_global_id("Book", 1), to_global_id("Order", 1)])
)
json_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


def variables_strategy() -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    def for_operation(path: Any) -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
        text = path.read_text()
        names = sorted(set(re.findall(r"\$(\w+)\s*:", text)))
        # Each declared variable given any value or left out, and now and then one nobody declared.
        declared = st.fixed_dictionaries({}, optional={name: json_values for name in names})
        extra = st.dictionaries(st.sampled_from(["unknown", "first", "input"]), json_values, max_size=1)
        return st.tuples(st.just(text), st.builds(lambda a, b: {**b, **a}, declared, extra))

    return st.one_of([for_operation(path) for path in OPERATIONS])


def raw_bodies_strategy() -> st.SearchStrategy[tuple[bytes, str]]:
    fragments = st.sampled_from(
        [
            '{"query":',
            '"{ genres { name } }"',
            '"variables":',
            '"extensions":',
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            "null",
            "1e999",
            '"\\ud800"',
            '"\\u0000"',
            "\xff",
            '{"persistedQuery": {"version": 1}}',
        ]
    )
    texts = st.lists(fragments, max_size=12).map("".join).map(lambda t: t.encode("utf-8", "surrogatepass"))
    bodies = st.binary(max_size=300) | texts
    types = st.sampled_from(
        [
            "application/json",
            "application/graphql-response+json",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "",
        ]
    )
    return st.tuples(bodies, types)


async def order_count(shop: Shop) -> int:
    async with shop.stores.orders.connect() as conn:
        return int((await conn.execute(sa.text("SELECT count(*) FROM orders"))).scalar_one())


async def test_any_variables_are_answered_with_coded_errors_and_change_nothing_when_refused(
    fuzz_http: httpx.AsyncClient, shop: Shop
) -> None:
    headers = {
        "Authorization": f"Bearer {token_for(shop.settings, 'fuzz-variables')}",
        "Content-Type": "application/json",
    }
    examples = draw(variables_strategy(), EXAMPLES_OF_VARIABLES, 11)
    assert len(examples) >= EXAMPLES_OF_VARIABLES * 0.9
    failures = []
    for document, variables in examples:
        before = await order_count(shop)
        # ensure_ascii: a lone surrogate can only travel escaped.
        body = json.dumps({"query": document, "variables": variables})
        response = await fuzz_http.post("/graphql", content=body, headers=headers)
        found = problems(document + body, response)
        placed = (
            ((response.json().get("data") or {}).get("placeOrder") or {}).get("order") if not found else None
        )
        if not found and placed is None and await order_count(shop) != before:
            found.append("refused, yet an order was stored")
        if found:
            failures.append(f"--- HTTP {response.status_code}, variables {body[:300]}:\n" + "\n".join(found))
    assert not failures, f"{len(failures)} of {len(examples)} failed:\n" + "\n".join(failures[:20])


async def test_raw_bodies_never_break_the_server(fuzz_http: httpx.AsyncClient) -> None:
    examples = draw(raw_bodies_strategy(), EXAMPLES_OF_BODIES, 12)
    failures = []
    for content, content_type in examples:
        headers = {"Content-Type": content_type} if content_type else {}
        response = await fuzz_http.post("/graphql", content=content, headers=headers)
        if found := problems(content.decode("utf-8", "replace"), response):
            failures.append(f"--- {content_type} {content[:200]!r}:\n" + "\n".join(found))
    assert not failures, f"{len(failures)} of {len(examples)} failed:\n" + "\n".join(failures[:20])
