"""Normalize's handler checks the keys it reads again (defence in depth): a feed key from
``feed.received`` or a SKU map key from the config that does not lie under the tenant's own
prefix fails the feed permanently (``foreign_key``), without reading the object, in the same
words whether or not it exists; the engine's bounds reach the handler from its settings; the
staged feed is scanned (hashed, its lines counted) once, by the handler, for both the
``unchanged`` check and the engine."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest

from relay_normalize import handlers as normalize_handlers
from relay_normalize.adapters.sku_maps import SkuMaps
from relay_normalize.domain import FeedLimits
from relay_normalize.domain import feed as normalize_engine
from relay_normalize.domain.read import csv_table, feed_source
from relay_normalize.handlers import NormalizeHandlers
from relay_shared.config_store import TenantConfigStore
from relay_shared.errors import NotFoundError, PermanentError
from relay_shared.events import FeedReceived, RowsNormalized
from relay_shared.storage import ObjectStore, ObjectTooLargeError
from relay_shared.tenant_config import TenantConfig

from .engine_support import make_config, vendor

TENANT = "t1"
OWN_FEED = "tenants/t1/inbound/v1/2026/01/01/u1/raw.csv"
FOREIGN_FEED = "tenants/t2/inbound/v1/2026/01/01/u1/raw.csv"
FOREIGN_MAP = "tenants/t2/config/sku_map_v1.csv"
FEED = b"SKU,QTY,COST\nA,1,2.00\n"


@dataclass
class Store:
    """An in-memory bucket that records every key read."""

    objects: dict[str, bytes]
    reads: list[str] = field(default_factory=list)
    written: dict[str, bytes] = field(default_factory=dict)

    async def download(self, key: str, target: Path) -> int:
        self.reads.append(key)
        if key not in self.objects:
            raise NotFoundError(f"no object at {key}")
        await asyncio.to_thread(target.write_bytes, self.objects[key])
        return len(self.objects[key])

    async def get_bytes(self, key: str) -> bytes:
        self.reads.append(key)
        if key not in self.objects:
            raise NotFoundError(f"no object at {key}")
        return self.objects[key]

    async def get_bytes_if_changed(
        self, key: str, etag: str | None, max_bytes: int
    ) -> tuple[bytes, str]:
        data = await self.get_bytes(key)
        if len(data) > max_bytes:
            raise ObjectTooLargeError(key, len(data), max_bytes)
        return data, "etag"

    async def put_bytes(self, key: str, data: bytes, content_type: str = "") -> None:
        self.written[key] = data

    async def put_file(self, key: str, source: Path, content_type: str) -> None:
        self.written[key] = await asyncio.to_thread(source.read_bytes)


@dataclass
class Configs:
    config: TenantConfig

    async def load(self, tenant_id: str, version: int) -> TenantConfig:
        return self.config


@dataclass
class Bus:
    published: list[RowsNormalized] = field(default_factory=list)

    async def publish(self, event: RowsNormalized) -> bool:
        self.published.append(event)
        return True


def _config(sku_map_key: str | None = None) -> TenantConfig:
    columns = {"sku": "SKU", "quantity_available": "QTY", "cost": "COST"}
    if sku_map_key is None:
        return make_config([vendor(parser={"column_map": columns})])
    own = {"type": "file", "s3_key": "tenants/t1/config/own.csv"}
    config = make_config([vendor(parser={"column_map": columns}, sku_map=own)])
    old = config.vendors[0]
    assert old.sku_map is not None
    # as a config stored before the validator refused foreign keys (model_copy: no checks)
    sku_map = old.sku_map.model_copy(update={"s3_key": sku_map_key})
    return config.model_copy(update={"vendors": [old.model_copy(update={"sku_map": sku_map})]})


def _handlers(store: Store, config: TenantConfig, **limits: int) -> NormalizeHandlers:
    objects = cast(ObjectStore, store)
    bounds = FeedLimits(**limits)
    return NormalizeHandlers(
        store=objects,
        configs=cast(TenantConfigStore, Configs(config)),
        bus=Bus(),
        sku_maps=SkuMaps(objects, max_bytes=bounds.max_sku_map_bytes, cache_bytes=0),
        limits=bounds,
    )


def _event(key: str) -> FeedReceived:
    return FeedReceived(
        event_id="feed.received:r1:v1",
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        tenant_id=TENANT,
        correlation_id="r1",
        run_id="r1",
        vendor_id="v1",
        config_version=1,
        key=key,
        run_vendors=["v1"],
        as_of=datetime(2026, 1, 1, tzinfo=UTC),
    )


async def _refusal(store: Store, config: TenantConfig, key: str) -> tuple[Any, ...]:
    """What the handler raises, and the report its failure hook writes."""
    handlers = _handlers(store, config)
    event = _event(key)
    with pytest.raises(PermanentError) as raised:
        await handlers.on_feed_received(event)
    await handlers.on_feed_failed(event, raised.value)
    (report,) = [data for name, data in store.written.items() if name.endswith("/v1.json")]
    return raised.value.code, raised.value.message, report


@pytest.mark.parametrize("exists", [True, False])
async def test_a_foreign_feed_key_fails_the_feed_unread(exists: bool) -> None:
    store = Store({FOREIGN_FEED: FEED} if exists else {})
    code, message, report = await _refusal(store, _config(), FOREIGN_FEED)
    assert (code, message) == (
        "foreign_key",
        f"the feed's key must lie under tenants/t1/ (got {FOREIGN_FEED!r})",
    )
    assert store.reads == []
    assert b'"failure_code": "foreign_key"' in report


@pytest.mark.parametrize("exists", [True, False])
async def test_a_foreign_sku_map_key_fails_the_feed_unread(exists: bool) -> None:
    store = Store({OWN_FEED: FEED, **({FOREIGN_MAP: b"vendor_sku,sku\nA,B\n"} if exists else {})})
    code, message, _ = await _refusal(store, _config(FOREIGN_MAP), OWN_FEED)
    assert (code, message) == (
        "foreign_key",
        f"the SKU map's key must lie under tenants/t1/ (got {FOREIGN_MAP!r})",
    )
    assert store.reads == []


@pytest.mark.parametrize(
    "key", ["tenants/t1/../t2/inbound/raw.csv", "tenants/t1x/raw.csv", "/tenants/t1/raw.csv"]
)
async def test_keys_that_only_look_like_the_tenant_s_are_foreign(key: str) -> None:
    store = Store({key: FEED})
    code, _, _ = await _refusal(store, _config(), key)
    assert code == "foreign_key"
    assert store.reads == []


async def test_an_own_feed_is_normalized_under_the_handler_s_limits() -> None:
    store = Store({OWN_FEED: FEED})
    handlers = _handlers(store, _config(), max_rows=1)
    await handlers.on_feed_received(_event(OWN_FEED))
    assert b'"status": "ok"' in store.written["tenants/t1/reports/r1/vendors/v1.json"]
    store = Store({OWN_FEED: FEED + b"B,1,2.00\n"})
    handlers = _handlers(store, _config(), max_rows=1)
    await handlers.on_feed_received(_event(OWN_FEED))
    report = store.written["tenants/t1/reports/r1/vendors/v1.json"]
    assert b'"failure_code": "too_many_rows"' in report


async def test_a_sku_map_above_its_limit_is_unavailable() -> None:
    own_map = "tenants/t1/config/sku_map_v1.csv"
    store = Store({OWN_FEED: FEED, own_map: b"vendor_sku,sku\n" + b"A,B\n" * 100})
    handlers = _handlers(store, _config(own_map), max_sku_map_bytes=100)
    with pytest.raises(PermanentError) as raised:
        await handlers.on_feed_received(_event(OWN_FEED))
    assert (raised.value.code, raised.value.message) == (
        "sku_map_unavailable",
        "the SKU map cannot be read: it is larger than 100 bytes",
    )


async def test_the_staged_feed_is_scanned_once(monkeypatch: pytest.MonkeyPatch) -> None:
    scanned: list[feed_source.FeedSource] = []

    def scan(source: feed_source.FeedSource) -> feed_source.FeedScan:
        scanned.append(source)
        return feed_source.scan_feed(source)

    for module in (normalize_handlers, normalize_engine, csv_table):
        monkeypatch.setattr(module, "scan_feed", scan)
    store = Store({OWN_FEED: FEED})
    await _handlers(store, _config()).on_feed_received(_event(OWN_FEED))
    assert len(scanned) == 1
    assert isinstance(scanned[0], Path)
    report = store.written["tenants/t1/reports/r1/vendors/v1.json"]
    assert b'"status": "ok"' in report
    assert f'"sha256": "{feed_source.scan_feed(FEED).sha256}"'.encode() in report
