"""The webhook's fast paths answer exactly what the rules they replace answer.

- the control-character check (one regular expression) refuses exactly the code points of the
  rule (C0, DEL, C1, surrogates), over every code point;
- the rate log's encoding (one ``struct`` call) is the 8-byte little-endian layout, byte for
  byte;
- group commit: concurrent requests share a statement and each gets its own answer; a failed
  batch fails only its requests;
- the batched tenant and receipt lookup is ``tenants.get`` and the single-row receipt query,
  and the batched receipt insert is True for exactly one request per event;
- the rate limiter decides on the log it wrote last without reading it first: a second replica
  writing in between, or the key vanishing, still gives the rule's answers;
- a webhook body that has all arrived is taken at once: the same bytes and the same 413 as
  reading it chunk by chunk.
"""

from __future__ import annotations

import asyncio
import json
import struct
import uuid
from collections.abc import AsyncIterator, Awaitable, Sequence
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import asyncpg
import nats
import pytest
from aiohttp import web
from aiohttp.streams import StreamReader
from aiohttp.test_utils import make_mocked_request
from hypothesis import given
from hypothesis import strategies as st
from nats.js.kv import KeyValue

from relay_cli.stack import StackEndpoints
from relay_gateway.adapters.held_connection import HeldConnection, _lost
from relay_gateway.adapters.rate_limiter import RateLimiter
from relay_gateway.adapters.receipts import _LOOKUP, first_receipts
from relay_gateway.domain.parameters import has_control_character
from relay_gateway.domain.rate_window import admit, decode, encode, tenant_key
from relay_gateway.domain.signatures import sign
from relay_gateway.domain.webhook_payloads import _no_control_characters
from relay_gateway.http.errors import PayloadTooLargeError
from relay_gateway.http.webhooks import _body
from relay_shared.group_commit import BatchSizeError, GroupCommit, each_alone_on_failure
from tests.gateway.harness import WEBHOOK_SECRETS, Gateway, create_tenant, stream_events
from tests.support.plans import generic_plan
from tests.support.polling import eventually

LIMIT = 5
URL = "/v1/webhooks/shipstation"
SECRET = WEBHOOK_SECRETS[0]
WINDOW_US = 1_000_000
MS = 1_000


# --- pure rules --------------------------------------------------------------------------


def _refused_by_rule(code: int) -> bool:
    return code < 0x20 or 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xDFFF


def _refused(text: str) -> bool:
    try:
        _no_control_characters(text)
    except ValueError:
        return True
    return False


def test_the_path_and_query_check_finds_exactly_c0_controls_and_del() -> None:
    disagree = [
        c
        for c in range(0x110000)
        if has_control_character(f"/v1/{chr(c)}x") != (c < 0x20 or c == 0x7F)
    ]

    assert disagree == []
    assert has_control_character("") is False


def test_the_control_character_check_refuses_exactly_the_rules_code_points() -> None:
    disagree = [c for c in range(0x110000) if _refused(f"a{chr(c)}b") != _refused_by_rule(c)]

    assert disagree == []
    assert _refused("") is False


@given(st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), max_size=120))
def test_the_rate_log_encoding_is_the_eight_byte_layout(times: list[int]) -> None:
    one_by_one = b"".join(struct.pack("<q", at) for at in times)

    assert encode(times) == one_by_one
    assert decode(one_by_one) == times


def test_a_batch_records_each_event_once_for_its_first_request() -> None:
    receipts = [("t1", "e1", "k"), ("t1", "e1", "k"), ("t2", "e1", "k"), ("t1", "e2", "k")]

    answers = first_receipts(receipts, {("t1", "e1"), ("t2", "e1")})

    assert answers == [True, False, True, False]


# --- group commit ------------------------------------------------------------------------


