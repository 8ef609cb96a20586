"""Structured JSON logs (structlog) with correlation ids, and OpenTelemetry tracing.

Call :func:`configure_telemetry` once at a service's start. Bind a correlation id for a unit
of work with ``structlog.contextvars.bound_contextvars(correlation_id=...)``; every log line
inside carries it.
"""

from __future__ import annotations

import logging
import sys
import uuid

import structlog
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

CORRELATION_HEADER = "X-Correlation-ID"


def new_correlation_id() -> str:
    return uuid.uuid4().hex


def configure_telemetry(service: str, level: str = "INFO") -> None:
    """JSON logs to stderr (stdlib logging routed through the same renderer) and a tracer
    provider named after the service. Idempotent."""
    numeric_level = logging.getLevelName(level.upper())
    if not isinstance(numeric_level, int):
        numeric_level = logging.INFO
    shared_processors: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_service(service),
    ]
    structlog.configure(
        processors=[
            *shared_processors,
            structlog.processors.format_exc_info,
            bound_log_values,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                bound_log_values,
                structlog.processors.JSONRenderer(),
            ],
            foreign_pre_chain=shared_processors,
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(numeric_level, logging.INFO))
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(
            TracerProvider(resource=Resource.create({"service.name": f"relay-{service}"}))
        )


MAX_LOG_VALUE_CHARS = 4096


def bound_log_values(
    _logger: object, _name: str, event_dict: structlog.types.EventDict
) -> structlog.types.EventDict:
    """Every value of a log line at most :data:`MAX_LOG_VALUE_CHARS` characters (its head and
    tail kept, the cut counted): a hostile input or a 1,000-frame traceback makes one short
    line, never a 200 KB one."""
    for name, value in event_dict.items():
        if isinstance(value, bool | int | float) or value is None:
            continue
        text = value if isinstance(value, str) else repr(value)
        if len(text) > MAX_LOG_VALUE_CHARS:
            half = MAX_LOG_VALUE_CHARS // 2
            cut = len(text) - 2 * half
            event_dict[name] = f"{text[:half]} …[{cut} characters cut]… {text[-half:]}"
    return event_dict


def _add_service(service: str) -> structlog.types.Processor:
    def add(
        _logger: object, _name: str, event_dict: structlog.types.EventDict
    ) -> structlog.types.EventDict:
        event_dict.setdefault("service", service)
        return event_dict

    return add
