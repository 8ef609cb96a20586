"""Which of a tenant's vendors have a fresh feed (:func:`relay_ingest.domain.schedules.
is_fresh`): the newest file under each vendor's inbound prefix (S3, as a run would pin it)
against the file the tenant's latest run pinned for the vendor (``run_feeds``)."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from relay_ingest.domain.pinning import latest_inbound
from relay_ingest.domain.schedules import LastPin, LatestFeed, is_fresh
from relay_shared import keys
from relay_shared.storage import ObjectStore


class FeedFreshness:
    def __init__(self, store: ObjectStore, pool: asyncpg.Pool) -> None:
        self._store = store
        self._pool = pool

    async def missing(self, tenant_id: str, vendors: Sequence[str]) -> list[str]:
        """The ``vendors`` (in order) without a fresh feed."""
        rows = await self._pool.fetch(
            "SELECT DISTINCT ON (vendor_id) vendor_id, key, pinned_at FROM run_feeds"
            " WHERE tenant_id = $1 AND vendor_id = ANY($2::text[]) AND NOT preview"
            " ORDER BY vendor_id, pinned_at DESC",
            tenant_id,
            list(vendors),
        )
        pins = {r["vendor_id"]: LastPin(r["key"], r["pinned_at"]) for r in rows}
        missing: list[str] = []
        for vendor_id in vendors:
            if not is_fresh(await self._latest(tenant_id, vendor_id), pins.get(vendor_id)):
                missing.append(vendor_id)
        return missing

    async def _latest(self, tenant_id: str, vendor_id: str) -> LatestFeed | None:
        prefix = keys.tenant_key(tenant_id, keys.inbound_prefix(tenant_id, vendor_id))
        latest = latest_inbound(await self._store.list_objects(prefix))
        return None if latest is None else LatestFeed(latest.key, latest.last_modified)
