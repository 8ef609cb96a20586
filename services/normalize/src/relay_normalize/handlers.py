"""Normalize's handler: load the raw feed → normalize (pure engine) → save → emit.

Everything it writes sits at keys derived from the run and vendor, and its event id is
``rows.normalized:<scope>:<vendor>``: running it twice rewrites the same bytes and the second
publish is dropped by the server.

State and event cannot diverge: the event is built only from the inbound event and the
engine's (deterministic) result, after both files are written, and the message is acked only
after the publish is stored (publish-then-ack). A crash before the ack replays the whole
handler to the same bytes and the same ``Nats-Msg-Id``. Normalize keeps no database state, so
it needs no processed-event table: pricing records each result once (``ON CONFLICT``).

A feed is staged in a temporary folder (under ``TMPDIR``), streamed there from S3 and read
by the engine in chunks; the normalized CSV is written there and uploaded in parts. The
folder is removed when the handler ends, however it ends. The engine bounds every feed
(``limits``, from the settings): a feed beyond them fails with a named finding.

Beside the normalized rows it stores the feed's rows as read, indexed by SKU, for explain
(:mod:`.adapters.source_index`; an ``unchanged`` feed gets its earlier feed's index), before it
publishes.

Keys are checked again where they are read (defence in depth; the gateway checks configs
when they are stored): the feed's key from ``feed.received`` and the SKU map's key must lie
under the tenant's own prefix (:func:`relay_shared.keys.tenant_key`). A foreign key fails the
feed permanently (``foreign_key``) without the object being read, so the finding's text is the
same whether or not such an object exists.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import structlog
from pydantic import ValidationError

from relay_normalize.adapters.sku_maps import SkuMaps
from relay_normalize.adapters.source_index import copy_source_index, write_source_index
from relay_normalize.domain import (
    DEFAULT_LIMITS,
    FeedLimits,
    NormalizedFeed,
    normalize_feed,
    write_offers_csv,
)
from relay_normalize.domain.clean.sku_map import SkuMap
from relay_normalize.domain.read.feed_source import FeedScan, scan_feed
from relay_normalize.domain.unchanged import (
    LastNormalized,
    inputs_fingerprint,
    last_normalized_key,
    reusable,
    stale_problem,
)
from relay_normalize.domain.write.handoff_parquet import (
    HANDOFF_NAME,
    handoff_key,
    write_offers_parquet,
)
from relay_shared import keys, subjects
from relay_shared.config_store import TenantConfigStore
from relay_shared.errors import NotFoundError, PermanentError, RelayError
from relay_shared.events import (
    FeedReceived,
    RowsNormalized,
    VendorCounts,
    VendorStatus,
    run_scope,
    stage_event_id,
)
from relay_shared.findings import Finding
from relay_shared.outbox import Publisher
from relay_shared.storage import ObjectStore
from relay_shared.tenant_config import TenantConfig, VendorConfig
from relay_shared.vendor_report import VendorReport


@dataclass(frozen=True)
class StagedFeed:
    """A feed staged for normalizing: its file, its SKU map, and their fingerprints (the
    file's one scan, which the engine reuses: the feed is not read twice for them)."""

    path: Path
    sku_map: SkuMap | bytes | None
    scan: FeedScan
    inputs: str

    @property
    def sha256(self) -> str:
        return self.scan.sha256

    def remember(
        self,
        event: FeedReceived,
        scope: str,
        stored: tuple[str, str],
        report: VendorReport,
    ) -> LastNormalized:
        """What the next feed is compared with; ``stored``: the normalized CSV's key and the
        Parquet hand-off's."""
        return LastNormalized(
            feed_sha256=self.sha256,
            inputs=self.inputs,
            scope_id=scope,
            normalized_key=stored[0],
            handoff_key=stored[1],
            findings_key=keys.findings_key(event.tenant_id, event.vendor_id, scope),
            counts=report.stats,
        )


log = structlog.get_logger(__name__)

PARQUET_TYPE = "application/vnd.apache.parquet"


@dataclass
class NormalizeHandlers:
    store: ObjectStore
    configs: TenantConfigStore
    bus: Publisher
    sku_maps: SkuMaps
    limits: FeedLimits = DEFAULT_LIMITS

    async def on_feed_received(self, event: FeedReceived) -> None:
        if event.key is not None:
            _own_key(event.tenant_id, event.key, "the feed's key")
        config = await self.configs.load(event.tenant_id, event.config_version)
        vendor = _vendor(config, event.vendor_id)
        scope = run_scope(event.run_id, event.event_id)
        normalized_key: str | None = None
        handoff: str | None = None
        remembered: LastNormalized | None = None
        if event.key is None:
            report = missing_feed_report(event.vendor_id)
        else:
            await self._check_fresh(event, event.key, vendor)
            with tempfile.TemporaryDirectory(prefix="relay-normalize-") as folder:
                staged = await self._stage(event, event.key, config, vendor, Path(folder))
                if await self._report_unchanged(event, scope, staged):
                    return
                feed = await self._normalize(event, staged, config, vendor)
                report = feed.report()
                if feed.offers is not None:
                    normalized_key = keys.normalized_key(event.tenant_id, event.vendor_id, scope)
                handoff = await self._store_feed(feed, normalized_key, scope, Path(folder))
                if normalized_key is not None and handoff is not None:
                    stored = (normalized_key, handoff)
                    remembered = staged.remember(event, scope, stored, report)
        await self._report(event, scope, report, normalized_key, handoff=handoff)
        if remembered is not None and report.status == "ok" and not event.preview:
            await self.store.put_bytes(
                last_normalized_key(event.tenant_id, event.vendor_id),
                remembered.model_dump_json().encode(),
                content_type="application/json",
            )

    async def _store_feed(
        self, feed: NormalizedFeed, normalized_key: str | None, scope: str, folder: Path
    ) -> str | None:
        """Stores the feed's offers (when it has them: at ``normalized_key``, returning the
        hand-off's key) and, alongside, its index of the rows as read for explain
        (:mod:`.adapters.source_index`; a failed feed that was cleaned has one too)."""
        handoff: asyncio.Task[str] | None = None
        async with asyncio.TaskGroup() as group:
            if feed.offers is not None and normalized_key is not None:
                handoff = group.create_task(self._store_offers(normalized_key, feed.offers, folder))
            if feed.rows_as_read is not None:
                group.create_task(write_source_index(self.store, feed.rows_as_read, scope))
        return None if handoff is None else handoff.result()

    async def _store_offers(self, key: str, offers: pl.DataFrame, folder: Path) -> str:
        """Stores the one frame twice, at once: the merchants' normalized CSV at ``key`` and
        the Parquet hand-off pricing reads (:mod:`.domain.write.handoff_parquet`); returns the
        hand-off's key. Each is written to a file by polars (no GIL held) and uploaded from it
        in parts (the rows are never held a second time as bytes)."""
        parquet_key = handoff_key(key)
        await asyncio.gather(
            self._write_and_upload(key, folder / "normalized.csv", write_offers_csv, offers),
            self._write_and_upload(
                parquet_key, folder / HANDOFF_NAME, write_offers_parquet, offers
            ),
        )
        return parquet_key

    async def _write_and_upload(
        self, key: str, path: Path, write: Callable[[pl.DataFrame, str], None], offers: pl.DataFrame
    ) -> None:
        await asyncio.to_thread(write, offers, str(path))
        content_type = PARQUET_TYPE if path.name == HANDOFF_NAME else "text/csv"
        await self.store.put_file(key, path, content_type=content_type)

    async def on_feed_failed(self, event: FeedReceived, error: RelayError) -> None:
        """A feed that cannot be processed at all still reports its vendor as failed, so the
        run completes with a full report instead of waiting forever."""
        item = Finding.feed_level(event.vendor_id, error.code, error.message)
        report = VendorReport(
            vendor_id=event.vendor_id,
            status="failed",
            failure_code=error.code,
            stats=VendorCounts(),
            errors=[item],
            warnings=[],
        )
        await self._report(event, run_scope(event.run_id, event.event_id), report, None)

    async def _report_unchanged(self, event: FeedReceived, scope: str, staged: StagedFeed) -> bool:
        """When the feed equals the vendor's last normalized one (:mod:`.domain.unchanged`):
        report that feed's result under this scope with status ``unchanged``; True if so."""
        last_key = last_normalized_key(event.tenant_id, event.vendor_id)
        try:
            stored = LastNormalized.model_validate_json(await self.store.get_bytes(last_key))
        except NotFoundError:
            return False
        except ValidationError:
            log.warning("normalize.last_normalized_unreadable", key=last_key)
            return False
        last = reusable(stored, staged.sha256, staged.inputs, scope)
        if last is None or not await self.store.exists(last.normalized_key):
            return False  # changed, or its rows expired: normalize it again
        try:
            previous = VendorReport.model_validate_json(
                await self.store.get_bytes(last.findings_key)
            )
        except NotFoundError:
            return False
        await copy_source_index(
            self.store, event.tenant_id, event.vendor_id, last.normalized_key, scope
        )
        await self._report(
            event,
            scope,
            previous,
            last.normalized_key,
            status="unchanged",
            handoff=last.handoff_key,
        )
        return True

    async def _report(
        self,
        event: FeedReceived,
        scope: str,
        report: VendorReport,
        normalized_key: str | None,
        *,
        status: VendorStatus | None = None,
        handoff: str | None = None,
    ) -> None:
        findings_key = keys.findings_key(event.tenant_id, event.vendor_id, scope)
        await self.store.put_bytes(
            findings_key, report.to_json_bytes(), content_type="application/json"
        )
        await self.bus.publish(
            RowsNormalized(
                event_id=stage_event_id(subjects.ROWS_NORMALIZED, scope, event.vendor_id),
                occurred_at=event.occurred_at,
                tenant_id=event.tenant_id,
                correlation_id=event.correlation_id,
                run_id=event.run_id,
                scope_id=scope,
                vendor_id=event.vendor_id,
                config_version=event.config_version,
                status=status or report.status,
                normalized_key=normalized_key,
                handoff_key=handoff,
                findings_key=findings_key,
                counts=report.stats,
                run_vendors=event.run_vendors or [event.vendor_id],
                as_of=event.as_of,
                force=event.force,
                full=event.full,
                preview=event.preview,
            )
        )

    async def _check_fresh(self, event: FeedReceived, key: str, vendor: VendorConfig) -> None:
        """A feed older than the vendor's ``freshness_max_age_h`` at the run's as-of fails
        with ``stale_feed`` (a required vendor fails the run; an optional one is left out)."""
        if vendor.freshness_max_age_h is None:
            return
        listed = [item for item in await self.store.list_objects(key) if item.key == key]
        if not listed:
            return  # gone: staging reports missing_feed
        problem = stale_problem(listed[0].last_modified, event.as_of, vendor.freshness_max_age_h)
        if problem is not None:
            raise PermanentError(problem, code="stale_feed", vendor_id=vendor.vendor_id)

    async def _stage(
        self,
        event: FeedReceived,
        key: str,
        config: TenantConfig,
        vendor: VendorConfig,
        folder: Path,
    ) -> StagedFeed:
        """Streams the inbound file at ``key`` (the event's) into ``folder`` (a feed is never
        whole in memory as bytes) with the vendor's SKU map, and fingerprints them."""
        feed_path = folder / "feed"
        map_key = _sku_map_key(event.tenant_id, vendor)  # checked before anything is read
        try:
            await self.store.download(key, feed_path)
        except NotFoundError as exc:
            raise PermanentError(f"inbound file {key} is gone", code="missing_feed") from exc
        sku_map = None if map_key is None else await self.sku_maps.fetch(map_key)
        scan = await asyncio.to_thread(scan_feed, feed_path)
        return StagedFeed(feed_path, sku_map, scan, inputs_fingerprint(config, vendor, sku_map))

    async def _normalize(
        self, event: FeedReceived, staged: StagedFeed, config: TenantConfig, vendor: VendorConfig
    ) -> NormalizedFeed:
        """Normalizes the staged feed (the engine reads the file in chunks)."""
        # The engine is CPU-bound (polars releases the GIL): keep the event loop responsive.
        return await asyncio.to_thread(
            normalize_feed,
            staged.path,
            config=config,
            vendor_id=vendor.vendor_id,
            as_of=event.as_of,
            sku_map=staged.sku_map,
            with_csv=False,
            limits=self.limits,
            with_source=True,
            scan=staged.scan,
        )


def _sku_map_key(tenant_id: str, vendor: VendorConfig) -> str | None:
    """The key of the vendor's map file (None when it has none), checked to be the
    tenant's own."""
    if vendor.sku_map is None or vendor.sku_map.type != "file":
        return None
    key = vendor.sku_map.s3_key or keys.sku_map_key(tenant_id, vendor.vendor_id)
    _own_key(tenant_id, key, "the SKU map's key")
    return key


def _own_key(tenant_id: str, key: str, what: str) -> None:
    """``PermanentError`` (``foreign_key``) unless ``key`` lies under the tenant's prefix;
    nothing is read, so the message is the same whether or not the object exists."""
    try:
        keys.tenant_key(tenant_id, key)
    except keys.ForeignKeyError as exc:
        raise PermanentError(f"{what} {exc}", code=exc.code) from exc


def _vendor(config: TenantConfig, vendor_id: str) -> VendorConfig:
    for vendor in config.vendors:
        if vendor.vendor_id == vendor_id:
            return vendor
    raise PermanentError(f"vendor {vendor_id} is not in the tenant config", code="unknown_vendor")


def missing_feed_report(vendor_id: str) -> VendorReport:
    return VendorReport(
        vendor_id=vendor_id, status="missing", stats=VendorCounts(), errors=[], warnings=[]
    )