class Recorder:
    """A commit that records its batches and waits on a gate, so a test decides when the
    statement in flight ends."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.gate = asyncio.Event()
        self.fail_on: int | None = None

    async def commit(self, items: list[int]) -> list[int]:
        self.batches.append(items)
        await self.gate.wait()
        if self.fail_on in items:
            raise LookupError(f"batch {items}")
        return [item * 10 for item in items]


async def _started(calls: Sequence[Awaitable[int]]) -> list[asyncio.Task[int]]:
    tasks = [asyncio.ensure_future(call) for call in calls]
    await asyncio.sleep(0)  # let each submit, without letting any commit end (gate closed)
    return tasks


async def test_requests_arriving_during_a_commit_share_the_next_one() -> None:
    recorder = Recorder()
    group = GroupCommit[int, int](recorder.commit)
    first = await _started([group.submit(1)])
    others = await _started([group.submit(n) for n in (2, 3, 4)])

    recorder.gate.set()
    answers = await asyncio.gather(*first, *others)

    assert answers == [10, 20, 30, 40]
    assert recorder.batches == [[1], [2, 3, 4]]


async def test_a_failed_batch_fails_only_its_own_requests() -> None:
    recorder = Recorder()
    recorder.fail_on = 2
    group = GroupCommit[int, int](recorder.commit)
    first = await _started([group.submit(1)])
    failing = await _started([group.submit(2), group.submit(3)])

    recorder.gate.set()
    results = await asyncio.gather(*first, *failing, return_exceptions=True)
    after = await group.submit(4)

    assert results[0] == 10
    assert [type(r) for r in results[1:]] == [LookupError, LookupError]
    assert after == 40
    assert recorder.batches == [[1], [2, 3], [4]]


async def test_a_commit_answering_the_wrong_number_of_results_is_an_error() -> None:
    async def short(items: list[int]) -> list[int]:
        return items[:-1]

    group = GroupCommit[int, int](short)

    with pytest.raises(BatchSizeError):
        await group.submit(1)


async def test_a_failed_batch_is_run_again_item_by_item_so_only_its_bad_item_fails() -> None:
    runs: list[list[int]] = []

    async def run(items: list[int]) -> None:
        runs.append(items)
        if 3 in items:
            raise LookupError(f"item 3 of {items}")

    outcomes = await each_alone_on_failure([1, 2, 3, 4], run)
    together = await each_alone_on_failure([5, 6], run)

    assert [None if o is None else str(o) for o in outcomes] == [None, None, "item 3 of [3]", None]
    assert together == [None, None]
    assert runs == [[1, 2, 3, 4], [1], [2], [3], [4], [5, 6]]


# --- the batched statements on Postgres --------------------------------------------------


@pytest.mark.stack
async def test_batched_lookups_answer_what_single_rows_answer(
    gateway: Gateway, unique_id: str
) -> None:
    tenant_id = f"t-{unique_id}"
    await create_tenant(gateway, tenant_id, channels=("amazon",))
    receipts, tenants = gateway.app.context.receipts, gateway.app.context.tenants
    pool = gateway.app.context.tenants._pool
    assert await receipts.record(tenant_id, "e-recorded", "order.shipped") is True
    asked = [(tenant_id, "e-recorded"), (f"no-{unique_id}", "e-recorded"), (tenant_id, "e-new")]
    asked = asked * 3

    lookups = await asyncio.gather(*(receipts.lookup(t, e) for t, e in asked))

    expected = []
    for t, e in asked:
        row = await pool.fetchval(
            "SELECT 1 FROM webhook_receipts WHERE tenant_id = $1 AND event_id = $2", t, e
        )
        expected.append((await tenants.get(t), row is not None))
    assert [(lookup.tenant, lookup.seen) for lookup in lookups] == expected
    assert [seen for _, seen in expected[:3]] == [True, False, False]


@pytest.mark.stack
async def test_the_batched_lookup_probes_tenants_and_receipts_by_their_keys(
    gateway: Gateway, unique_id: str
) -> None:
    """Planned as the held connection runs it (a generic plan of the prepared statement),
    whatever the tables' statistics say: each request is one probe of each table's primary
    key. As joins, the planner hashed every tenant and every receipt for each batch."""
    pool = gateway.app.context.tenants._pool
    plan = await generic_plan(
        pool, f"lookup_{unique_id}", _LOOKUP, "text[], text[]", f"'{{t-{unique_id}}}', '{{e-1}}'"
    )
    scans = [  # an index-only scan or not, as the visibility map of the moment allows
        f"{line.split('  (')[0].replace('Index Only Scan', 'Index Scan')} {plan[n + 1]}"
        for n, line in enumerate(plan)
        if " on webhook_receipts" in line or " on tenants" in line
    ]
    assert scans == [
        "->  Index Scan using tenants_pkey on tenants Index Cond: (tenant_id = q.tenant_id)",
        "->  Index Scan using webhook_receipts_pkey on webhook_receipts"
        " Index Cond: ((tenant_id = q.tenant_id) AND (event_id = q.event_id))",
    ]


@pytest.mark.stack
async def test_concurrent_receipts_of_one_event_record_it_once(
    gateway: Gateway, unique_id: str
) -> None:
    tenant_id = f"t-{unique_id}"
    receipts = gateway.app.context.receipts
    pool = gateway.app.context.tenants._pool
    events = [f"e{n % 4}" for n in range(12)]

    firsts = await asyncio.gather(*(receipts.record(tenant_id, e, "order.shipped") for e in events))
    again = await receipts.record(tenant_id, "e0", "order.shipped")

    stored = await pool.fetch(
        "SELECT event_id, kind FROM webhook_receipts WHERE tenant_id = $1 ORDER BY event_id",
        tenant_id,
    )
    assert firsts == [True] * 4 + [False] * 8
    assert again is False
    assert [tuple(row) for row in stored] == [(f"e{n}", "order.shipped") for n in range(4)]


@pytest.mark.stack
async def test_a_held_connection_is_kept_given_back_on_failure_and_on_close(
    gateway: Gateway,
) -> None:
    """Statements share one connection (one backend) without the pool's reset between them;
    a failed statement gives it back and the next one takes another; closing gives it back,
    and a connection lost meanwhile is replaced before the next statement."""
    pool = gateway.app.context.tenants._pool
    held = HeldConnection(pool)
    backend = "SELECT pg_backend_pid() AS pid"

    first = (await held.fetch(backend))[0]["pid"]
    await held.fetch("SELECT set_config('application_name', 'held-probe', false)")
    kept = await held.fetch("SELECT pg_backend_pid() AS pid, current_setting('application_name')")
    with pytest.raises(asyncpg.DivisionByZeroError):
        await held.fetch("SELECT 1 / 0")
    after_failure = await held.fetch("SELECT current_setting('application_name') AS name")
    await held.close()
    await held.close()
    lost = (await held.fetch(backend))[0]["pid"]
    await pool.execute("SELECT pg_terminate_backend($1)", lost)
    await wait_until_closed(held)
    replaced = (await held.fetch(backend))[0]["pid"]
    await held.close()

    assert tuple(kept[0]) == (first, "held-probe")
    assert after_failure[0]["name"] != "held-probe"  # another connection, or the pool's reset
    assert replaced != lost


async def wait_until_closed(held: HeldConnection) -> None:
    """Until the held connection has seen the server close it (polled, with a deadline)."""
    await eventually(
        lambda: True if _lost(held._connection) else None,
        timeout=5,
        what="the terminated connection seen closed",
        interval=0.01,
    )


def _order(tenant_id: str, event_id: str) -> bytes:
    body = {
        "event_id": event_id,
        "event_type": "order.shipped",
        "timestamp": datetime.now(UTC).isoformat(),
        "tenant_id": tenant_id,
        "order": {
            "order_id": "A-1",
            "channel": "amazon",
            "status": "shipped",
            "shipped_at": "2026-11-22T09:55:00Z",
            "items": [{"sku": "SKU-1", "quantity": 1}],
        },
    }
    return json.dumps(body).encode()


@pytest.mark.stack
async def test_one_event_posted_concurrently_is_accepted_once_and_published_once(
    gateway: Gateway, unique_id: str
) -> None:
    """Concurrent copies share the batched lookup (none seen yet) and all publish: JetStream
    keeps one, and the batched receipt insert answers 202 to exactly one request."""
    tenant_id = f"t-{unique_id}"
    await create_tenant(gateway, tenant_id, channels=("amazon",))
    body = _order(tenant_id, "evt-race")
    headers = {"Content-Type": "application/json", "X-ShipStation-Signature": sign(SECRET, body)}

    async def post() -> int:
        response = await gateway.client.post(URL, data=body, headers=headers)
        return response.status

    statuses = await asyncio.gather(*(post() for _ in range(6)))
    later = await post()

    shipped = [
        event
        for event in await stream_events(gateway.nats_url, "order.shipped")
        if event["tenant_id"] == tenant_id
    ]
    assert sorted(statuses) == [200] * 5 + [202]
    assert later == 200
    assert [event["event_id"] for event in shipped] == [
        f"order.shipped:webhook:{tenant_id}:evt-race"
    ]


# --- the rate limiter's compare-and-set on the log it wrote --------------------------------


class CountingKv:
    """The real KV bucket, counting the reads and writes a limiter makes."""

    def __init__(self, kv: KeyValue) -> None:
        self.kv = kv
        self.gets = 0
        self.updates = 0

    async def get(self, key: str) -> Any:
        self.gets += 1
        return await self.kv.get(key)

    async def update(self, key: str, value: bytes, last: int | None = None) -> int:
        self.updates += 1
        return await self.kv.update(key, value, last=last)


@pytest.fixture
async def replicas(isolated_bus: StackEndpoints) -> AsyncIterator[list[CountingKv]]:
    """Two replicas' views of one bucket, on two connections."""
    clients = [await nats.connect(isolated_bus.nats_url) for _ in range(2)]
    try:
        opened = [await RateLimiter.open(client.jetstream(), LIMIT) for client in clients]
        yield [CountingKv(limiter._kv) for limiter in opened]
    finally:
        for client in clients:
            await client.close()


