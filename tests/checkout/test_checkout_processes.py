"""Checkout across server processes: no overselling, one order per key, recovery after kill -9,
and subscriptions that hear what another process did."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import uuid
from collections import Counter
from datetime import timedelta
from itertools import cycle
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import websockets
from support import ROOT, GraphQLClient, ServerProcess, Shop, process_environment, token_for

from auth.viewer import Role
from checkout.saga import checkout_for
from schema.relay import pk_of, to_global_id

PLACE = """mutation ($input: PlaceOrderInput!) {
  placeOrder(input: $input) { order { id status } userErrors { field code } } }"""
ROUNDS, CALLS, STOCK = 10, 50, 3


def order_input(book: int, quantity: int = 1, idempotency_key: str | None = None) -> dict[str, Any]:
    lines = [{"bookId": to_global_id("Book", book), "quantity": quantity}]
    return {"input": {"idempotencyKey": idempotency_key or uuid.uuid4().hex, "lines": lines}}


async def test_concurrent_orders_never_oversell(shop: Shop, servers: list[ServerProcess]) -> None:
    clients = [httpx.AsyncClient(base_url=server.url, timeout=60) for server in servers]
    try:
        for round_ in range(ROUNDS):
            book = shop.book_ids[20 + round_]
            await shop.set_available(book, STOCK)
            on_hand, reserved = await shop.stock(book)

            calls = [
                GraphQLClient(client, shop.settings)(PLACE, order_input(book), as_=f"rush-{round_}-{n}")
                for n, client in zip(range(CALLS), cycle(clients), strict=False)
            ]
            bodies = await asyncio.gather(*calls)

            assert all("errors" not in body for body in bodies), [b for b in bodies if "errors" in b][:1]
            payloads = [body["data"]["placeOrder"] for body in bodies]
            confirmed = [p["order"] for p in payloads if p["order"] is not None]
            refused = Counter(e["code"] for p in payloads for e in p["userErrors"])
            assert [o["status"] for o in confirmed] == ["CONFIRMED"] * STOCK
            assert refused == {"OUT_OF_STOCK": CALLS - STOCK}
            # Nothing lost, nothing invented: on hand unchanged, every copy held by a confirmed order.
            assert await shop.stock(book) == (on_hand, reserved + STOCK)
            held = [await shop.held(pk_of(o["id"], "Order")) for o in confirmed]
            assert held == [{book: 1}] * STOCK
    finally:
        for client in clients:
            await client.aclose()


async def test_one_key_sent_twenty_times_at_once_makes_one_order(
    shop: Shop, servers: list[ServerProcess]
) -> None:
    book = shop.book_ids[30]
    await shop.set_available(book, 10)
    on_hand, reserved = await shop.stock(book)
    variables = order_input(book, quantity=2)
    clients = [httpx.AsyncClient(base_url=server.url, timeout=60) for server in servers]
    try:
        bodies = await asyncio.gather(
            *(
                GraphQLClient(client, shop.settings)(PLACE, variables, as_="eager-buyer")
                for _, client in zip(range(20), cycle([*clients, shop.http]), strict=False)
            )
        )
    finally:
        for client in clients:
            await client.aclose()
    orders = {body["data"]["placeOrder"]["order"]["id"] for body in bodies}
    assert len(orders) == 1
    assert await shop.stock(book) == (on_hand, reserved + 2)
    async with shop.stores.orders.connect() as conn:
        count = await conn.execute(
            sa.text("SELECT count(*) FROM orders WHERE idempotency_key = :k"),
            {"k": variables["input"]["idempotencyKey"]},
        )
        assert count.scalar_one() == 1


@pytest.mark.parametrize("point", ["after_pending", "after_reserve", "before_confirm", "after_confirm"])
async def test_recovery_finishes_what_a_killed_process_left(shop: Shop, point: str, tmp_path: Any) -> None:
    book = shop.book_ids[35]
    await shop.set_available(book, 5)
    on_hand, reserved = await shop.stock(book)
    server = await ServerProcess(shop.settings, tmp_path, FAULT_POINTS=json.dumps({point: "kill"})).ready()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            with pytest.raises(httpx.TransportError):  # the process died mid-order
                await GraphQLClient(http, shop.settings)(PLACE, order_input(book, 2), as_=f"crash-{point}")
        assert server.process.wait(timeout=10) != 0
    finally:
        server.stop()
    async with shop.stores.orders.connect() as conn:
        order_id, status = (
            await conn.execute(
                sa.text(
                    "SELECT o.id, o.status FROM orders o JOIN customers c ON c.id = o.customer_id "
                    "WHERE c.subject = :s"
                ),
                {"s": f"crash-{point}"},
            )
        ).one()
    assert status == ("CONFIRMED" if point == "after_confirm" else "PENDING")

    await checkout_for(shop.settings, shop.stores).recover(older_than=timedelta(0))

    async with shop.stores.orders.connect() as conn:
        status = (
            await conn.execute(sa.text("SELECT status FROM orders WHERE id = :o"), {"o": order_id})
        ).scalar_one()
    # Stock was there, so recovery completes the order rather than rejecting it.
    assert status == "CONFIRMED"
    assert await shop.held(order_id) == {book: 2}
    assert await shop.stock(book) == (on_hand, reserved + 2)


async def _subscribe(
    server: ServerProcess, shop: Shop, query: str, variables: dict[str, Any], subject: str
) -> Any:
    socket = await websockets.connect(
        server.url.replace("http", "ws") + "/graphql",
        subprotocols=[websockets.Subprotocol("graphql-transport-ws")],
    )
    token = token_for(shop.settings, subject, Role.CUSTOMER)
    await socket.send(
        json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
    )
    assert json.loads(await socket.recv())["type"] == "connection_ack"
    await socket.send(
        json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}})
    )
    return socket


ORDER_STATUS = """subscription ($id: ID) {
  orderStatusChanged(orderId: $id) { previousStatus status order { id status } } }"""
STOCK_CHANGES = """subscription ($ids: [ID!]!) { stockChanged(bookIds: $ids) { bookId stock { onHand reserved available } } }"""


async def test_a_subscriber_on_one_process_hears_a_change_made_on_another(
    shop: Shop, servers: list[ServerProcess]
) -> None:
    book = shop.book_ids[40]
    await shop.set_available(book, 5)
    async with httpx.AsyncClient(base_url=servers[1].url, timeout=30) as http:
        placed = await GraphQLClient(http, shop.settings)(PLACE, order_input(book), as_="watcher")
    order_id = placed["data"]["placeOrder"]["order"]["id"]

    orders = await _subscribe(servers[0], shop, ORDER_STATUS, {"id": order_id}, "watcher")
    stock = await _subscribe(
        servers[0], shop, STOCK_CHANGES, {"ids": [to_global_id("Book", book)]}, "watcher"
    )
    await asyncio.sleep(0.5)  # both subscriptions registered with Redis
    # The change is made through the in-process app: a third process.
    cancelled = await shop.gql(
        "mutation ($id: ID!) { cancelOrder(id: $id) { order { status } } }", {"id": order_id}, "watcher"
    )
    assert cancelled["data"]["cancelOrder"]["order"]["status"] == "CANCELLED"

    heard = json.loads(await asyncio.wait_for(orders.recv(), timeout=10))
    assert heard["type"] == "next"
    assert heard["payload"]["data"]["orderStatusChanged"] == {
        "previousStatus": "CONFIRMED",
        "status": "CANCELLED",
        "order": {"id": order_id, "status": "CANCELLED"},
    }
    level = json.loads(await asyncio.wait_for(stock.recv(), timeout=10))["payload"]["data"]["stockChanged"]
    on_hand, reserved = await shop.stock(book)
    assert level == {
        "bookId": to_global_id("Book", book),
        "stock": {"onHand": on_hand, "reserved": reserved, "available": on_hand - reserved},
    }
    await orders.close()
    await stock.close()


async def test_a_customer_cannot_follow_another_customers_order(
    shop: Shop, servers: list[ServerProcess]
) -> None:
    book = shop.book_ids[41]
    await shop.set_available(book, 5)
    placed = await shop.gql(PLACE, order_input(book), "owner")
    order_id = placed["data"]["placeOrder"]["order"]["id"]

    socket = await _subscribe(servers[0], shop, ORDER_STATUS, {"id": order_id}, "snoop")
    answer = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
    done = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
    await socket.close()
    # Refused as the order(id:) query refuses it, and the subscription ends there.
    assert answer["type"] == "next" and answer["payload"]["data"] is None
    assert [e["extensions"]["code"] for e in answer["payload"]["errors"]] == ["NOT_FOUND"]
    assert done == {"id": "1", "type": "complete"}


async def test_the_worker_command_completes_a_checkout_left_pending(shop: Shop, tmp_path: Any) -> None:
    from datasources.orders.ledger import NewLine, OrderLedger

    book = shop.book_ids[42]
    await shop.set_available(book, 5)
    on_hand, reserved = await shop.stock(book)
    await shop.gql("{ viewer { id } }", {}, "stranded")
    async with shop.stores.orders.connect() as conn:
        customer = (
            await conn.execute(sa.text("SELECT id FROM customers WHERE subject = 'stranded'"))
        ).scalar_one()
    # A checkout that stopped right after opening its order: PENDING, nothing held.
    opened = await OrderLedger(shop.stores.orders).open(
        customer, "stranded-1", "h", [NewLine(book, 1, 999)], "USD", placed_at=shop.settings.clock.now()
    )

    environment = process_environment(shop.settings, tmp_path, RECOVERY_AFTER_SECONDS="0.001")
    result = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli", "worker", "--once", cwd=ROOT, env=environment
    )
    assert await result.wait() == 0

    async with shop.stores.orders.connect() as conn:
        status = (
            await conn.execute(sa.text("SELECT status FROM orders WHERE id = :o"), {"o": opened.order.id})
        ).scalar_one()
    assert status == "CONFIRMED"
    assert await shop.held(opened.order.id) == {book: 1}
    assert await shop.stock(book) == (on_hand, reserved + 1)


async def test_a_rolling_restart_loses_no_accepted_order(shop: Shop, tmp_path_factory: Any) -> None:
    """One process is stopped (SIGTERM) in the middle of a stream of orders; a client retries a
    failed send on the other process with the same key, as the apps do. Every order sent is placed
    exactly once, and every response that said CONFIRMED is an order in the database."""
    book = shop.book_ids[45]
    await shop.set_available(book, 500)
    on_hand, reserved = await shop.stock(book)
    old, new = await asyncio.gather(
        *(ServerProcess(shop.settings, tmp_path_factory.mktemp("rolling")).ready() for _ in range(2))
    )
    keys = [f"rolling-{uuid.uuid4().hex}" for _ in range(60)]
    confirmed: dict[str, str] = {}
    try:
        async with (
            httpx.AsyncClient(base_url=old.url, timeout=30) as to_old,
            httpx.AsyncClient(base_url=new.url, timeout=30) as to_new,
        ):

            async def send(n: int, key: str) -> None:
                await asyncio.sleep(n * 0.02)
                variables = order_input(book, 1, idempotency_key=key)
                for client in (to_old if n % 2 else to_new, to_new):
                    try:
                        body = await GraphQLClient(client, shop.settings)(
                            PLACE, variables, as_=f"rolling-{n % 7}"
                        )
                    except (httpx.TransportError, AssertionError):
                        continue  # refused or cut off by the stopping process: send it again elsewhere
                    assert body["data"] is not None, body
                    confirmed[key] = body["data"]["placeOrder"]["order"]["id"]
                    return

            async def restart() -> None:
                await asyncio.sleep(0.4)
                old.process.terminate()

            await asyncio.gather(restart(), *(send(n, key) for n, key in enumerate(keys)))
        # uvicorn finishes the requests in flight, runs the shutdown, then re-raises the signal.
        assert await asyncio.to_thread(old.process.wait, 30) in (0, -signal.SIGTERM)
        assert "Application shutdown complete" in old.log.read_text()
    finally:
        old.stop()
        new.stop()
    assert set(confirmed) == set(keys)
    async with shop.stores.orders.connect() as conn:
        rows = (
            await conn.execute(
                sa.text("SELECT idempotency_key, status FROM orders WHERE idempotency_key LIKE 'rolling-%'")
            )
        ).all()
    assert sorted(r.idempotency_key for r in rows) == sorted(keys)  # each exactly once
    assert {r.status for r in rows} == {"CONFIRMED"}
    assert await shop.stock(book) == (on_hand, reserved + len(keys))


async def test_stopping_a_process_closes_its_subscriptions(shop: Shop, tmp_path: Any) -> None:
    server = await ServerProcess(shop.settings, tmp_path).ready()
    try:
        book = shop.book_ids[46]
        socket = await _subscribe(
            server, shop, STOCK_CHANGES, {"ids": [to_global_id("Book", book)]}, "leaving"
        )
        await asyncio.sleep(0.5)
        server.process.terminate()
        # The client is told the server is going away (a close frame), rather than left hanging.
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), timeout=15)
        assert closed.value.rcvd is not None and closed.value.rcvd.code in (1001, 1012)
        assert await asyncio.to_thread(server.process.wait, 30) in (0, -signal.SIGTERM)
    finally:
        server.stop()
