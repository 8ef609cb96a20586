"""The webhook rate limit (100 events/s per tenant): a sliding window, shared by gateway
replicas through NATS KV. No span of one second ever holds more than 100 admitted events of a
tenant, also across a wall-clock second boundary (the fixed window it replaces let 200 through
there), and two gateway processes on one NATS together admit their limit, not the limit
each."""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import nats
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relay_cli.gateway_client import GatewayClient
from relay_cli.stack import ServiceProcesses, StackEndpoints, free_port, wait_for_http_ok
from relay_gateway.adapters.rate_limiter import RateLimiter
from relay_gateway.domain.rate_window import Admission, admit, decode, encode, micros, tenant_key
from tests.gateway.harness import ADMIN_KEY, SECRET_KEY, WEBHOOK_SECRETS, stream_events

LIMIT = 100
#: the two gateway processes' limit: a burst of twice it over 200 ms is answered well within
#: the one second the exact count needs, even on a loaded machine (twice 100 was not always)
REPLICA_LIMIT = 20
STRADDLE_S = 0.2
WINDOW_US = 1_000_000
ATTEMPTS = 5
MS = 1_000


def most_in_any_window(times: Sequence[int], window: int) -> int:
    """The largest number of ``times`` inside one span ``[a, a + window)``."""
    ordered = sorted(times)
    most, first = 0, 0
    for last, at in enumerate(ordered):
        while at - ordered[first] >= window:
            first += 1
        most = max(most, last - first + 1)
    return most


def boundary_after(seconds: float) -> int:
    """The first whole second (µs) at least ``seconds`` from now: where a fixed window of
    one second would restart its count."""
    return (int(time.time() + seconds) + 1) * 1_000_000


# --- the rule (pure) ---------------------------------------------------------------------


def test_a_burst_straddling_a_second_boundary_is_capped_at_the_limit() -> None:
    boundary = boundary_after(0)
    before = [boundary - 200 * MS + i * MS for i in range(LIMIT)]
    after = [boundary + 10 * MS + i * MS for i in range(LIMIT)]

    log, answers = admit([], [*before, *after], LIMIT, WINDOW_US)

    assert [a.allowed for a in answers] == [True] * LIMIT + [False] * LIMIT
    assert answers[LIMIT].retry_after_s == pytest.approx(0.79)
    assert answers[LIMIT].retry_after_header == 1
    assert log == before


def test_the_window_slides_one_event_at_a_time() -> None:
    start = boundary_after(0) - 200 * MS
    log, _ = admit([], [start + i * MS for i in range(LIMIT)], LIMIT, WINDOW_US)

    # at start + 1 s the first admission has left the window (spans are half-open)
    _, at_one_second = admit(log, [start + WINDOW_US, start + WINDOW_US], LIMIT, WINDOW_US)
    _, just_before = admit(log, [start + WINDOW_US - 1], LIMIT, WINDOW_US)

    assert [a.allowed for a in at_one_second] == [True, False]
    assert at_one_second[1] == Admission(False, pytest.approx(0.001))
    assert [a.allowed for a in just_before] == [False]


def test_an_event_admitted_later_by_a_replica_whose_clock_is_behind_still_counts() -> None:
    start = boundary_after(0)
    log, _ = admit([], [start + i * MS for i in range(LIMIT)], LIMIT, WINDOW_US)

    _, answers = admit(log, [start - 500 * MS], LIMIT, WINDOW_US)

    assert [a.allowed for a in answers] == [False]


def test_the_stored_log_keeps_the_limit_latest_admissions() -> None:
    start = boundary_after(0)
    old = [start - 5 * WINDOW_US + i for i in range(LIMIT)]
    log, answers = admit(old, [start + i * MS for i in range(2 * LIMIT)], LIMIT, WINDOW_US)

    assert log == [start + i * MS for i in range(LIMIT)]
    assert sum(a.allowed for a in answers) == LIMIT
    assert decode(encode(log)) == log
    assert decode(b"\x01\x02\x03") == []


def test_timestamps_are_microseconds() -> None:
    at = datetime(2026, 11, 22, 10, 0, 0, 123456, tzinfo=UTC)
    assert micros(at + timedelta(microseconds=1)) - micros(at) == 1