def _limiter(kv: CountingKv) -> RateLimiter:
    return RateLimiter(kv, LIMIT)  # type: ignore[arg-type]


def _at(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, UTC)


def _start() -> int:
    return (int(datetime.now(UTC).timestamp()) + 1) * 1_000_000


@pytest.mark.stack
async def test_a_replica_alone_writes_without_reading(replicas: list[CountingKv]) -> None:
    kv = replicas[0]
    limiter, tenant_id, start = _limiter(kv), f"r-{uuid.uuid4().hex[:10]}", _start()

    answers = [await limiter.allow(tenant_id, _at(start + n * MS)) for n in range(LIMIT)]

    assert answers == [True] * LIMIT
    assert (kv.gets, kv.updates) == (1, LIMIT)


@pytest.mark.stack
async def test_replicas_taking_turns_decide_as_the_rule(replicas: list[CountingKv]) -> None:
    """Each replica's remembered log is stale at every turn: the compare-and-set fails, it
    reads and decides again, so the answers are the rule's over all events in order."""
    limiters = [_limiter(kv) for kv in replicas]
    tenant_id, start = f"r-{uuid.uuid4().hex[:10]}", _start()
    times = [start + n * 150 * MS for n in range(16)]

    answers = [await limiters[n % 2].allow(tenant_id, _at(at)) for n, at in enumerate(times)]

    expected: list[bool] = []
    log: list[int] = []
    for at in times:
        log, (decision,) = admit(log, [at], LIMIT, WINDOW_US)
        expected.append(decision.allowed)
    assert answers == expected
    assert expected.count(False) > 0


