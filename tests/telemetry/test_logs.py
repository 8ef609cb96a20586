"""The log lines themselves: JSON from every logger, at ``APP_LOG_LEVEL``, with the trace
and span ids of the span they were written in."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator

import pytest
import structlog
from opentelemetry.sdk.trace import TracerProvider

from relay_cli.stack import StackEndpoints
from relay_shared.runtime import new_broker
from relay_shared.settings import CommonSettings
from relay_shared.telemetry import configure_telemetry


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


def lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_debug_reaches_library_loggers_as_json(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_telemetry("ingest", "DEBUG")
    logging.getLogger("asyncpg.pool").debug("pool %s ready", "p1", extra={"size": 3})
    logging.getLogger("aiohttp.access").info("GET /x 200")
    structlog.get_logger("relay").debug("handler.detail", rows=2)
    written = lines(capsys.readouterr().err)
    assert [(r["event"], r["level"], r["service"]) for r in written] == [
        ("pool p1 ready", "debug", "ingest"),
        ("GET /x 200", "info", "ingest"),
        ("handler.detail", "debug", "ingest"),
    ]
    assert written[0]["size"] == 3


def test_info_level_drops_library_debug(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_telemetry("ingest", "INFO")
    logging.getLogger("asyncpg.pool").debug("not shown")
    logging.getLogger("faststream").warning("shown")
    assert [r["event"] for r in lines(capsys.readouterr().err)] == ["shown"]


def test_lines_inside_a_span_carry_its_trace_and_span_ids(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_telemetry("pricing", "INFO")
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("work") as span:
        structlog.get_logger("relay").info("inside")
        logging.getLogger("faststream").info("library inside")
        ids = span.get_span_context()
    structlog.get_logger("relay").info("outside")
    inside, library, outside = lines(capsys.readouterr().err)
    expected = (format(ids.trace_id, "032x"), format(ids.span_id, "016x"))
    assert (inside["trace_id"], inside["span_id"]) == expected
    assert (library["trace_id"], library["span_id"]) == expected
    assert "trace_id" not in outside


@pytest.mark.stack
async def test_faststream_writes_json_lines_not_coloured_text(
    restore_logging: None,
    capsys: pytest.CaptureFixture[str],
    stack: StackEndpoints,
    unique_id: str,
) -> None:
    configure_telemetry("normalize", "DEBUG")  # a message's own lines are DEBUG
    broker = new_broker(CommonSettings(nats_url=stack.nats_url))
    subject = f"relay.test.logs.{unique_id}"
    got: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    @broker.subscriber(subject)
    async def handle(body: str) -> None:
        got.set_result(body)

    await broker.start()
    try:
        await broker.publish("hello", subject=subject)
        assert await asyncio.wait_for(got, 10) == "hello"
    finally:
        await broker.stop()
    written = capsys.readouterr().err
    records = lines(written)  # every line JSON
    ours = [r for r in records if r.get("subject") == subject]
    assert [r["event"] for r in ours] == [
        "`Handle` waiting for messages",
        "Received",
        "Processed",
    ]
    assert all(r["service"] == "normalize" for r in ours)
    assert "\x1b[" not in written  # no ANSI colour codes