def test_kv_keys_are_tenant_ids_or_digests() -> None:
    assert tenant_key("acme_parts-2") == "acme_parts-2"
    assert tenant_key("a/../b").startswith("=")
    assert tenant_key("\x00") != tenant_key("\x01")


@settings(max_examples=300, deadline=None)
@given(
    times=st.lists(st.integers(min_value=0, max_value=5_000), min_size=1, max_size=80),
    limit=st.integers(min_value=1, max_value=6),
)
def test_no_window_ever_holds_more_than_the_limit_whatever_the_commit_order(
    times: list[int], limit: int
) -> None:
    """Replicas commit in any order and their clocks differ: decided in the given (random)
    order, the admitted times still never exceed ``limit`` in any span of the window."""
    window = 1_000
    log: list[int] = []
    admitted: list[int] = []
    for at in times:
        log, (answer,) = admit(log, [at], limit, window)
        if answer.allowed:
            admitted.append(at)

    assert most_in_any_window(admitted, window) <= limit
    assert len(log) <= limit


# --- the limiter on NATS KV --------------------------------------------------------------


@pytest.fixture
async def limiters(isolated_bus: StackEndpoints) -> AsyncIterator[list[RateLimiter]]:
    """Two limiters on two connections: two gateway replicas sharing one bucket."""
    clients = [await nats.connect(isolated_bus.nats_url) for _ in range(2)]
    try:
        yield [await RateLimiter.open(client.jetstream(), LIMIT) for client in clients]
    finally:
        for client in clients:
            await client.close()


def _at(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, UTC)


@pytest.mark.stack
async def test_two_limiters_share_one_sliding_window(limiters: list[RateLimiter]) -> None:
    """200 events straddling a second boundary (100 ms each side), sent at once over two
    replicas in random order: exactly 100 admitted, since every pair lies within a second
    (a fixed window would have admitted the 100 after the boundary too)."""
    tenant_id = f"rate-{uuid.uuid4().hex[:10]}"
    boundary = boundary_after(0)
    times = [boundary - 100 * MS + i * MS for i in range(2 * LIMIT)]
    order = random.Random(tenant_id).sample(range(len(times)), len(times))

    answers = await asyncio.gather(
        *(limiters[i % 2].check(tenant_id, _at(times[i])) for i in order)
    )
    decided = list(zip((times[i] for i in order), answers, strict=True))
    admitted = [at for at, answer in decided if answer.allowed]
    # a refusal saw all 100 admissions: the earliest must leave the window first
    frees_at = min(admitted) + WINDOW_US
    retry = {at: answer.retry_after_s for at, answer in decided if not answer.allowed}

    assert len(admitted) == LIMIT
    assert most_in_any_window(admitted, WINDOW_US) == LIMIT
    assert retry == {at: pytest.approx((frees_at - at) / 1e6) for at in retry}


@pytest.mark.stack
async def test_the_shared_window_slides(limiters: list[RateLimiter]) -> None:
    tenant_id = f"rate-{uuid.uuid4().hex[:10]}"
    start = boundary_after(0) - 200 * MS
    first = [await limiters[i % 2].allow(tenant_id, _at(start + i * MS)) for i in range(LIMIT)]
    over = await limiters[0].allow(tenant_id, _at(start + 300 * MS))
    slid = [await limiters[1].allow(tenant_id, _at(start + WINDOW_US)) for _ in range(2)]
    other = await limiters[0].allow(f"o-{tenant_id}", _at(start + 300 * MS))

    assert first == [True] * LIMIT
    assert (over, slid, other) == (False, [True, False], True)


# --- two gateway processes ---------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    replica: int
    status: int
    retry_after: str | None
    done_at: float


