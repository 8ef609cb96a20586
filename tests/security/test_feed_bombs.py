"""Feed bombs against the whole system (every service its own process; issue 9 items 2 and 3):
each hostile feed fails its feed with a named finding, normalize's peak RSS while it handles
one stays under its memory cap (here ``APP_NORMALIZE_MAX_FEED_MEMORY_BYTES`` = 512 MiB), the
normalize process is never restarted nor does it redeliver, and afterwards a good feed of
another tenant still succeeds.

- through the gateway (a run per bomb): an XLSX zip bomb (1.2 GB of sheet XML in about
  8 MB), a JSON array too large to parse whole, JSON nested 100,000 deep, a CSV of 1,001
  columns, a 70 KB cell;
- on the bus (``feed.received`` published directly, as any system may, with the config
  version written straight to the bucket, as a config stored before the validator refused
  such values would be): a 1.8 KB bz2 bomb that decompresses to 2 GB under ``bz2_codec``, a
  feed under ``rot13``, a SKU map key and a feed key of another tenant (existing and not): the
  same words either way, and the foreign object is never read.

The memory figures are recorded as test properties (``--junitxml``), never printed.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from relay_cli.gateway_client import GatewayClient
from relay_cli.stack import StackEndpoints
from relay_normalize.domain.limits import MEMORY, MIB, json_document_limit, table_memory
from relay_normalize.settings import NormalizeSettings
from relay_shared import keys, subjects
from relay_shared.config_store import TenantConfigStore
from relay_shared.events import FeedReceived
from relay_shared.storage import ObjectStore
from relay_shared.tenant_config import ConfigError, parse_tenant_config
from tests.engine.feed_bombs import (
    bz2_bomb,
    deep_json,
    giant_cell_csv,
    json_array,
    wide_csv,
    xlsx_zip_bomb,
)
from tests.support.jetstream import nats_client, next_event, publish
from tests.support.live_system import LiveSystem, live_system_on

pytestmark = [pytest.mark.stack, pytest.mark.e2e]
STREAM = "RELAY"
CAP = 512 * MIB
LIMITS = NormalizeSettings.from_env({"APP_NORMALIZE_MAX_FEED_MEMORY_BYTES": str(CAP)})
COLUMNS = {"sku": "SKU", "quantity_available": "QTY", "cost": "COST", "title": "TITLE"}
AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def live_system(
    isolated_bus: StackEndpoints, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveSystem]:
    """The system with normalize's memory cap at 512 MiB (the other bounds at their
    defaults)."""
    env = {"APP_NORMALIZE_MAX_FEED_MEMORY_BYTES": str(CAP)}
    with live_system_on(isolated_bus, tmp_path_factory.mktemp("bombs"), env) as system:
        yield system


def _id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def _config(tenant_id: str, fmt: str = "csv", **extra: Any) -> dict[str, Any]:
    parser = {"format": fmt, "column_map": dict(COLUMNS), **extra.pop("parser", {})}
    return {
        "tenant_id": tenant_id,
        "vendors": [{"vendor_id": "v1", "parser": parser, **extra}],
        "pricing": {"base_margin_pct": 0.20},
    }


@dataclass(frozen=True)
class Outcome:
    """One feed's result: its vendor report's first error, and normalize's memory."""

    status: str
    code: str | None
    row: int | None
    column: str | None
    message: str
    resting_rss: int
    peak_rss: int

    @property
    def growth(self) -> int:
        return self.peak_rss - self.resting_rss


