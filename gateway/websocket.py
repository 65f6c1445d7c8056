"""graphql-transport-ws with the HTTP path's admission.

Strawberry's handler runs whatever a `subscribe` message carries. This one first asks the same
`Admission` the HTTP view asks (persisted-query rules, introspection, limits, cost, the budget), so
an operation passes over a WebSocket exactly what it passes over HTTP; a refusal is the protocol's
`error` message with the same coded errors. Queries and mutations are settled as over HTTP and
report `extensions.cost`; a subscription is charged its price when it starts and for every event
after the first, counts against its client's number of live subscriptions, and a connection ends
when its token expires.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from contextlib import suppress
from typing import Any

import orjson
from graphql import GraphQLError, OperationType, get_operation_ast
from starlette.websockets import WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
    _OperationStreamClosed,  # the base class's own signal that it closed the socket
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.utils.aio import aclosing

from context import Context
from errors import Throttled
from gateway.admission import Admitted, OperationRequest, Refused
from gateway.cost import budget_key
from gateway.services import services
from schema.errors import present_all


class TextFrames(ASGIWebSocketAdapter):
    """Every message as a text frame: graphql-transport-ws is a text protocol, and standard clients
    (graphql-ws, GraphiQL) close the socket on a binary one. Strawberry sends bytes as binary, and the
    view's orjson encoder returns bytes."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(orjson.dumps(message).decode())
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class AdmittedOperation(Operation[Context, None]):
    __slots__ = ("extensions",)

    def __init__(
        self,
        handler: BaseGraphQLTransportWSHandler[Context, None],
        id: str,
        payload: dict[str, Any],
    ) -> None:
        # A missing query (a persisted query's hash alone) is for admission to answer.
        query = payload.get("query")
        super().__init__(handler, id, query, payload.get("variables"), payload.get("operationName"))  # type: ignore[arg-type]
        self.extensions: dict[str, Any] | None = payload.get("extensions")

    # Every error leaves through one of these two, presented as over HTTP (codes, masking, hints
    # only for roles that may introspect). Here and not in the schema's process_errors, which is
    # handed the validation cache's own list.
    async def send_initial_errors(self, errors: list[GraphQLError]) -> None:
        await super().send_initial_errors(self._presented(errors))

    async def send_next(self, execution_result: ExecutionResult) -> None:
        execution_result.errors = self._presented(execution_result.errors or []) or None
        await super().send_next(execution_result)

    def _presented(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        context: Context = self.handler.context
        hints = context.settings.may_introspect(context.viewer.role.value)
        return present_all(errors, suggestions=hints) or []


class AdmittedTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._expiry: asyncio.Task[None] | None = None

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        expires_at = self.context.viewer.expires_at
        if self.connection_acknowledged and expires_at is not None and self._expiry is None:
            self._expiry = asyncio.create_task(self._close_at(expires_at))

    async def _close_at(self, expires_at: int) -> None:
        """A token is good until its `exp`, on a connection too: then the connection ends, and the
        client reconnects with a fresh token."""
        await asyncio.sleep(max(expires_at - self.context.settings.clock.timestamp(), 0))
        await self.websocket.close(code=4403, reason="The token has expired.")

    async def shutdown(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        await super().shutdown()

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        # As the base class does, but keeping `extensions` (persisted queries) and letting a
        # missing `query` through to admission, which answers it as HTTP does.
        if not self.connection_acknowledged:
            await self.websocket.close(code=4401, reason="Unauthorized")
            return
        if message["id"] in self.operations:
            await self.websocket.close(code=4409, reason=f"Subscriber for {message['id']} already exists")
            return
        if (
            self.max_subscriptions_per_connection is not None
            and len(self.operations) >= self.max_subscriptions_per_connection
        ):
            limit = GraphQLError(
                f"At most {self.max_subscriptions_per_connection} operations at once on one connection.",
                extensions={"code": "THROTTLED"},
            )
            await self.send_message({"id": message["id"], "type": "error", "payload": [limit.formatted]})
            return
        payload = message["payload"]
        if not isinstance(payload, dict):
            await self.handle_invalid_message("The `subscribe` payload must be an object.")
            return
        operation = AdmittedOperation(self, message["id"], dict(payload))
        operation.task = asyncio.create_task(self.run_operation(operation))
        operation.task.add_done_callback(self._task_done)
        self.operations[message["id"]] = operation

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        assert isinstance(operation, AdmittedOperation)
        context = self.context
        request = context.request
        admission = services(request.app).admission
        asked = OperationRequest(
            operation.query, operation.variables, operation.operation_name, operation.extensions
        )
        host = request.client.host if request.client else None
        # Counted before anything is awaited, so subscriptions arriving together cannot all pass.
        live = (
            admission.operation_type(operation.query, operation.operation_name) is OperationType.SUBSCRIPTION
        )
        client = budget_key(context.viewer, host)
        if live and not self._take_live(client):
            most = context.settings.subscriptions_per_client
            refused = Throttled(f"At most {most} subscriptions at once per client; end one first.")
            await operation.send_initial_errors([GraphQLError(refused.message, original_error=refused)])
            return
        try:
            decision = await admission.admit(asked, context.viewer, host)
            if isinstance(decision, Refused):
                await operation.send_initial_errors(list(decision.errors))
                return
            if decision.query is None:
                missing = GraphQLError(
                    "No GraphQL query found in the message.", extensions={"code": "BAD_USER_INPUT"}
                )
                await operation.send_initial_errors([missing])
                return
            await self._run_admitted(operation, decision)
        except _OperationStreamClosed:
            return
        except Exception as error:
            await self.handle_task_exception(error)
            with suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)
            raise
        finally:
            if live:
                self._give_live(client)

    def _take_live(self, client: str) -> bool:
        live = services(self.context.request.app).live_subscriptions
        if live[client] >= self.context.settings.subscriptions_per_client:
            return False
        live[client] += 1
        return True

    def _give_live(self, client: str) -> None:
        live = services(self.context.request.app).live_subscriptions
        live[client] -= 1
        if live[client] <= 0:
            del live[client]

    async def _handle_pre_execution_error(
        self, operation: Operation[Context, None], result: PreExecutionError
    ) -> None:
        # The base class closes the whole connection on a syntax error or an unknown operation name,
        # ending every other subscription on it. They are this operation's errors, coded as over HTTP.
        await operation.send_initial_errors(result.errors or [])

    async def _run_admitted(self, operation: AdmittedOperation, decision: Admitted) -> None:
        document = decision.priced.document
        definition = get_operation_ast(document, operation.operation_name) if document else None
        if definition is not None and definition.operation is OperationType.SUBSCRIPTION:
            await self._run_subscription(operation, decision)
        else:
            await self._run_once(operation, decision)

    async def _run_once(self, operation: AdmittedOperation, decision: Admitted) -> None:
        admission = services(self.context.request.app).admission

        async def settled(result: ExecutionResult) -> ExecutionResult:
            cost = await admission.settle(decision, result.data)
            result.extensions = {**(result.extensions or {}), "cost": cost}
            return result

        await self._stream(operation, decision, settled)

    async def _run_subscription(self, operation: AdmittedOperation, decision: Admitted) -> None:
        admission = services(self.context.request.app).admission
        first = True

        async def charged(result: ExecutionResult) -> ExecutionResult | None:
            # The price was taken when it started, for its first event; each later one pays again.
            nonlocal first
            if first:
                first = False
                return result
            refused = await admission.charge_again(decision)
            if refused is not None:
                await operation.send_initial_errors(list(refused.errors))
                return None
            return result

        await self._stream(operation, decision, charged)

    async def _stream(
        self,
        operation: AdmittedOperation,
        decision: Admitted,
        each: Callable[[ExecutionResult], Awaitable[ExecutionResult | None]],
    ) -> None:
        """As the base class runs an operation, with `each` result passed through `each` first (None:
        the operation was ended there)."""
        source = await self.schema.stream(
            decision.query,
            variable_values=operation.variables,
            context_value=self.context,
            root_value=None,
            operation_name=operation.operation_name,
        )
        first = True
        async with aclosing(source):
            try:
                async for result in source:
                    if first and isinstance(result, PreExecutionError):
                        await self._handle_pre_execution_error(operation, result)
                        return
                    if not isinstance(result, ExecutionResult):
                        await self._reject_incremental_delivery(operation)
                        return
                    first = False
                    passed = await each(result)
                    if passed is None:
                        return
                    await operation.send_next(passed)
            except GraphQLError as error:
                if not first:
                    raise
                # The parser cache raises a syntax error rather than return it as a result.
                await operation.send_initial_errors([error])
                return
        await operation.send_operation_message({"id": operation.id, "type": "complete"})
