"""The limits checked before execution: pure functions of the document, the schema and the variables."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSyntaxError,
    ValidationRule,
    get_introspection_query,
    graphql_sync,
    parse,
    specified_rules,
    validate,
)

from limits import (
    QUERY_TOO_COMPLEX,
    CostWeights,
    Limits,
    actual_cost,
    check_cost,
    check_shape,
    max_aliases_rule,
    max_depth_rule,
    max_directives_rule,
    parse_limited,
    requested_cost,
)
from schema.relations import field_costs
from schema.root import schema

SCHEMA = schema._schema
WEIGHTS = CostWeights(field_costs=field_costs(SCHEMA))
DEFAULTS = Limits()
INTROSPECTION = get_introspection_query(descriptions=True)


def errors_of(source: str, *rules: type[ValidationRule]) -> list[GraphQLError]:
    return validate(SCHEMA, parse(source), rules=list(rules))


def check(
    schema: Any, document: Any, variables: dict[str, Any] | None, name: str | None, limits: Limits
) -> list[Any]:
    """As the gateway checks: the shape first, the cost only of a document within it."""
    return check_shape(schema, document, limits) or check_cost(schema, document, variables, name, limits)


def cost(source: str, variables: dict[str, Any] | None = None, weights: CostWeights | None = None) -> int:
    return requested_cost(SCHEMA, parse(source), variables, None, weights or WEIGHTS)


def assert_too_complex(errors: list[GraphQLError], **details: Any) -> None:
    assert len(errors) == 1, errors
    assert errors[0].extensions == {"code": QUERY_TOO_COMPLEX, **details}


# -- Documents of a given depth -------------------------------------------------------------------


def path_of_depth(depth: int) -> list[tuple[str, str]]:
    """Fields nesting `depth` deep: book → alsoBought → book → ... → a scalar; (field, its type)."""
    path = [('book(id: "1")', "Book")]
    while len(path) < depth - 1:
        path.append(("alsoBought", "BookRecommendation") if path[-1][1] == "Book" else ("book", "Book"))
    path.append(("title", "") if path[-1][1] == "Book" else ("score", ""))
    return path


def nested(depth: int, how: str = "plain", operation: str = "", fragment_name: str = "F") -> str:
    """A query `depth` fields deep, its selection sets written plainly, as inline fragments or as
    named fragments (`{fragment_name}1`, `{fragment_name}2`, ...; the first exactly `fragment_name`)."""
    path = path_of_depth(depth)
    fragments: list[str] = []

    def selection(i: int) -> str:
        name, type_ = path[i]
        if i == len(path) - 1:
            return name
        inner = selection(i + 1)
        if how == "inline":
            inner = f"... on {type_} {{ {inner} }}"
        elif how == "named":
            fragment = fragment_name if not fragments else f"{fragment_name}{len(fragments)}"
            fragments.append(f"fragment {fragment} on {type_} {{ {inner} }}")
            inner = f"...{fragment}"
        return f"{name} {{ {inner} }}"

    query = f"query {operation} {{ {selection(0)} }}" if operation else f"{{ {selection(0)} }}"
    return "\n".join([query, *fragments])


# -- Depth ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["plain", "inline", "named"])
def test_depth_at_the_limit_passes_and_one_more_is_refused(how: str) -> None:
    rule = max_depth_rule(15)
    assert errors_of(nested(15, how), rule) == []
    errors = errors_of(nested(16, how), rule)
    assert_too_complex(errors, depth=16, limit=15)
    assert "depth of 16, more than the maximum of 15" in errors[0].message
    # The documents are otherwise valid: only the limit refuses them.
    assert errors_of(nested(16, how), *specified_rules) == []


def test_depth_counts_a_fragment_where_it_is_spread() -> None:
    # F adds 2 levels under book (1) under alsoBought (2): 4, not the 2 of F alone.
    source = """
        { book(id: "1") { alsoBought { book { ...F } } } }
        fragment F on Book { similarBooks { score } }
    """
    assert_too_complex(errors_of(source, max_depth_rule(4)), depth=5, limit=4)
    assert errors_of(source, max_depth_rule(5)) == []


@pytest.mark.parametrize(
    ("operation", "fragment_name"),
    [("__schema", "F"), ("Q", "__schema"), ("__type", "__type"), ("__schema", "__schema")],
)
def test_names_like_introspection_do_not_skip_the_depth(operation: str, fragment_name: str) -> None:
    rule = max_depth_rule(15)
    assert errors_of(nested(15, "named", operation, fragment_name), rule) == []
    errors = errors_of(nested(16, "named", operation, fragment_name), rule)
    assert_too_complex(errors, depth=16, limit=15)
    assert f"Operation '{operation}'" in errors[0].message


def test_introspection_fields_count_like_any_other() -> None:
    source = "{ __schema { types { fields { type { ofType { name } } } } } }"  # 6 deep
    assert errors_of(source, max_depth_rule(6)) == []
    assert_too_complex(errors_of(source, max_depth_rule(5)), depth=6, limit=5)


def test_each_operation_is_measured_on_its_own() -> None:
    source = f'query Shallow {{ book(id: "1") {{ title }} }}\n{nested(16).replace("{", "query Deep {", 1)}'
    errors = errors_of(source, max_depth_rule(15))
    assert_too_complex(errors, depth=16, limit=15)
    assert "Operation 'Deep'" in errors[0].message


# -- Aliases --------------------------------------------------------------------------------------


def aliased(count: int) -> str:
    return "{ " + " ".join(f'b{i}: book(id: "{i}") {{ title }}' for i in range(count)) + " }"


def test_aliases_at_the_limit_pass_and_one_more_is_refused() -> None:
    assert errors_of(aliased(30), max_aliases_rule(30)) == []
    errors = errors_of(aliased(31), max_aliases_rule(30))
    assert_too_complex(errors, aliases=31, limit=30)
    assert "31 aliases, more than the maximum of 30" in errors[0].message


def test_aliases_are_counted_every_time_their_fragment_is_spread() -> None:
    source = """
        { book(id: "1") { ...A } author(id: "1") { books { edges { node { ...A } } } } }
        fragment A on Book { t: title y: publishedYear p: price { amount } }
    """
    assert errors_of(source, max_aliases_rule(6)) == []
    assert_too_complex(errors_of(source, max_aliases_rule(5)), aliases=6, limit=5)


def test_one_fragment_spread_many_times_is_not_a_bypass() -> None:
    fragment = "fragment A on Book { " + " ".join(f"t{i}: title" for i in range(15)) + " }"
    twice = f'{{ book(id: "1") {{ ...A }} other: book(id: "2") {{ ...A }} }}\n{fragment}'
    assert_too_complex(errors_of(twice, max_aliases_rule(30)), aliases=31, limit=30)
    # Nested spreads multiply: B spreads A three times, B is spread twice.
    nested_spreads = f"""
        {{ book(id: "1") {{ ...B }} author(id: "1") {{ books {{ edges {{ node {{ ...B }} }} }} }} }}
        fragment B on Book {{ ...A alsoBought {{ book {{ ...A }} }} similarBooks {{ book {{ ...A }} }} }}
        {fragment}
    """
    assert_too_complex(errors_of(nested_spreads, max_aliases_rule(30)), aliases=90, limit=30)


# -- Directives -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "template",
    [
        '{{ book(id: "1") {{ title {d} }} }}',
        '{{ book(id: "1") {{ ...F {d} }} }} fragment F on Book {{ title }}',
        '{{ book(id: "1") {{ ... on Book {d} {{ title }} }} }}',
    ],
    ids=["field", "fragment spread", "inline fragment"],
)
def test_directives_at_the_limit_pass_and_one_more_is_refused(template: str) -> None:
    def with_directives(count: int) -> str:
        return template.format(d=" ".join(["@include(if: true)"] * count))

    assert errors_of(with_directives(5), max_directives_rule(5)) == []
    errors = errors_of(with_directives(6), max_directives_rule(5))
    assert_too_complex(errors, directives=6, limit=5)


def test_directives_are_limited_per_selection_not_per_document() -> None:
    fields = " ".join(f"t{i}: title @include(if: true) @skip(if: false)" for i in range(10))
    assert errors_of(f'{{ book(id: "1") {{ {fields} }} }}', max_directives_rule(2)) == []


# -- Tokens ---------------------------------------------------------------------------------------


def test_tokens_at_the_limit_pass_and_one_more_is_refused() -> None:
    at_limit = "{ " + "title " * 1998 + "}"  # 2000 tokens
    assert isinstance(parse_limited(at_limit, 2000), DocumentNode)
    with pytest.raises(GraphQLError) as refused:
        parse_limited("{ " + "title " * 1999 + "}", 2000)
    assert refused.value.extensions == {"code": QUERY_TOO_COMPLEX, "limit": 2000}
    assert "more than 2000 tokens" in refused.value.message
    assert refused.value.locations  # points at the token past the limit


def test_comments_have_their_own_limit() -> None:
    commented = "# one\n# two\n{ title }"
    assert isinstance(parse_limited(commented, 3), DocumentNode)  # 3 tokens, 2 comments
    with pytest.raises(GraphQLError) as refused:
        parse_limited(commented, 3, max_comments=1)
    assert refused.value.extensions == {"code": QUERY_TOO_COMPLEX, "limit": 1}


def test_other_syntax_errors_are_raised_as_they_are() -> None:
    with pytest.raises(GraphQLSyntaxError) as error:
        parse_limited("{ book(id: ", 2000)
    assert error.value.extensions == {}


# -- The standard introspection query -------------------------------------------------------------


def test_the_standard_introspection_query_passes_every_limit() -> None:
    document = DEFAULTS.parse(INTROSPECTION)
    assert check(SCHEMA, document, None, None, DEFAULTS) == []
    # How close it is: exactly as deep as allowed, well within the rest.
    assert errors_of(INTROSPECTION, max_depth_rule(15), max_aliases_rule(0), max_directives_rule(0)) == []
    assert_too_complex(errors_of(INTROSPECTION, max_depth_rule(14)), depth=15, limit=14)
    parse_limited(INTROSPECTION, 163)
    with pytest.raises(GraphQLError):
        parse_limited(INTROSPECTION, 162)


def test_introspection_costs_exactly_what_it_returns() -> None:
    result = graphql_sync(SCHEMA, INTROSPECTION)
    assert result.errors is None
    requested = cost(INTROSPECTION)
    assert requested == actual_cost(SCHEMA, parse(INTROSPECTION), None, None, result.data)
    assert requested == count_objects(result.data) - 1  # the root of `data` is not counted
    assert requested <= DEFAULTS.max_cost


def count_objects(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + sum(count_objects(v) for v in value.values())
    if isinstance(value, list):
        return sum(count_objects(v) for v in value)
    return 0


# -- Cost -----------------------------------------------------------------------------------------

BOOKS = "{ books(first: 5) { edges { node { title authors { name } } } } }"


def test_a_connection_multiplies_what_is_under_edges() -> None:
    # Author 1, authors 10 x 1 (no size argument: the default list size), Book 1 + 10 = 11,
    # node 11, BookEdge 1 + 11 = 12, edges 5 x 12 = 60, BookConnection 1 + 60.
    assert cost(BOOKS) == 61


def test_page_info_and_total_count_are_not_multiplied() -> None:
    # pageInfo 1, totalCount 0, edges 5 x (edge 1 + node 1) = 10, connection 1.
    assert (
        cost("{ books(first: 5) { totalCount pageInfo { hasNextPage } edges { cursor node { title } } } }")
        == 12
    )


def test_nested_connections_multiply() -> None:
    # Inner: 1 + 3 x (edge 1 + Book 1) = 7. Author 1 + 7 = 8, authors 10 x 8 = 80, Book 81,
    # edge 82, edges 2 x 82, connection 1 + 164.
    source = (
        "{ books(first: 2) { edges { node { authors { books(first: 3) { edges { node { title } } } } } } } }"
    )
    assert cost(source) == 165
    assert cost(source.replace("first: 2", "first: 4")) == 1 + 4 * 82


def test_variables_are_resolved() -> None:
    source = "query ($n: Int!) { books(first: $n) { edges { node { title } } } }"
    assert cost(source, {"n": 3}) == 1 + 3 * 2
    assert cost(source, {"n": 30}) == 1 + 30 * 2
    defaulted = "query ($n: Int! = 7) { books(first: $n) { edges { node { title } } } }"
    assert cost(defaulted) == 1 + 7 * 2


def test_schema_defaults_apply_when_first_is_absent() -> None:
    assert cost("{ books { edges { node { title } } } }") == 1 + 20 * 2  # books(first: Int! = 20)
    # similarBooks(first: Int! = 10): 10 x (BookRecommendation 1 + book 1) plus its extra 5.
    assert cost('{ book(id: "1") { similarBooks { book { title } } } }') == 1 + 5 + 10 * 2


def test_lists_without_a_size_take_the_default_list_size() -> None:
    assert cost('{ book(id: "1") { authors { name } } }') == 1 + 10
    assert cost('{ book(id: "1") { authors { name } } }', weights=CostWeights(default_list_size=3)) == 1 + 3
    assert cost('{ book(id: "1") { genres } }') == 1  # a list of scalars costs nothing


def test_nodes_are_sized_by_their_ids() -> None:
    # The greatest of Node's types: Book 1 + authors 10 = 11 (Author 2, Customer 1, Order 1).
    source = "query ($ids: [ID!]!) { nodes(ids: $ids) { id ... on Book { authors { name } } ... on Author { books { totalCount } } } }"
    assert cost(source, {"ids": ["a", "b", "c"]}) == 3 * 11
    assert cost('{ nodes(ids: ["a"]) { id } }') == 1


def test_search_costs_more_than_a_lookup() -> None:
    lookup = cost('{ book(id: "1") { title } }')
    search = cost('{ searchBooks(query: "dune", first: 1) { edges { node { title } } } }')
    assert lookup == 1
    assert search == 10 + 1 + 1 * 2
    assert search > lookup


def test_mutations_cost_more() -> None:
    # restock 10 + payload 1 + book 1 + userErrors 10 x 1.
    assert (
        cost('mutation { restock(bookId: "1", quantity: 2) { book { title } userErrors { message } } }') == 22
    )


def test_extra_costs_are_configurable() -> None:
    weights = CostWeights(field_costs={"Query.book": 4}, mutation_field_cost=0)
    assert cost('{ book(id: "1") { title } }', weights=weights) == 5
    assert cost('{ searchBooks(query: "x", first: 1) { edges { node { title } } } }', weights=weights) == 3
    assert cost('mutation { restock(bookId: "1", quantity: 2) { book { title } } }', weights=weights) == 2


def test_a_fragment_costs_what_its_fields_inlined_cost() -> None:
    spread = """
        { books(first: 5) { edges { node { ...Card } } } }
        fragment Card on Book { title authors { name } }
    """
    inline = "{ books(first: 5) { edges { node { ... on Book { title authors { name } } } } } }"
    assert cost(spread) == cost(inline) == cost(BOOKS)
    # Fields are merged by response key as execution merges them: spreading twice costs once.
    twice = spread.replace("...Card", "...Card ...Card authors { name }")
    assert cost(twice) == cost(BOOKS)


def test_skip_and_include_are_applied() -> None:
    source = "query ($more: Boolean!) { books(first: 5) { edges { node { title authors @include(if: $more) { name } } } } }"
    assert cost(source, {"more": True}) == 61
    assert cost(source, {"more": False}) == 1 + 5 * 2


def test_an_abstract_type_costs_its_costliest_possible_type() -> None:
    as_customer = "orders { edges { node { lines { book { title } } } } }"
    source = (
        f'{{ node(id: "x") {{ ... on Book {{ authors {{ name }} }} ... on Customer {{ {as_customer} }} }} }}'
    )
    # Customer: orders(first: 20) 1 + 20 x (edge 1 + Order 1 + lines 10 x (OrderLine 1 + book 1)).
    assert cost(source) == 1 + 1 + 20 * (1 + 1 + 10 * 2) == cost(f"{{ viewer {{ {as_customer} }} }}")


def test_actual_cost_counts_what_came_back() -> None:
    data = {
        "books": {
            "edges": [
                {"node": {"title": "Dune", "authors": [{"name": "Frank Herbert"}]}},
                {
                    "node": {
                        "title": "Good Omens",
                        "authors": [{"name": "Terry Pratchett"}, {"name": "Neil Gaiman"}],
                    }
                },
            ]
        }
    }
    # connection 1 + edges (1 + node 1 + 1 author) + (1 + node 1 + 2 authors).
    actual = actual_cost(SCHEMA, parse(BOOKS), None, None, data)
    assert actual == 1 + 3 + 4
    assert actual < cost(BOOKS) == 61
    assert actual_cost(SCHEMA, parse(BOOKS), None, None, {"books": None}) == 0
    assert actual_cost(SCHEMA, parse(BOOKS), None, None, None) == 0


def test_actual_cost_charges_the_expensive_fields_present() -> None:
    source = 'query { searchBooks(query: "x", first: 3) { edges { node { id } } } }'
    empty = {"searchBooks": {"edges": []}}
    assert actual_cost(SCHEMA, parse(source), None, None, empty, WEIGHTS) == 10 + 1
    assert actual_cost(SCHEMA, parse(source), None, None, {"searchBooks": None}, WEIGHTS) == 10
    assert cost(source) == 10 + 1 + 3 * 2


def test_actual_cost_follows_typename_for_abstract_types() -> None:
    source = '{ nodes(ids: ["a", "b"]) { __typename ... on Book { authors { name } } } }'
    data = {"nodes": [{"__typename": "Book", "authors": [{"name": "A"}]}, {"__typename": "Author"}, None]}
    # The Book 1 and its author 1, the Author 1, null nothing.
    assert actual_cost(SCHEMA, parse(source), None, None, data, WEIGHTS) == 2 + 1


# -- check() --------------------------------------------------------------------------------------


def test_check_refuses_a_query_over_the_maximum_cost() -> None:
    source = "query ($n: Int!) { books(first: $n) { edges { node { authors { name } } } } }"
    # 1 + n x (edge 1 + Book 1 + authors 10): 601 for 50, 1201 for 100.
    assert check(SCHEMA, parse(source), {"n": 50}, None, DEFAULTS) == []
    errors = check(SCHEMA, parse(source), {"n": 100}, None, DEFAULTS)
    assert_too_complex(errors, requestedQueryCost=1201, maximumCost=1000)
    assert "1201" in errors[0].message


def test_check_reports_the_limits_before_the_cost() -> None:
    errors = check(SCHEMA, parse(nested(16)), None, None, DEFAULTS)
    assert_too_complex(errors, depth=16, limit=15)


def test_check_costs_the_named_operation() -> None:
    source = """
        query Small { book(id: "1") { title } }
        query Large { books(first: 100) { edges { node { authors { name } } } } }
    """
    assert check(SCHEMA, parse(source), None, "Small", DEFAULTS) == []
    assert len(check(SCHEMA, parse(source), None, "Large", DEFAULTS)) == 1
    assert check(SCHEMA, parse(source), None, "Missing", DEFAULTS) == []  # execution refuses it


def test_the_error_code_is_one_clients_know() -> None:
    from schema.errors import error_code

    errors = check(SCHEMA, parse(nested(16)), None, None, DEFAULTS)
    assert error_code(errors[0]).value == QUERY_TOO_COMPLEX


def test_fragments_nested_beyond_graphql_cores_limit_are_too_complex() -> None:
    chain = " ".join(
        f"fragment F{i} on Book {{ alsoBought {{ book {{ ...F{i + 1} }} }} }}" for i in range(300)
    )
    document = parse(f'{{ book(id: "1") {{ ...F0 }} }} {chain} fragment F300 on Book {{ title }}')
    errors = check(SCHEMA, document, None, None, DEFAULTS)
    assert errors and all(e.extensions and e.extensions["code"] == QUERY_TOO_COMPLEX for e in errors)
    with pytest.raises(GraphQLError) as too_deep:  # the cost alone is not computed for it either
        requested_cost(SCHEMA, document, None, None)
    assert too_deep.value.extensions == {"code": QUERY_TOO_COMPLEX}


# -- Fragment cycles ------------------------------------------------------------------------------

CYCLES = [
    '{ book(id: "1") { ...A } } fragment A on Book { ...B } fragment B on Book { ...A }',
    '{ book(id: "1") { ...A } } fragment A on Book { title ...A }',
    '{ book(id: "1") { ...A } } fragment A on Book { alsoBought { book { ...B } } } fragment B on Book { ...A }',
]


@pytest.mark.parametrize("source", CYCLES)
def test_fragment_cycles_do_not_hang(source: str) -> None:
    document = parse(source)
    rules = [*DEFAULTS.rules(), *specified_rules]
    errors = validate(SCHEMA, document, rules=rules)
    assert any("within itself" in e.message for e in errors)  # graphql-core's NoFragmentCycles
    assert check(SCHEMA, document, None, None, DEFAULTS) == []  # the limits leave cycles to it
    assert requested_cost(SCHEMA, document, None, None) >= 1
    assert actual_cost(SCHEMA, document, None, None, {"book": {"title": "x"}}) == 1


def test_invalid_documents_do_not_break_the_cost() -> None:
    for source in [
        "{ nope { title } }",
        '{ book(id: "1") { ...Missing } }',
        '{ book(id: "1") { ... on Nope { title } } }',
        "{ books(first: true) { edges { node { title } } } }",
        "query ($n: Int!) { books(first: $n) { edges { node { title } } } }",
        'subscription { stockChanged(bookIds: ["1"]) { book { title } } }',
    ]:
        assert requested_cost(SCHEMA, parse(source), {"n": "many"}, None) >= 0
