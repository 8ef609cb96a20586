"""Reading events back from JetStream with a deadline (the demo, tests and benchmarks wait on
events this way, never by sleeping)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import nats
from nats.aio.client import Client
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from relay_shared.dependencies import reaching

Predicate = Callable[[dict[str, Any]], bool]


@asynccontextmanager
async def nats_client(url: str) -> AsyncIterator[Client]:
    async with reaching("NATS", url):
        client = await nats.connect(url)
    try:
        yield client
    finally:
        await client.drain()


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
            deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.NONE, inactive_threshold=60.0
        ),
    )
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            wait = min(1.0, max(deadline - time.monotonic(), 0.1))
            try:
                batch = await sub.fetch(64, timeout=wait)
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
        f"no matching {subject} within {timeout}s; saw {len(seen)} messages; "
        f"stream holds {info.state.subjects}"
    )
