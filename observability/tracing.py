"""OpenTelemetry tracing, off unless configured: one span per GraphQL operation (with its parse and
validation) and one per store call, never one per field (a per-field hook would multiply the cost
of every list the API returns)."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from contextlib import contextmanager
from typing import Literal

from opentelemetry import context, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from strawberry.extensions import LifecycleStep, SchemaExtension
from strawberry.extensions.tracing import OpenTelemetryExtension

Exporter = Literal["none", "console", "otlp"]
# A proxy until a provider is installed (configure_tracing, or a test's), then that provider's.
_TRACER = trace.get_tracer("bookgraph")


class OperationTracing(OpenTelemetryExtension):
    """Strawberry's extension without its per-field hook: Strawberry only wraps resolvers for
    extensions that override `resolve`, and this one keeps the base class's."""

    resolve = SchemaExtension.resolve  # type: ignore[assignment]

    def on_operation(self) -> Generator[None, None, None]:
        # Strawberry starts the operation span without making it current; made current here, the
        # store calls beneath it (loaders run in tasks that inherit the context) become its children.
        steps = super().on_operation()
        next(steps)
        token = context.attach(trace.set_span_in_context(self._span_holder[LifecycleStep.OPERATION]))
        try:
            yield
        finally:
            context.detach(token)
            next(steps, None)


@contextmanager
def planned_operation(operation_name: str | None, query: str) -> Iterator[trace.Span]:
    """The span of an operation a compiled plan runs, named as Strawberry names its own, and
    current, so the store calls beneath it are its children."""
    name = f"GraphQL Query: {operation_name}" if operation_name else "GraphQL Query"
    with _TRACER.start_as_current_span(name, kind=trace.SpanKind.SERVER) as span:
        span.set_attribute("component", "graphql")
        span.set_attribute("graphql.execution", "plan")
        span.set_attribute("query", query)
        yield span


def configure_tracing(exporter: Exporter, endpoint: str | None, service_name: str = "bookgraph") -> bool:
    """Install a tracer provider that exports spans; False (and nothing installed) for "none"."""
    if exporter == "none":
        return False
    chosen: SpanExporter
    if exporter == "console":
        chosen = ConsoleSpanExporter()
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        chosen = OTLPSpanExporter(endpoint=endpoint) if endpoint else OTLPSpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(BatchSpanProcessor(chosen))
    trace.set_tracer_provider(provider)
    return True