class NormalizeMemory:
    """Normalize's RSS from ``/proc/<pid>/status``: the resting size before a case and the
    high-water mark after it (the mark is reset before each case when the kernel lets us)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.reset_works = False

    def _status(self, field: str) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024
        raise AssertionError(f"no {field} for {self.pid}")

    def start(self) -> int:
        with suppress(OSError):
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")  # VmHWM := VmRSS
            self.reset_works = True
        return self._status("VmRSS")

    def peak(self) -> int:
        return self._status("VmHWM")


@dataclass
class Bombs:
    system: LiveSystem
    admin: GatewayClient
    store: ObjectStore
    memory: NormalizeMemory
    outcomes: dict[str, Outcome]
    names: dict[str, str]
    sizes: dict[str, int]

    async def through_a_run(self, name: str, fmt: str, body: bytes, content_type: str) -> None:
        tenant_id = _id("bomb")
        await self.admin.create_tenant(tenant_id, "Bombs", ["amazon"])
        await self.admin.request(
            "PUT", f"/v1/tenants/{tenant_id}/config", json_body=_config(tenant_id, fmt),
            expect=(201,),
        )  # fmt: skip
        await self.admin.upload_feed(tenant_id, "v1", body, content_type)
        resting = self.memory.start()
        run = await self.admin.start_run(tenant_id)
        async with asyncio.timeout(180):
            finished = await self.admin.wait_for_run(run["run_id"])
        peak = self.memory.peak()
        artifacts = {a["name"]: a for a in await self.admin.artifacts(run["run_id"])}
        errors = json.loads(await self.admin.download(artifacts["errors.json"]["url"]))
        first = (errors["errors"] or [dict.fromkeys(("code", "row", "column", "message"))])[0]
        self.outcomes[name] = Outcome(
            finished["status"], first["code"], first["row"], first["column"], first["message"],
            resting, peak,
        )  # fmt: skip

    async def on_the_bus(
        self, name: str, config: dict[str, Any], key: str, body: bytes | None
    ) -> None:
        """``feed.received`` for ``key`` (written first unless ``body`` is None) under the
        config written straight to the bucket as version 1."""
        tenant_id = config["tenant_id"]
        await TenantConfigStore(self.store).save(tenant_id, 1, config)
        if body is not None:
            await self.store.put_bytes(key, body)
        run_id = _id("run")
        event = FeedReceived(
            event_id=f"feed.received:{run_id}:v1",
            occurred_at=datetime.now(UTC),
            tenant_id=tenant_id,
            correlation_id=run_id,
            run_id=run_id,
            vendor_id="v1",
            config_version=1,
            key=key,
            run_vendors=["v1"],
            as_of=AS_OF,
        )
        resting = self.memory.start()
        async with nats_client(self.system.endpoints.nats_url) as client:
            await publish(client, STREAM, event)
            done = await next_event(
                client,
                STREAM,
                subjects.ROWS_NORMALIZED,
                where=lambda e: e.get("run_id") == run_id,
                timeout=120,
            )
        peak = self.memory.peak()
        report = json.loads(await self.store.get_bytes(done["findings_key"]))
        first = report["errors"][0]
        self.outcomes[name] = Outcome(
            done["status"], report["failure_code"], first["row"], first["column"],
            first["message"], resting, peak,
        )  # fmt: skip


def capped_csv(rows: int) -> bytes:
    return b"SKU,QTY,COST,TITLE\n" + b"".join(
        b"SKU-%07d,%d,%d.50,t\n" % (i, i % 9, i % 500) for i in range(rows)
    )


def rows_at_the_cap() -> int:
    """The most rows of :func:`capped_csv` whose estimate fits the cap (with 2 % to spare)."""
    rows = int((CAP - MEMORY.fixed) / (MEMORY.per_row + 4 * MEMORY.per_cell + 3 * 24))
    while table_memory(rows + 2, 4, len(capped_csv(rows))) > CAP * 0.98:
        rows -= rows // 50
    return rows


def _config_refusal(config: dict[str, Any]) -> str:
    """What the config loader says of ``config`` (every service validates a stored version
    as it loads it: that refusal is the finding)."""
    with pytest.raises(ConfigError) as refused:
        parse_tenant_config(config)
    return str(refused.value)


@pytest.fixture(scope="module")
async def bombs(live_system: LiveSystem, object_store: ObjectStore) -> AsyncIterator[Bombs]:
    """Every bomb, one after the other, against the one system of this module."""
    async with aiohttp_admin(live_system) as admin:
        found = Bombs(
            live_system, admin, object_store,
            NormalizeMemory(live_system.services.pid("normalize")), {}, {}, {},
        )  # fmt: skip
        limit = json_document_limit(LIMITS.feed_limits())
        await found.through_a_run("xlsx zip bomb", "xlsx", xlsx_zip_bomb(1_200_000_000), XLSX_TYPE)
        await found.through_a_run(
            "huge json array", "json", json_array(limit // 40 + 1_000), "application/json"
        )
        await found.through_a_run("deep json", "json", deep_json(100_000), "application/json")
        await found.through_a_run("wide csv", "csv", wide_csv(1_001), "text/csv")
        await found.through_a_run("giant cell", "csv", giant_cell_csv(70_000), "text/csv")
        rows = found.sizes["rows at the cap"] = rows_at_the_cap()
        await found.through_a_run("csv at the cap", "csv", capped_csv(rows), "text/csv")
        over = capped_csv(2 * rows)
        found.sizes["estimate over the cap"] = table_memory(2 * rows + 2, 4, len(over))
        await found.through_a_run("csv over the cap", "csv", over, "text/csv")

        for codec, body in (("bz2_codec", bz2_bomb(50)), ("rot13", b"FXH,DGL\nN-1,1\n")):
            tenant_id = _id("codec")
            config = _config(tenant_id, parser={"encoding": codec})
            key = keys.inbound_key(tenant_id, "v1", AS_OF, "20260101T000000-0001", "csv")
            await found.on_the_bus(codec, config, key, body)

        victim = _id("victim")
        there = keys.inbound_key(victim, "v1", AS_OF, "20260101T000000-0001", "csv")
        await object_store.put_bytes(there, b"SKU,QTY,COST,TITLE\nSECRET,1,1.00,t\n")
        victim_map = keys.sku_map_key(victim, "v1")
        await object_store.put_bytes(victim_map, b"vendor_sku,sku\nA,B\n")
        thief = found.names["feed thief"] = _id("thief")
        for case, key in (("existing", there), ("missing", there.replace("raw.csv", "no.csv"))):
            found.names[f"foreign feed key, {case}"] = key
            await found.on_the_bus(f"foreign feed key, {case}", _config(thief), key, None)
        for case, key in (("existing", victim_map), ("missing", victim_map + ".gone")):
            tenant_id = found.names[f"foreign sku map key, {case}"] = _id("thief")
            own = keys.inbound_key(tenant_id, "v1", AS_OF, "20260101T000000-0001", "csv")
            config = _config(tenant_id, sku_map={"type": "file", "s3_key": key})
            body = b"SKU,QTY,COST,TITLE\nA,1,1.00,t\n"
            await found.on_the_bus(f"foreign sku map key, {case}", config, own, body)
        yield found


@asynccontextmanager
async def aiohttp_admin(system: LiveSystem) -> AsyncIterator[GatewayClient]:
    async with aiohttp.ClientSession() as session:
        yield GatewayClient(session, system.gateway_url, system.admin_key)


def test_each_bomb_through_a_run_fails_its_feed_with_a_named_finding(bombs: Bombs) -> None:
    found = {
        name: (o.status, o.code, o.row, o.column, o.message)
        for name, o in bombs.outcomes.items()
        if name in ("xlsx zip bomb", "huge json array", "deep json", "wide csv", "giant cell")
    }
    limits = LIMITS.feed_limits()
    assert found["xlsx zip bomb"][:4] == ("FAILED", "feed_too_large", None, None)
    assert found["xlsx zip bomb"][4].startswith("the feed is too large: the workbook unpacks to ")
    assert found["xlsx zip bomb"][4].endswith(f"above the limit of {limits.max_decoded_bytes}")
    assert found["huge json array"] == (
        "FAILED", "feed_too_large", None, None,
        f"the feed is too large: a JSON array is parsed whole and may have at most"
        f" {json_document_limit(limits)} characters under the memory cap of {CAP} bytes; JSONL"
        " is read line by line",
    )  # fmt: skip
    assert found["deep json"] == (
        "FAILED", "nesting_too_deep", None, None,
        "the JSON is nested too deep: the document is nested deeper than the limit of 64 levels",
    )  # fmt: skip
    assert found["wide csv"] == (
        "FAILED", "too_many_columns", None, None,
        "the feed has too many columns: the header has 1001 columns, above the limit of 1000",
    )  # fmt: skip
    assert found["giant cell"] == (
        "FAILED", "cell_too_large", 3, "title",
        "a cell is too large: column 'TITLE' holds 70000 bytes, above the limit of 65536",
    )  # fmt: skip


def test_a_feed_at_the_memory_cap_is_normalized_and_one_over_it_is_refused_unread(
    bombs: Bombs,
) -> None:
    """The largest clean CSV the estimate admits under the cap goes through (and its real
    peak stays under the cap: the test below); twice as many rows are refused before
    polars parses them."""
    at, over = bombs.outcomes["csv at the cap"], bombs.outcomes["csv over the cap"]
    assert (at.status, at.code) == ("SUCCEEDED", None)
    rows = bombs.sizes["rows at the cap"]
    estimate = bombs.sizes["estimate over the cap"]
    assert (over.status, over.code, over.row, over.column, over.message) == (
        "FAILED", "feed_too_large", None, None,
        f"the feed is too large: reading {2 * rows + 2} lines of 4 columns needs about"
        f" {estimate} bytes of memory, above the cap of {CAP}",
    )  # fmt: skip


def test_codecs_that_are_not_text_encodings_fail_the_feed_unread(bombs: Bombs) -> None:
    """The config loader refuses them as it loads the stored version (normalize's engine
    refuses them too, before a byte is decoded: tests/engine/test_feed_limits.py)."""
    for codec in ("bz2_codec", "rot13"):
        outcome = bombs.outcomes[codec]
        expected = _config_refusal(_config("x", parser={"encoding": codec}))
        assert "vendors[0].parser.encoding" in expected
        assert (outcome.status, outcome.code, outcome.message) == (
            "failed",
            "invalid_config",
            expected,
        ), codec


def test_a_foreign_key_fails_the_feed_in_the_same_words_whether_or_not_it_exists(
    bombs: Bombs,
) -> None:
    """The feed key's refusal quotes the key it was given (the caller's own text), nothing
    about the object; the SKU map key's is refused as the stored config loads."""
    feed, maps = {}, {}
    for case in ("existing", "missing"):
        outcome = bombs.outcomes[f"foreign feed key, {case}"]
        key = bombs.names[f"foreign feed key, {case}"]
        feed[case] = (outcome.status, outcome.code, outcome.message.replace(key, "<key>"))
        outcome = bombs.outcomes[f"foreign sku map key, {case}"]
        thief = bombs.names[f"foreign sku map key, {case}"]
        maps[case] = (outcome.status, outcome.code, outcome.message.replace(thief, "<thief>"))
    prefix = f"tenants/{bombs.names['feed thief']}/"
    assert feed == dict.fromkeys(
        ("existing", "missing"),
        ("failed", "foreign_key", f"the feed's key must lie under {prefix} (got '<key>')"),
    )
    assert maps == dict.fromkeys(
        ("existing", "missing"),
        (
            "failed", "invalid_config",
            "vendors[0].sku_map.s3_key: must lie under tenants/<thief>/ (no '..' or '.' parts)",
        ),
    )  # fmt: skip


