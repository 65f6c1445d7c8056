"""placeOrder, cancelOrder, setOrderStatus and restock through the HTTP app, against the real stores."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from support import Shop, error_codes

from auth.viewer import Role
from checkout.faults import Faults
from checkout.saga import LineRequest, checkout_for
from datasources.inventory.source import InventorySource
from datasources.inventory.stock import Outcome, StockLedger
from errors import SourceUnavailable
from schema.relay import pk_of, to_global_id

PLACE = """
mutation ($input: PlaceOrderInput!) {
  placeOrder(input: $input) {
    order { id number status total { amount } lines { quantity unitPrice { amount } book { id price { amount } } }
            events { fromStatus toStatus } }
    userErrors { field message code }
  }
}"""
CANCEL = (
    "mutation ($id: ID!) { cancelOrder(id: $id) { order { id status } userErrors { field message code } } }"
)
SET_STATUS = """mutation ($id: ID!, $status: OrderStatus!) {
  setOrderStatus(id: $id, status: $status) { order { id status events { toStatus } } userErrors { field code } } }"""
RESTOCK = """mutation ($book: ID!, $quantity: Int!) {
  restock(bookId: $book, quantity: $quantity) { stock { onHand available } userErrors { field code } } }"""


def key() -> str:
    return uuid.uuid4().hex


def lines(*pairs: tuple[int, int]) -> list[dict[str, Any]]:
    return [{"bookId": to_global_id("Book", book), "quantity": quantity} for book, quantity in pairs]


async def place(shop: Shop, subject: str, *pairs: tuple[int, int], idempotency_key: str | None = None) -> Any:
    variables = {"input": {"idempotencyKey": idempotency_key or key(), "lines": lines(*pairs)}}
    body = await shop.gql(PLACE, variables, subject)
    assert "errors" not in body, body
    return body["data"]["placeOrder"]


async def order_count(shop: Shop) -> int:
    async with shop.stores.orders.connect() as conn:
        return (await conn.execute(sa.text("SELECT count(*) FROM orders"))).scalar_one()


async def test_an_order_holds_its_stock_at_todays_prices(shop: Shop) -> None:
    first, second = shop.book_ids[0], shop.book_ids[1]
    await shop.set_available(first, 5)
    before = await shop.stock(first), await shop.stock(second)

    payload = await place(shop, "buyer-1", (first, 2), (second, 1))

    assert payload["userErrors"] == []
    order = payload["order"]
    assert order["status"] == "CONFIRMED"
    assert [e["toStatus"] for e in order["events"]] == ["PENDING", "CONFIRMED"]
    for line in order["lines"]:
        assert line["unitPrice"] == line["book"]["price"]
    total = sum(float(line["unitPrice"]["amount"]) * line["quantity"] for line in order["lines"])
    assert float(order["total"]["amount"]) == pytest.approx(total)
    assert await shop.stock(first) == (before[0][0], before[0][1] + 2)
    assert await shop.stock(second) == (before[1][0], before[1][1] + 1)
    assert await shop.held(pk_of(order["id"], "Order")) == {first: 2, second: 1}


@pytest.mark.parametrize(
    ("case", "field", "code"),
    [
        ("quantity zero", ["input", "lines", "0", "quantity"], "INVALID_QUANTITY"),
        ("quantity negative", ["input", "lines", "0", "quantity"], "INVALID_QUANTITY"),
        ("quantity over the maximum", ["input", "lines", "0", "quantity"], "INVALID_QUANTITY"),
        ("unknown book", ["input", "lines", "1", "bookId"], "UNKNOWN_BOOK"),
        ("not a book ID", ["input", "lines", "1", "bookId"], "UNKNOWN_BOOK"),
        ("duplicated book", ["input", "lines", "1", "bookId"], "DUPLICATE_BOOK"),
        ("no lines", ["input", "lines"], "EMPTY_ORDER"),
        ("101 lines", ["input", "lines"], "TOO_MANY_LINES"),
        ("empty key", ["input", "idempotencyKey"], "INVALID_IDEMPOTENCY_KEY"),
        ("256-character key", ["input", "idempotencyKey"], "INVALID_IDEMPOTENCY_KEY"),
    ],
)
async def test_bad_input_is_a_user_error_and_changes_nothing(
    shop: Shop, count_statements: Any, case: str, field: list[str], code: str
) -> None:
    book, other = shop.book_ids[2], shop.book_ids[3]
    good = {"bookId": to_global_id("Book", book), "quantity": 1}
    line_sets: dict[str, list[dict[str, Any]]] = {
        "quantity zero": [{**good, "quantity": 0}],
        "quantity negative": [{**good, "quantity": -3}],
        "quantity over the maximum": [{**good, "quantity": shop.settings.max_line_quantity + 1}],
        "unknown book": [good, {"bookId": to_global_id("Book", 10**9), "quantity": 1}],
        "not a book ID": [good, {"bookId": to_global_id("Order", other), "quantity": 1}],
        "duplicated book": [good, {**good, "quantity": 2}],
        "no lines": [],
        "101 lines": [good] * 101,
    }
    idempotency_key = {"empty key": " ", "256-character key": "k" * 256}.get(case, key())
    stock_before, orders_before = await shop.stock(book), await order_count(shop)
    await shop.gql("{ viewer { id } }", {}, "buyer-2")  # the customer exists before counting
    counter = count_statements()

    body = await shop.gql(
        PLACE, {"input": {"idempotencyKey": idempotency_key, "lines": line_sets.get(case, [good])}}, "buyer-2"
    )
    statements = counter.delta()

    payload = body["data"]["placeOrder"]
    assert payload["order"] is None
    assert {"field": field, "code": code} in [
        {"field": e["field"], "code": e["code"]} for e in payload["userErrors"]
    ]
    assert all(e["message"] for e in payload["userErrors"])
    assert await shop.stock(book) == stock_before
    assert await order_count(shop) == orders_before
    # The orders store was asked who the customer is, and nothing more.
    assert statements["orders"] == 1


async def test_the_same_key_returns_the_same_order_and_other_lines_are_refused(shop: Shop) -> None:
    book = shop.book_ids[4]
    await shop.set_available(book, 10)
    shared = key()
    first = await place(shop, "buyer-3", (book, 2), idempotency_key=shared)
    reserved = (await shop.stock(book))[1]

    again = await place(shop, "buyer-3", (book, 2), idempotency_key=shared)
    assert again["order"]["id"] == first["order"]["id"]
    assert (await shop.stock(book))[1] == reserved  # taken once

    other = await place(shop, "buyer-3", (book, 3), idempotency_key=shared)
    assert other["order"] is None
    assert [(e["field"], e["code"]) for e in other["userErrors"]] == [
        (["input", "idempotencyKey"], "IDEMPOTENCY_KEY_REUSED")
    ]
    # Keys belong to a customer: another customer's identical key is a new order.
    theirs = await place(shop, "buyer-4", (book, 2), idempotency_key=shared)
    assert theirs["order"]["id"] != first["order"]["id"]


async def test_out_of_stock_is_refused_with_what_is_left_and_replays_the_same(shop: Shop) -> None:
    book, plenty = shop.book_ids[5], shop.book_ids[6]
    await shop.set_available(book, 1)
    await shop.set_available(plenty, 10)
    before = await shop.stock(book), await shop.stock(plenty)
    shared = key()

    payload = await place(shop, "buyer-5", (plenty, 1), (book, 2), idempotency_key=shared)

    assert payload["order"] is None
    [error] = payload["userErrors"]
    assert error["code"] == "OUT_OF_STOCK" and error["field"] == ["input", "lines", "1", "quantity"]
    assert "Only 1 left" in error["message"]
    # All lines or none: the book that had stock was not held either.
    assert (await shop.stock(book), await shop.stock(plenty)) == before
    replay = await place(shop, "buyer-5", (plenty, 1), (book, 2), idempotency_key=shared)
    assert replay == payload


async def test_cancelling_releases_the_stock_and_only_the_owner_may(shop: Shop) -> None:
    book = shop.book_ids[7]
    await shop.set_available(book, 4)
    before = await shop.stock(book)
    order = (await place(shop, "buyer-6", (book, 3)))["order"]

    stranger = (await shop.gql(CANCEL, {"id": order["id"]}, "buyer-7"))["data"]["cancelOrder"]
    assert stranger["order"] is None
    # As for an order that does not exist: a stranger learns nothing of it.
    assert [(e["field"], e["code"]) for e in stranger["userErrors"]] == [(["id"], "UNKNOWN_ORDER")]
    assert await shop.stock(book) == (before[0], before[1] + 3)

    mine = (await shop.gql(CANCEL, {"id": order["id"]}, "buyer-6"))["data"]["cancelOrder"]
    assert mine == {"order": {"id": order["id"], "status": "CANCELLED"}, "userErrors": []}
    assert await shop.stock(book) == before
    # Cancelling again is harmless and releases nothing twice.
    again = (await shop.gql(CANCEL, {"id": order["id"]}, "buyer-6"))["data"]["cancelOrder"]
    assert again["order"]["status"] == "CANCELLED" and await shop.stock(book) == before


async def test_the_lifecycle_moves_stock_and_records_every_step(shop: Shop) -> None:
    book = shop.book_ids[8]
    await shop.set_available(book, 4)
    on_hand, reserved = await shop.stock(book)
    order = (await place(shop, "buyer-8", (book, 2)))["order"]

    def set_status(status: str, role: Role = Role.ADMIN) -> Any:
        return shop.gql(SET_STATUS, {"id": order["id"], "status": status}, "ops", role)

    refused = await set_status("DELIVERED")
    assert refused["data"]["setOrderStatus"]["userErrors"] == [
        {"field": ["status"], "code": "INVALID_TRANSITION"}
    ]
    customer = await set_status("SHIPPED", Role.CUSTOMER)
    assert error_codes(customer) == ["FORBIDDEN"]

    shipped = (await set_status("SHIPPED"))["data"]["setOrderStatus"]
    assert shipped["order"]["status"] == "SHIPPED"
    assert await shop.stock(book) == (on_hand - 2, reserved)  # the copies left the warehouse
    cancel = (await shop.gql(CANCEL, {"id": order["id"]}, "buyer-8"))["data"]["cancelOrder"]
    assert [e["code"] for e in cancel["userErrors"]] == ["NOT_CANCELLABLE"]
    delivered = (await set_status("DELIVERED"))["data"]["setOrderStatus"]["order"]
    assert [e["toStatus"] for e in delivered["events"]] == ["PENDING", "CONFIRMED", "SHIPPED", "DELIVERED"]
    assert await shop.stock(book) == (on_hand - 2, reserved)


async def test_restock_is_for_administrators_and_checks_its_input(shop: Shop) -> None:
    book = to_global_id("Book", shop.book_ids[9])
    on_hand, _ = await shop.stock(shop.book_ids[9])
    done = (await shop.gql(RESTOCK, {"book": book, "quantity": 7}, "ops", Role.ADMIN))["data"]["restock"]
    assert done["userErrors"] == [] and done["stock"]["onHand"] == on_hand + 7
    for quantity, bad in ((0, "quantity"), (-1, "quantity"), (100_001, "quantity")):
        body = await shop.gql(RESTOCK, {"book": book, "quantity": quantity}, "ops", Role.ADMIN)
        assert body["data"]["restock"]["userErrors"] == [{"field": [bad], "code": "INVALID_QUANTITY"}]
    unknown = await shop.gql(RESTOCK, {"book": to_global_id("Book", 10**9), "quantity": 1}, "ops", Role.ADMIN)
    assert unknown["data"]["restock"]["userErrors"] == [{"field": ["bookId"], "code": "UNKNOWN_BOOK"}]
    assert error_codes(await shop.gql(RESTOCK, {"book": book, "quantity": 1}, "buyer-9")) == ["FORBIDDEN"]
    assert error_codes(await shop.gql(RESTOCK, {"book": book, "quantity": 1})) == ["UNAUTHENTICATED"]
    assert (await shop.stock(shop.book_ids[9]))[0] == on_hand + 7


async def test_only_customers_place_orders(shop: Shop) -> None:
    variables = {"input": {"idempotencyKey": key(), "lines": lines((shop.book_ids[0], 1))}}
    assert error_codes(await shop.gql(PLACE, variables)) == ["UNAUTHENTICATED"]
    assert error_codes(await shop.gql(PLACE, variables, "partner-1", Role.PARTNER)) == ["FORBIDDEN"]


async def test_a_failure_after_the_reservation_is_compensated(shop: Shop) -> None:
    book = shop.book_ids[10]
    await shop.set_available(book, 3)
    before = await shop.stock(book)
    checkout = checkout_for(shop.settings, shop.stores)
    checkout.faults = Faults({"before_confirm": SourceUnavailable("orders")})
    customer = await _customer_id(shop, "buyer-10")
    catalog = InventorySource(shop.stores.inventory)

    idempotency_key = key()
    first = await checkout.place(customer, idempotency_key, [LineRequest(book, 2)], catalog)

    # The first answer already says what happened, as a userError, not a masked INTERNAL.
    assert first.order is None and [p.code.value for p in first.problems] == ["CHECKOUT_FAILED"]
    order_id, status = await _latest_order(shop, customer)
    assert status == "REJECTED"
    assert await shop.held(order_id) == {}
    assert await shop.stock(book) == before
    retried = await checkout.place(customer, idempotency_key, [LineRequest(book, 2)], catalog)
    assert retried.problems == first.problems


async def _customer_id(shop: Shop, subject: str) -> int:
    await shop.gql("{ viewer { id } }", {}, subject)
    async with shop.stores.orders.connect() as conn:
        return (
            await conn.execute(sa.text("SELECT id FROM customers WHERE subject = :s"), {"s": subject})
        ).scalar_one()


async def _latest_order(shop: Shop, customer_id: int) -> tuple[int, str]:
    async with shop.stores.orders.connect() as conn:
        row = (
            await conn.execute(
                sa.text("SELECT id, status FROM orders WHERE customer_id = :c ORDER BY id DESC LIMIT 1"),
                {"c": customer_id},
            )
        ).one()
        return row.id, row.status


async def test_two_attempts_at_one_order_at_once_reserve_its_copies_once(shop: Shop) -> None:
    """The same key sent twice at once (or recovery beside the request): both reach the ledger
    before either has committed; one holds the copies, the other finds them held."""
    book = shop.book_ids[40]
    await shop.set_available(book, 5)
    on_hand, reserved = await shop.stock(book)
    ledger = StockLedger(shop.stores.stock)
    order_id = 10**12 + uuid.uuid4().int % 10**6  # (the inventory keeps no order rows to refer to)
    outcomes = await asyncio.gather(*(ledger.reserve(order_id, [(book, 2)]) for _ in range(4)))
    assert sorted(o.outcome for o in outcomes) == sorted(
        [Outcome.RESERVED, Outcome.ALREADY_HELD, Outcome.ALREADY_HELD, Outcome.ALREADY_HELD]
    )
    assert await shop.stock(book) == (on_hand, reserved + 2)
    assert await shop.held(order_id) == {book: 2}
    await ledger.release(order_id)
