"""OpenTelemetry traces: one trace per run and per shipped order, across every NATS hop.

Tracing is on when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (a settings field of
:class:`~relay_shared.settings.CommonSettings`, read under its standard name): spans are
exported by OTLP/HTTP to ``<endpoint>/v1/traces`` in batches (the SDK's ``OTEL_BSP_*`` and
``OTEL_EXPORTER_OTLP_*`` variables tune it). Off, nothing is set up: no provider, no
middleware, no instrumentation.

The pieces are the ecosystem's own: FastStream's ``NatsTelemetryMiddleware`` puts the W3C
``traceparent`` in every published message's headers and continues the trace in the consumer;
the aiohttp server and client, asyncpg and botocore instrumentations add their spans. Events
published through the outbox carry the ``traceparent`` of the span that wrote them (stored
with the row, see :mod:`relay_shared.outbox`), so a drain by another task or replica
continues the right trace. :func:`annotate_span` puts a unit of work's tenant, run and
correlation ids on the current span.

:func:`start_tracing` is called once, where a service starts (``app.py``), never at import.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

TRACEPARENT = "traceparent"
_PROPAGATOR = TraceContextTextMapPropagator()


@dataclass
class Tracing:
    """What :func:`start_tracing` set up; :meth:`shutdown` flushes the spans not yet sent."""

    provider: TracerProvider | None

    @property
    def enabled(self) -> bool:
        return self.provider is not None

    def shutdown(self) -> None:
        if self.provider is not None:
            self.provider.shutdown()


def traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL under a base endpoint (the ``OTEL_EXPORTER_OTLP_ENDPOINT``
    rule: the signal's path is appended)."""
    return f"{endpoint.rstrip('/')}/v1/traces"


def start_tracing(service: str, endpoint: str | None) -> Tracing:
    """Export this process's spans to ``endpoint`` (None or empty: tracing off) and
    instrument aiohttp (server and client), asyncpg and botocore. Once per process."""
    if not endpoint:
        return Tracing(None)
    # Imported here: the exporter and instrumentations cost start-up time when tracing is off.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
    from opentelemetry.instrumentation.aiohttp_server import AioHttpServerInstrumentor
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor

    provider = TracerProvider(resource=Resource.create({"service.name": f"relay-{service}"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=traces_url(endpoint))))
    trace.set_tracer_provider(provider)
    for instrumentor in (
        AioHttpServerInstrumentor(),
        AioHttpClientInstrumentor(),
        AsyncPGInstrumentor(),  # type: ignore[no-untyped-call]
        BotocoreInstrumentor(),  # type: ignore[no-untyped-call]
    ):
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument(tracer_provider=provider)
    return Tracing(provider)


def current_traceparent() -> str | None:
    """The W3C ``traceparent`` of the current span (None outside a sampled span)."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get(TRACEPARENT)


@contextmanager
def continued_from(traceparent: str | None) -> Iterator[None]:
    """Make ``traceparent`` (as :func:`current_traceparent` gave it) the current span
    context for the block: what is published inside continues that trace."""
    if not traceparent:
        yield
        return
    token = otel_context.attach(_PROPAGATOR.extract({TRACEPARENT: traceparent}))
    try:
        yield
    finally:
        otel_context.detach(token)


def annotate_span(attributes: Mapping[str, str | None]) -> None:
    """Set the given (non-empty) attributes on the current span, when one is recording."""
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attributes({name: value for name, value in attributes.items() if value})


def child_span(name: str) -> trace.Span | None:
    """A span started under the current one, when it is recording (None when tracing is off):
    the caller ends it (a piece of work that outlives the current span, in a task of its own)."""
    if not trace.get_current_span().is_recording():
        return None
    return trace.get_tracer(__name__).start_span(name)


def trace_ids() -> tuple[str, str] | None:
    """The current span's trace and span ids as hex (None outside a valid span)."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None
    return format(span_context.trace_id, "032x"), format(span_context.span_id, "016x")
