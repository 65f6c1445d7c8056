"""Tracing, when configured: a span per operation and per store call, none per field."""

from __future__ import annotations

from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from observability.tracing import OperationTracing, configure_tracing


def test_the_extension_adds_no_per_field_hook() -> None:
    assert not OperationTracing._implements_resolve()
    assert configure_tracing("none", None) is False


async def test_an_operation_is_one_span_with_its_store_calls_under_it(gql: Any) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)  # once per process: the suite does not trace otherwise

    body = await gql("{ books(first: 20) { edges { node { title authors { name } stock { available } } } } }")
    assert len(body["data"]["books"]["edges"]) == 20
    spans = exporter.get_finished_spans()
    names = [span.name for span in spans]
    operations = [s for s in spans if s.name.startswith("GraphQL Query")]
    assert len(operations) == 1
    store_calls = [s for s in spans if s.name == "inventory call"]
    # books, their authors, their stock (and the count when asked): one span each, not one per book.
    assert 3 <= len(store_calls) <= 4, names
    operation = operations[0]
    assert all(s.context.trace_id == operation.context.trace_id for s in store_calls)
    # 20 books with 3 fields each were resolved, and not one span among them.
    assert len(spans) < 10, names
