"""Looking one SKU up in the indexes of a run's rows as read (normalize writes one per vendor
feed: :mod:`.source_format`): per vendor, the manifest (kept in a bounded cache: an index
never changes once written), one ranged GET of the SKU's key bucket and, when the rows' cells
are wanted, one of the block holding the first accepted row. The vendors are read at once.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Iterable

import structlog

from relay_shared import keys
from relay_shared.errors import NotFoundError
from relay_shared.explain import buckets
from relay_shared.explain.source_format import (
    SourceHit,
    SourceManifest,
    cells_at,
    first_accepted,
    key_hits,
    source_data_key,
    source_manifest_key,
    with_cells,
)
from relay_shared.storage import ObjectStore

_CACHED_MANIFESTS = 256
log = structlog.get_logger(__name__)


class SourceRowsReader:
    """The rows as read of one SKU, by vendor, from the object store."""

    def __init__(self, store: ObjectStore, cached: int = _CACHED_MANIFESTS) -> None:
        self._store = store
        self._manifests: OrderedDict[tuple[str, str, str], SourceManifest] = OrderedDict()
        self._cached = cached

    async def rows(
        self, tenant_id: str, run_id: str, vendor_ids: Iterable[str], sku: str, *, cells: bool
    ) -> dict[str, list[SourceHit]]:
        """Each vendor's rows of ``sku`` (file order; with ``cells``, the first accepted one
        with its cells). A vendor whose feed has no index (none was written) is left out."""
        wanted = list(dict.fromkeys(vendor_ids))
        found = await asyncio.gather(
            *(self._vendor_rows(tenant_id, run_id, vendor, sku, cells) for vendor in wanted)
        )
        return {
            vendor: hits for vendor, hits in zip(wanted, found, strict=True) if hits is not None
        }

    async def manifest(self, tenant_id: str, run_id: str, vendor_id: str) -> SourceManifest | None:
        cache_key = (tenant_id, run_id, vendor_id)
        found = self._manifests.get(cache_key)
        if found is not None:
            self._manifests.move_to_end(cache_key)
            return found
        try:
            body = await self._store.get_bytes(source_manifest_key(tenant_id, vendor_id, run_id))
        except NotFoundError:
            return None
        manifest = SourceManifest.model_validate_json(body)
        if not keys.is_tenant_key(tenant_id, manifest.data_folder):
            log.warning("explain.foreign_source_index", tenant_id=tenant_id, run_id=run_id)
            return None
        self._manifests[cache_key] = manifest
        while len(self._manifests) > self._cached:
            self._manifests.popitem(last=False)
        return manifest

    async def _vendor_rows(
        self, tenant_id: str, run_id: str, vendor_id: str, sku: str, cells: bool
    ) -> list[SourceHit] | None:
        """None when the vendor's feed has no index, or its parts are gone (an unchanged
        feed's index names an earlier run's parts, which retention may have removed)."""
        manifest = await self.manifest(tenant_id, run_id, vendor_id)
        if manifest is None:
            return None
        try:
            return await self._hits(manifest, sku, cells)
        except NotFoundError:
            log.warning("explain.source_parts_gone", run_id=run_id, vendor_id=vendor_id)
            return None

    async def _hits(self, manifest: SourceManifest, sku: str, cells: bool) -> list[SourceHit]:
        hits: list[SourceHit] = []
        for chunk in buckets.chunks_to_read(manifest, sku):
            body = await self._read(manifest, chunk)
            hits.extend(await asyncio.to_thread(key_hits, body, sku))
        hits.sort(key=lambda hit: hit.row)
        kept = first_accepted(hits) if cells else None
        if kept is None:
            return hits
        block = await self._read(manifest, manifest.block_of(kept.pos))
        found = await asyncio.to_thread(cells_at, block, manifest, kept.pos)
        return [with_cells(hit, found) if hit is kept else hit for hit in hits]

    async def _read(self, manifest: SourceManifest, chunk: buckets.Chunk) -> bytes:
        key = source_data_key(manifest.data_folder, chunk.part)
        return await self._store.get_range(key, chunk.offset, chunk.length)
