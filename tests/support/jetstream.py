"""Waiting on events in JetStream, the way a test should: by reading the stream, with a
deadline, never by sleeping."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import nats
from nats.aio.client import Client
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

Predicate = Callable[[dict[str, Any]], bool]


@asynccontextmanager
async def nats_client(url: str) -> AsyncIterator[Client]:
    client = await nats.connect(url)
    try:
        yield client
    finally:
        await client.drain()


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


async def collect(
    client: Client,
    stream: str,
    subject: str,
    *,
    until: Predicate,
    timeout: float = 60.0,
) -> list[dict[str, Any]]:
    """Every message on ``subject`` (from the start of ``stream``) until one matches
    ``until``; returns them all (decoded JSON), the matching one last."""
    js = client.jetstream()
    sub = await js.pull_subscribe(
        subject,
        stream=stream,
        config=ConsumerConfig(
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.NONE,
            inactive_threshold=60.0,
        ),
    )
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            try:
                batch = await sub.fetch(16, timeout=min(1.0, max(deadline - time.monotonic(), 0.1)))
            except TimeoutError:
                continue
            for msg in batch:
                payload = json.loads(msg.data)
                seen.append(payload)
                if until(payload):
                    return seen
    finally:
        await sub.unsubscribe()
    info = await js.stream_info(stream, subjects_filter=">")
    raise TimeoutError(
        f"no matching {subject} within {timeout}s; saw {seen}; stream holds {info.state.subjects}"
    )


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
