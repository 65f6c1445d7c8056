"""The catalog as a frontend sees it: lookups, filters, ordering, cursors, Relay nodes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from support import error_codes

BOOK_FIELDS = "id isbn title publishedYear price { amount currency } genres authors { id name } stock { onHand reserved available status }"


async def all_pages(
    gql: Any, filter: dict[str, Any] | None, order_by: dict[str, Any] | None, first: int = 37
) -> list[dict[str, Any]]:
    query = f"""
    query ($first: Int!, $after: String, $filter: BookFilter, $orderBy: BookOrder) {{
      books(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {{
        totalCount
        pageInfo {{ hasNextPage hasPreviousPage endCursor }}
        edges {{ cursor node {{ {BOOK_FIELDS} }} }}
      }}
    }}"""
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        body = await gql(query, {"first": first, "after": after, "filter": filter, "orderBy": order_by})
        assert "errors" not in body, body
        connection = body["data"]["books"]
        nodes += [e["node"] for e in connection["edges"]]
        assert connection["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not connection["pageInfo"]["hasNextPage"]:
            assert len(nodes) == connection["totalCount"]
            return nodes
        after = connection["pageInfo"]["endCursor"]


async def test_cursor_pagination_walks_the_whole_catalog_in_order(gql: Any) -> None:
    nodes = await all_pages(gql, None, {"field": "PRICE", "direction": "DESC"})
    assert len(nodes) == 400
    assert len({n["id"] for n in nodes}) == 400
    prices = [Decimal(n["price"]["amount"]) for n in nodes]
    assert prices == sorted(prices, reverse=True)


async def test_filters_combine(gql: Any) -> None:
    genres = (await gql("{ genres { name bookCount } }"))["data"]["genres"]
    assert len(genres) >= 20
    genre = max(genres, key=lambda g: g["bookCount"])
    filter = {
        "genres": [genre["name"]],
        "inStock": True,
        "priceRange": {"min": "5.00", "max": "30.00"},
        "publishedYearRange": {"min": 1980},
    }
    nodes = await all_pages(gql, filter, {"field": "PUBLISHED_YEAR", "direction": "ASC"}, first=7)
    assert nodes, "the most common genre has in-stock books in range"
    assert len(nodes) < genre["bookCount"]
    for n in nodes:
        assert genre["name"] in n["genres"]
        assert n["stock"]["available"] > 0 and n["stock"]["status"] in ("IN_STOCK", "LOW_STOCK")
        assert Decimal("5") <= Decimal(n["price"]["amount"]) <= Decimal("30")
        assert n["publishedYear"] >= 1980
    years = [n["publishedYear"] for n in nodes]
    assert years == sorted(years)


async def test_out_of_stock_filter_and_status(gql: Any) -> None:
    nodes = await all_pages(gql, {"inStock": False}, None)
    assert nodes
    assert all(n["stock"]["available"] == 0 and n["stock"]["status"] == "OUT_OF_STOCK" for n in nodes)


async def test_title_contains_is_case_insensitive_and_literal(gql: Any) -> None:
    first = (await gql("{ books(first: 1) { edges { node { title } } } }"))["data"]["books"]["edges"][0][
        "node"
    ]["title"]
    word = max(first.split(), key=len).strip(",:;")
    nodes = await all_pages(gql, {"titleContains": word.upper()}, None)
    assert nodes and all(word.lower() in n["title"].lower() for n in nodes)
    # `%` and `_` are matched literally, not as LIKE wildcards.
    percent = await all_pages(gql, {"titleContains": "%"}, None)
    assert len(percent) < 400 and all("%" in n["title"] for n in percent)


async def test_author_filter_and_author_books(gql: Any) -> None:
    book = (await gql(f"{{ books(first: 1) {{ edges {{ node {{ {BOOK_FIELDS} }} }} }} }}"))["data"]["books"][
        "edges"
    ][0]["node"]
    author = book["authors"][0]
    by_filter = await all_pages(gql, {"authorIds": [author["id"]]}, None)
    body = await gql(
        "query ($id: ID!) { author(id: $id) { name books(first: 100) { totalCount edges { node { id } } } } }",
        {"id": author["id"]},
    )
    connection = body["data"]["author"]["books"]
    assert body["data"]["author"]["name"] == author["name"]
    assert {e["node"]["id"] for e in connection["edges"]} == {n["id"] for n in by_filter}
    assert connection["totalCount"] == len(by_filter)
    assert all(author["name"] in [a["name"] for a in n["authors"]] for n in by_filter)


async def test_book_by_id_isbn_and_node(gql: Any) -> None:
    book = (await gql(f"{{ books(first: 1) {{ edges {{ node {{ {BOOK_FIELDS} }} }} }} }}"))["data"]["books"][
        "edges"
    ][0]["node"]
    by_id = await gql(f"query ($id: ID!) {{ book(id: $id) {{ {BOOK_FIELDS} }} }}", {"id": book["id"]})
    by_isbn = await gql(
        f"query ($isbn: String!) {{ book(isbn: $isbn) {{ {BOOK_FIELDS} }} }}", {"isbn": book["isbn"]}
    )
    by_node = await gql(
        f"query ($id: ID!) {{ node(id: $id) {{ __typename ... on Book {{ {BOOK_FIELDS} }} }} }}",
        {"id": book["id"]},
    )
    assert by_id["data"]["book"] == by_isbn["data"]["book"] == book
    # The same book by its ISBN-10, written with hyphens.
    body = book["isbn"][3:12]
    check = (11 - sum((10 - i) * int(d) for i, d in enumerate(body)) % 11) % 11
    isbn10 = f"{body[0]}-{body[1:5]}-{body[5:9]}-{'X' if check == 10 else check}"
    by_isbn10 = await gql("query ($isbn: String!) { book(isbn: $isbn) { id } }", {"isbn": isbn10})
    assert by_isbn10["data"] == {"book": {"id": book["id"]}} and "errors" not in by_isbn10
    assert by_node["data"]["node"] == {"__typename": "Book", **book}
    assert book["price"]["currency"] == "USD"
    assert len(book["isbn"]) == 13


async def test_unknown_and_malformed_ids_get_clear_codes(gql: Any) -> None:
    book = (await gql("{ books(first: 1) { edges { node { id } } } }"))["data"]["books"]["edges"][0]["node"]
    author = (await gql("query ($id: ID!) { book(id: $id) { authors { id } } }", {"id": book["id"]}))["data"][
        "book"
    ]["authors"][0]

    missing = await gql('{ book(isbn: "9780000000002") { title } }')
    assert missing["data"] == {"book": None} and error_codes(missing) == ["NOT_FOUND"]

    garbage = await gql('{ node(id: "not-an-id!") { id } }')
    assert garbage["data"] == {"node": None} and error_codes(garbage) == ["BAD_USER_INPUT"]

    wrong_type = await gql("query ($id: ID!) { book(id: $id) { title } }", {"id": author["id"]})
    assert error_codes(wrong_type) == ["BAD_USER_INPUT"]
    assert "not the ID of a Book" in wrong_type["errors"][0]["message"]

    both = await gql('query ($id: ID!) { book(id: $id, isbn: "1") { title } }', {"id": book["id"]})
    assert error_codes(both) == ["BAD_USER_INPUT"]

    mixed = await gql(
        "query ($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        {"ids": [book["id"], "QmFkOjE", "Qm9vazo5OTk5OTk"]},
    )
    assert mixed["data"]["nodes"] == [{"id": book["id"]}, None, None]
    assert sorted((e["path"][1], e["extensions"]["code"]) for e in mixed["errors"]) == [
        (1, "NOT_FOUND"),
        (2, "NOT_FOUND"),
    ]


async def test_bad_arguments_are_refused(gql: Any) -> None:
    too_many = await gql("{ books(first: 1000) { edges { cursor } } }")
    assert error_codes(too_many) == ["BAD_USER_INPUT"] and too_many["data"] == {"books": None}

    bad_cursor = await gql('{ books(first: 5, after: "bogus") { edges { cursor } } }')
    assert error_codes(bad_cursor) == ["BAD_USER_INPUT"]

    cursor = (await gql("{ books(first: 1) { pageInfo { endCursor } } }"))["data"]["books"]["pageInfo"][
        "endCursor"
    ]
    other_order = await gql(
        "query ($after: String) { books(first: 1, after: $after, orderBy: {field: PRICE}) { edges { cursor } } }",
        {"after": cursor},
    )
    assert error_codes(other_order) == ["BAD_USER_INPUT"]

    inverted = await gql('{ books(filter: {priceRange: {min: "20", max: "10"}}) { totalCount } }')
    assert error_codes(inverted) == ["BAD_USER_INPUT"]


async def test_genre_pages_match_across_query_plans(gql: Any) -> None:
    """One genre walks its own sort index; several genres filter the catalog: same answers."""
    genres = [g["name"] for g in (await gql("{ genres { name bookCount } }"))["data"]["genres"]][:2]
    order = {"field": "PRICE", "direction": "DESC"}
    first = await all_pages(gql, {"genres": [genres[0]]}, order, first=9)
    second = await all_pages(gql, {"genres": [genres[1]]}, order, first=9)
    both = await all_pages(gql, {"genres": genres}, order, first=9)
    assert {n["id"] for n in both} == {n["id"] for n in first} | {n["id"] for n in second}
    for nodes in (first, second, both):
        keys = [(Decimal(n["price"]["amount"]), n["id"]) for n in nodes]
        assert [k[0] for k in keys] == sorted((k[0] for k in keys), reverse=True)


@pytest.mark.parametrize(
    "query",
    [
        '{ book(id: "Qm9vazo5MjIzMzcyMDM2ODU0Nzc1ODA4") { title } }',  # Book:2^63, past every key type
        '{ order(id: "T3JkZXI6OTIyMzM3MjAzNjg1NDc3NTgwOA") { number } }',
        '{ books(filter: {priceRange: {min: "NaN"}}) { totalCount } }',
        '{ books(filter: {priceRange: {max: "1e999999"}}) { totalCount } }',
        '{ books(after: "WyJib29rczpUSVRMRTphc2MiLCBbMV0sIDFd") { totalCount } }',  # a list as sort value
        '{ _entities(representations: [{id: "Qm9vazox"}]) { __typename } }',
        '{ _entities(representations: [{__typename: "Book", id: "Qm9vazox"}, "x"]) { __typename } }',
        '{ _entities(representations: [{__typename: "Book", id: "Qm9vazox", isbn: "1"}]) { __typename } }',
    ],
)
async def test_malformed_input_found_by_fuzzing_is_a_coded_client_error(gql: Any, query: str) -> None:
    body = await gql(query, as_="demo-customer-1")
    assert error_codes(body) == ["BAD_USER_INPUT"], body


@pytest.mark.parametrize("full", [True, False])
async def test_include_and_skip_on_variables_apply_below_a_list(gql: Any, full: bool) -> None:
    # The list prefetches its books' relations from what is selected: directives on variables
    # decide that selection, as they decide the response.
    body = await gql(
        """query ($full: Boolean!) { books(first: 3) { edges { node {
             title authors @include(if: $full) { name } stock @skip(if: $full) { onHand } } } } }""",
        {"full": full},
    )
    assert "errors" not in body, body
    nodes = [edge["node"] for edge in body["data"]["books"]["edges"]]
    assert len(nodes) == 3
    assert all(("authors" in node) is full and ("stock" in node) is not full for node in nodes)