@pytest.fixture(scope="module")
def two_gateways(
    isolated_bus: StackEndpoints, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[str]]:
    """Two gateway processes (``relay serve gateway``) on the same NATS, Postgres and S3."""
    env = {
        **os.environ,
        "APP_BOOTSTRAP_ADMIN_KEY": ADMIN_KEY,
        "APP_SECRET_KEY": SECRET_KEY,
        "APP_WEBHOOK_SECRETS": WEBHOOK_SECRETS[0],
        "APP_WEBHOOK_RATE_PER_S": str(REPLICA_LIMIT),
    }
    urls: list[str] = []
    replicas: list[ServiceProcesses] = []
    try:
        for index in range(2):
            state_dir: Path = tmp_path_factory.mktemp(f"replica{index}")
            port = free_port()
            replica = ServiceProcesses.for_stack(
                isolated_bus, state_dir, http_port=port, parent_env=env
            )
            replicas.append(replica)
            replica.start("gateway")
            urls.append(f"http://127.0.0.1:{port}")
        for url in urls:
            wait_for_http_ok(f"{url}/v1/ready", timeout=60.0)
        yield urls
        assert [replica.unexpected_exits() for replica in replicas] == [{}, {}]
    finally:
        for replica in replicas:
            replica.stop_all()


def _order(tenant_id: str, event_id: str) -> bytes:
    body = {
        "event_id": event_id,
        "event_type": "order.shipped",
        "timestamp": datetime.now(UTC).isoformat(),
        "tenant_id": tenant_id,
        "order": {
            "order_id": event_id,
            "channel": "amazon",
            "status": "shipped",
            "shipped_at": "2026-11-22T09:55:00Z",
            "items": [{"sku": "SKU-1", "quantity": 1}],
        },
    }
    return json.dumps(body).encode()


async def _send(client: GatewayClient, replica: int, tenant_id: str, event_id: str) -> Answer:
    answer = await client.post_shipstation(
        _order(tenant_id, event_id), WEBHOOK_SECRETS[0], expect=(202, 429)
    )
    return Answer(replica, answer.status, answer.headers.get("Retry-After"), time.time())


async def _straddle(
    clients: list[GatewayClient], tenant_id: str, count: int
) -> tuple[list[Answer], float] | None:
    """``count`` events over both replicas, evenly from 100 ms before a wall-clock second
    boundary (computed, not guessed) to 100 ms after it. With the send time of the first:
    None when the gateway took a second or more to answer them all (then not every pair of
    events lies within one window, and the count is not exact)."""
    starts_at = boundary_after(0.2) / 1_000_000 - STRADDLE_S / 2
    await asyncio.sleep(starts_at - time.time())  # align to the computed instant
    sent_at = time.time()
    tasks = []
    for index in range(count):
        due = starts_at + index * STRADDLE_S / count
        await asyncio.sleep(max(0.0, due - time.time()))
        replica = index % 2
        send = _send(clients[replica], replica, tenant_id, f"evt-{index}")
        tasks.append(asyncio.ensure_future(send))
    answers = list(await asyncio.gather(*tasks))
    if max(a.done_at for a in answers) - sent_at >= 1.0:
        return None
    return answers, sent_at


@pytest.mark.stack
async def test_two_replicas_share_a_sliding_window(
    two_gateways: list[str], isolated_bus: StackEndpoints
) -> None:
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        admin = GatewayClient(session, two_gateways[0], ADMIN_KEY)
        clients = [GatewayClient(session, url, "") for url in two_gateways]
        result = None
        for _ in range(ATTEMPTS):
            tenant_id = f"rate-{uuid.uuid4().hex[:10]}"
            await admin.create_tenant(tenant_id, "Rate", ["amazon"])
            result = await _straddle(clients, tenant_id, 2 * REPLICA_LIMIT)
            if result is not None:
                break
        assert result is not None, "no attempt was answered within one second"
        answers, _ = result
        accepted = [a for a in answers if a.status == 202]
        refused = [a for a in answers if a.status == 429]
        # the window slides: once the last admission is a window old, events pass again
        await asyncio.sleep(max(a.done_at for a in accepted) + 1.0 - time.time())
        later = await _send(clients[1], 1, tenant_id, "evt-later")

    shipped = [
        event
        for event in await stream_events(isolated_bus.nats_url, "order.shipped")
        if event["tenant_id"] == tenant_id
    ]
    assert (len(accepted), len(refused)) == (REPLICA_LIMIT, REPLICA_LIMIT)
    assert {a.replica for a in accepted} == {0, 1}
    assert {a.retry_after for a in refused} == {"1"}
    assert later.status == 202
    assert len({event["event_id"] for event in shipped}) == REPLICA_LIMIT + 1
