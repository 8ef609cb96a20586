"""Structured JSON logs (structlog) with correlation ids and trace ids.

Call :func:`configure_telemetry` once at a service's start. Bind a correlation id for a unit
of work with ``structlog.contextvars.bound_contextvars(correlation_id=...)``; every log line
inside carries it. A line written inside a span carries its ``trace_id`` and ``span_id``
(tracing itself: :mod:`relay_shared.tracing`). Library loggers (FastStream's, aiohttp's,
asyncpg's) go through the same JSON renderer, with their ``extra`` fields, at
``APP_LOG_LEVEL``: FastStream is handed :func:`library_logger` instead of its coloured one.
"""

from __future__ import annotations

import logging
import sys
import uuid

import structlog

from relay_shared.tracing import trace_ids

CORRELATION_HEADER = "X-Correlation-ID"


def new_correlation_id() -> str:
    return uuid.uuid4().hex


def log_level_number(level: str) -> int:
    """``DEBUG``/``INFO``/... as a number (INFO for an unknown name)."""
    numeric_level = logging.getLevelName(level.upper())
    return numeric_level if isinstance(numeric_level, int) else logging.INFO


def library_logger(name: str = "relay.faststream") -> logging.Logger:
    """A stdlib logger without handlers of its own: its records reach the root's JSON handler
    (given to FastStream so it does not install its coloured text one)."""
    return logging.getLogger(name)


def configure_telemetry(service: str, level: str = "INFO") -> None:
    """JSON logs to stderr, stdlib logging (every library) routed through the same renderer
    at ``level``. Idempotent."""
    numeric_level = log_level_number(level)
    shared_processors: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_service(service),
        add_trace_ids,
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
            foreign_pre_chain=[*shared_processors, structlog.stdlib.ExtraAdder()],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric_level)
    for name in ("faststream", "aiohttp", "asyncpg", "nats"):
        # Whatever a library set up for itself (FastStream's coloured handler) gives way.
        library = logging.getLogger(name)
        library.handlers[:] = []
        library.propagate = True
        library.setLevel(logging.NOTSET)


def add_trace_ids(
    _logger: object, _name: str, event_dict: structlog.types.EventDict
) -> structlog.types.EventDict:
    """``trace_id`` and ``span_id`` of the current span, on a line written inside one."""
    ids = trace_ids()
    if ids is not None:
        event_dict.setdefault("trace_id", ids[0])
        event_dict.setdefault("span_id", ids[1])
    return event_dict


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
