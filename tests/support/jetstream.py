"""Waiting on events in JetStream, the way a test should: by reading the stream, with a
deadline, never by sleeping."""

from __future__ import annotations

import contextlib
from collections.abc import Collection
from typing import Any

from nats.aio.client import Client
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.errors import NotFoundError

from relay_cli.bus_watch import Predicate, collect, nats_client
from relay_shared import subjects
from relay_shared.events import Event
from tests.support.polling import eventually_async

__all__ = [
    "NOT_YET",
    "collect",
    "count_messages",
    "delete_streams",
    "nats_client",
    "next_event",
    "publish",
    "run_outcome",
    "stream_events",
    "wait_consumed",
    "wait_for_durables",
    "wait_for_stream",
]


#: What a probe of the JetStream API meets before the deadline and asks again: the stream or
#: consumer not declared yet, or a request the server left unanswered (nats-py gives up after
#: 5 s). The full suite failed twice on such a request under its load, each time in a fixture
#: well before its deadline (``wait_for_stream``, ``consumers_info``).
NOT_YET = (NotFoundError, NatsTimeoutError)


async def wait_for_stream(client: Client, stream: str, timeout: float = 30.0) -> None:
    """Until a service has declared ``stream`` (asked again on :data:`NOT_YET`)."""
    js = client.jetstream()

    async def declared() -> bool | None:
        try:
            await js.stream_info(stream)
        except NOT_YET:
            return None
        return True

    await eventually_async(declared, timeout=timeout, what=f"stream {stream}")


async def wait_for_durables(
    client: Client, stream: str, wanted: Collection[str], timeout: float = 60.0
) -> None:
    """Until every durable consumer named in ``wanted`` is declared on ``stream`` (asked
    again on :data:`NOT_YET`)."""
    js = client.jetstream()

    async def declared() -> bool | None:
        try:
            names = {info.name for info in await js.consumers_info(stream)}
        except NOT_YET:
            return None
        return True if set(wanted) <= names else None

    await eventually_async(declared, timeout=timeout, what=f"{sorted(wanted)} on {stream}")


async def next_event(
    client: Client, stream: str, subject: str, *, where: Predicate, timeout: float = 60.0
) -> dict[str, Any]:
    return (await collect(client, stream, subject, until=where, timeout=timeout))[-1]


async def count_messages(client: Client, stream: str, subject: str) -> int:
    """How many messages on ``subject`` the stream holds now."""
    js = client.jetstream()
    info = await js.stream_info(stream, subjects_filter=subject)
    return int((info.state.subjects or {}).get(subject, 0))


async def stream_events(client: Client, stream: str, subject: str) -> list[dict[str, Any]]:
    """Every message of ``subject`` the stream holds now (read to its end, with a deadline):
    what "exactly once" is asserted on."""
    total = await count_messages(client, stream, subject)
    if total == 0:
        return []
    seen: list[dict[str, Any]] = []

    def all_read(event: dict[str, Any]) -> bool:
        seen.append(event)
        return len(seen) >= total

    await collect(client, stream, subject, until=all_read, timeout=30.0)
    return seen


async def run_outcome(
    client: Client, stream: str, run_id: str, *, timeout: float = 60.0
) -> dict[str, Any]:
    """The run's terminal event: ``offers.merged`` or ``run.failed``, whichever comes."""

    def terminal(event: dict[str, Any]) -> bool:
        return event.get("run_id") == run_id and str(event.get("event_id", "")).startswith(
            ("offers.merged:", "run.failed:")
        )

    return (await collect(client, stream, ">", until=terminal, timeout=timeout))[-1]


async def publish(client: Client, stream: str, event: Event) -> int:
    """Publish like the services do (Nats-Msg-Id = event_id); the stream sequence."""
    ack = await client.jetstream().publish(
        event.subject,
        event.model_dump_json().encode(),
        stream=stream,
        headers={"Nats-Msg-Id": event.event_id},
    )
    return int(ack.seq)


async def wait_consumed(
    client: Client, stream: str, durable: str, seq: int, wait_s: float = 30.0
) -> None:
    """Until ``durable`` has acknowledged (or terminated) every message up to ``seq`` (asked
    again on :data:`NOT_YET`)."""
    js = client.jetstream()

    async def consumed() -> bool | None:
        try:
            info = await js.consumer_info(stream, durable)
        except NOT_YET:
            return None
        floor = info.ack_floor.stream_seq or 0 if info.ack_floor is not None else 0
        return True if floor >= seq else None

    await eventually_async(consumed, timeout=wait_s, what=f"{durable} to consume up to {seq}")


async def delete_streams(client: Client, stream: str) -> None:
    js = client.jetstream()
    for name in (stream, subjects.dead_letter_stream(stream)):
        with contextlib.suppress(NotFoundError):
            await js.delete_stream(name)