def test_normalize_stays_under_its_memory_cap_and_is_never_restarted(
    bombs: Bombs, live_system: LiveSystem, record_testsuite_property: Any
) -> None:
    """Per case: normalize's high-water mark (reset before the case) less its resting size
    before it, the memory that one feed took, is at most the cap."""
    assert live_system.services.pid("normalize") == bombs.memory.pid
    assert live_system.services.unexpected_exits() == {}
    for name, outcome in bombs.outcomes.items():
        record_testsuite_property(
            f"normalize rss {name}",
            f"resting {outcome.resting_rss >> 20} MiB, peak {outcome.peak_rss >> 20} MiB,"
            f" growth {outcome.growth >> 20} MiB (reset between cases: {bombs.memory.reset_works})",
        )
        assert outcome.growth <= CAP, name


async def test_normalize_never_redelivers_a_bomb(bombs: Bombs, live_system: LiveSystem) -> None:
    """Every bomb was settled at its first delivery: no exception was retried."""
    assert bombs.outcomes
    async with nats_client(live_system.endpoints.nats_url) as client:
        info = await client.jetstream().consumer_info(
            STREAM, subjects.durable_name("normalize", subjects.FEED_RECEIVED)
        )
    assert info.num_redelivered == 0


async def test_a_good_feed_of_another_tenant_succeeds_after_the_bombs(bombs: Bombs) -> None:
    assert len(bombs.outcomes) == 13
    tenant_id = _id("good")
    admin = bombs.admin
    await admin.create_tenant(tenant_id, "Good", ["amazon"])
    config = _config(tenant_id)
    await admin.request("PUT", f"/v1/tenants/{tenant_id}/config", json_body=config, expect=(201,))
    feed = b"SKU,QTY,COST,TITLE\nA-1,5,10.00,Brake pad\nB-2,0,20.00,Filter\n"
    await admin.upload_feed(tenant_id, "v1", feed, "text/csv")
    run = await admin.start_run(tenant_id)
    async with asyncio.timeout(120):
        finished = await admin.wait_for_run(run["run_id"])
    assert (finished["status"], finished["counts"]["merged_rows"]) == ("SUCCEEDED", 2)
