"""graphql-transport-ws with the HTTP path's admission.

Strawberry's handler runs whatever a `subscribe` message carries. This one first asks the same
`Admission` the HTTP view asks (persisted-query rules, introspection, limits, cost, the budget), so
an operation passes over a WebSocket exactly what it passes over HTTP; a refusal is the protocol's
`error` message with the same coded errors. Queries and mutations are settled as over HTTP and
report `extensions.cost`; a subscription is charged its price when it starts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
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
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.utils.aio import aclosing

from context import Context
from gateway.admission import Admission, Admitted, OperationRequest, Refused
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
                extensions={"code": "BAD_USER_INPUT"},
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
        admission: Admission = request.app.state.admission
        asked = OperationRequest(
            operation.query, operation.variables, operation.operation_name, operation.extensions
        )
        try:
            decision = await admission.admit(
                asked, context.viewer, request.client.host if request.client else None
            )
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

    async def _handle_pre_execution_error(
        self, operation: Operation[Context, None], result: PreExecutionError
    ) -> None:
        # The base class closes the whole connection on a syntax error or an unknown operation name,
        # ending every other subscription on it. They are this operation's errors, coded as over HTTP.
        await operation.send_initial_errors(result.errors or [])

    async def _run_admitted(self, operation: AdmittedOperation, decision: Admitted) -> None:
        document = decision.priced.document
        definition = get_operation_ast(document, operation.operation_name) if document else None
        settles = definition is not None and definition.operation is not OperationType.SUBSCRIPTION
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
                    if settles:
                        cost = await self.context.request.app.state.admission.settle(decision, result.data)
                        result.extensions = {**(result.extensions or {}), "cost": cost}
                    await operation.send_next(result)
                    first = False
            except GraphQLError as error:
                if not first:
                    raise
                # The parser cache raises a syntax error rather than return it as a result.
                await operation.send_initial_errors([error])
                return
        await operation.send_operation_message({"id": operation.id, "type": "complete"})