@pytest.mark.stack
async def test_a_refusal_is_decided_on_the_stored_log(replicas: list[CountingKv]) -> None:
    """The remembered log is full, but the stored one is gone (the key expired or was
    purged): the rule on the stored log admits, and so does the limiter."""
    kv = replicas[0]
    limiter, tenant_id, start = _limiter(kv), f"r-{uuid.uuid4().hex[:10]}", _start()
    for n in range(LIMIT):
        assert await limiter.allow(tenant_id, _at(start + n * MS))
    await kv.kv.purge(tenant_key(tenant_id))

    admitted = await limiter.allow(tenant_id, _at(start + 10 * MS))
    refused = [await limiter.allow(tenant_id, _at(start + 11 * MS)) for _ in range(LIMIT)]

    assert admitted is True
    assert refused == [True] * (LIMIT - 1) + [False]


# --- the body that has all arrived ---------------------------------------------------------


def _request(chunks: list[bytes], *, complete: bool) -> web.Request:
    """A chunked request (no Content-Length) whose body has arrived whole or not yet."""
    content = StreamReader(mock.Mock(_reading_paused=False), 2**16, loop=asyncio.get_running_loop())
    for chunk in chunks:
        content.feed_data(chunk)
    if complete:
        content.feed_eof()
    else:
        asyncio.get_running_loop().call_soon(content.feed_eof)
    return make_mocked_request("POST", "/", payload=content, app=web.Application())


async def _read(chunks: list[bytes], limit: int, *, complete: bool) -> bytes | str:
    try:
        return await _body(_request(chunks, complete=complete), limit)
    except PayloadTooLargeError as exc:
        return f"{exc.status} {exc}"


@pytest.mark.parametrize(
    "chunks",
    [[b""], [b'{"a": 1}'], [b"x" * 500, b"y" * 524], [b"x" * 1024, b"y"], [b"z" * 3000]],
)
async def test_a_body_taken_at_once_is_the_body_read_chunk_by_chunk(chunks: list[bytes]) -> None:
    whole = await _read(chunks, 1024, complete=True)
    streamed = await _read(chunks, 1024, complete=False)

    assert whole == streamed
    body = b"".join(chunks)
    assert whole == (body if len(body) <= 1024 else "413 the body exceeds 1024 bytes")
