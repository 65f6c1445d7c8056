"""Slow and oversized clients against `bookgraph serve` itself (the server command, its protocol and
middleware): a connection that does not send its headers in time is closed, a body that does not
arrive is 408, a WebSocket message over the body cap closes the socket (1009)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from support import Shop, bookgraph_serve, process_environment

TIMEOUT = "1"


@pytest.fixture(scope="module")
async def served(shop: Shop, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[int]:
    environment = process_environment(
        shop.settings,
        Path(tmp_path_factory.mktemp("slow")),
        REQUEST_HEADER_TIMEOUT_SECONDS=TIMEOUT,
        REQUEST_BODY_TIMEOUT_SECONDS=TIMEOUT,
    )
    async with bookgraph_serve(environment, "--no-migrate") as (_, port):
        yield port


async def closed_after(port: int, sent: bytes) -> tuple[float, bytes]:
    """Seconds until the server ends the connection after `sent`, and what it answered."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(sent)
    await writer.drain()
    started = time.monotonic()
    answer = await asyncio.wait_for(reader.read(), timeout=20)  # until the server closes
    writer.close()
    return time.monotonic() - started, answer


@pytest.mark.parametrize(
    "sent", [b"", b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Ty"], ids=["nothing", "half"]
)
async def test_a_connection_without_its_headers_is_closed(served: int, sent: bytes) -> None:
    waited, answer = await closed_after(served, sent)
    assert answer == b"" and waited < 10


async def test_a_body_that_does_not_arrive_is_408(served: int) -> None:
    head = (
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    )
    waited, answer = await closed_after(served, head + b'{"query":')
    assert answer.startswith(b"HTTP/1.1 408") and b"did not arrive within 1 seconds" in answer
    assert waited < 10


async def test_a_prompt_client_is_served(served: int) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{served}") as http:
        response = await http.post("/graphql", json={"query": "{ genres { name } }"})
    assert response.status_code == 200 and response.json()["data"]["genres"]


async def test_a_websocket_message_over_the_body_cap_is_refused(served: int, shop: Shop) -> None:
    import websockets

    async with websockets.connect(
        f"ws://127.0.0.1:{served}/graphql", subprotocols=[websockets.Subprotocol("graphql-transport-ws")]
    ) as socket:
        await socket.send('{"type": "connection_init"}')
        assert "connection_ack" in str(await socket.recv())
        await socket.send(
            '{"id": "1", "type": "subscribe", "payload": {"query": "'
            + " " * 70_000
            + '{ genres { name } }"}}'
        )
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009  # message too big
