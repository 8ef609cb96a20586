"""Waiting on events in JetStream, the way a test should: by reading the stream, with a
deadline, never by sleeping."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from nats.aio.client import Client
from nats.js.errors import NotFoundError

from relay_cli.bus_watch import Predicate, collect, nats_client

__all__ = [
    "collect",
    "count_messages",
    "nats_client",
    "next_event",
    "run_outcome",
    "wait_for_stream",
]


async def wait_for_stream(client: Client, stream: str, timeout: float = 30.0) -> None:
    """Until a service has declared ``stream``."""
    js = client.jetstream()
    deadline = time.monotonic() + timeout
    while True:
        try:
            await js.stream_info(stream)
            return
        except NotFoundError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)


async def next_event(
    client: Client, stream: str, subject: str, *, where: Predicate, timeout: float = 60.0
) -> dict[str, Any]:
    return (await collect(client, stream, subject, until=where, timeout=timeout))[-1]


async def count_messages(client: Client, stream: str, subject: str) -> int:
    """How many messages on ``subject`` the stream holds now."""
    js = client.jetstream()
    info = await js.stream_info(stream, subjects_filter=subject)
    return int((info.state.subjects or {}).get(subject, 0))


async def run_outcome(
    client: Client, stream: str, run_id: str, *, timeout: float = 60.0
) -> dict[str, Any]:
    """The run's terminal event: ``offers.merged`` or ``run.failed``, whichever comes."""

    def terminal(event: dict[str, Any]) -> bool:
        return event.get("run_id") == run_id and str(event.get("event_id", "")).startswith(
            ("offers.merged:", "run.failed:")
        )

    return (await collect(client, stream, ">", until=terminal, timeout=timeout))[-1]
