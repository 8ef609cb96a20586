"""Looking one SKU up in a run's stored explain index: the manifest (a small JSON object,
kept per run in a bounded cache: a run's index never changes once written), then one ranged
GET of the bucket that holds the SKU. No scan of the run's outputs, whatever their size.

A SKU without rows answers :class:`SkuNotInRun`, whose body says whether normalize rejected
it (a finding of the run's ``errors.json`` on the ``sku`` column whose value is the SKU) or
it was never present (a row rejected on another column is not traced to its SKU: its finding
names the row, not the SKU).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

import structlog

from relay_shared import keys
from relay_shared.errors import NotFoundError
from relay_shared.explain.answer import ExplainOut, NotInRunOut, explain, not_in_run
from relay_shared.explain.index_format import (
    ExplainManifest,
    as_dicts,
    data_key,
    decode_chunk,
    manifest_key,
)
from relay_shared.run_reports import ErrorsReport
from relay_shared.storage import ObjectStore

_CACHED_MANIFESTS = 64
log = structlog.get_logger(__name__)


class ExplainIndexMissing(LookupError):
    """The run has no explain index (it failed, or it predates explain)."""


class SkuNotInRun(LookupError):
    def __init__(self, answer: NotInRunOut) -> None:
        super().__init__(answer.message)
        self.answer = answer


class ExplainReader:
    """Answers explain lookups from the object store."""

    def __init__(self, store: ObjectStore, cached: int = _CACHED_MANIFESTS) -> None:
        self._store = store
        self._manifests: OrderedDict[tuple[str, str], ExplainManifest] = OrderedDict()
        self._cached = cached

    async def manifest(self, tenant_id: str, run_id: str) -> ExplainManifest:
        """The run's manifest; :class:`ExplainIndexMissing` when it has none."""
        cache_key = (tenant_id, run_id)
        found = self._manifests.get(cache_key)
        if found is not None:
            self._manifests.move_to_end(cache_key)
            return found
        try:
            body = await self._store.get_bytes(manifest_key(tenant_id, run_id))
        except NotFoundError as exc:
            raise ExplainIndexMissing(f"run {run_id} has no explain index") from exc
        manifest = ExplainManifest.model_validate_json(body)
        self._manifests[cache_key] = manifest
        while len(self._manifests) > self._cached:
            self._manifests.popitem(last=False)
        return manifest

    async def explain(self, tenant_id: str, run_id: str, sku: str) -> ExplainOut:
        """The SKU's answer; :class:`SkuNotInRun` or :class:`ExplainIndexMissing` if none."""
        manifest = await self.manifest(tenant_id, run_id)
        if manifest.hash_agrees():
            chunk = manifest.chunk_for(sku)
            chunks = [] if chunk is None else [chunk]
        else:  # written by another polars version: look in every bucket
            log.warning("explain.hash_disagrees", run_id=run_id, tenant_id=tenant_id)
            chunks = manifest.every_chunk()
        for chunk in chunks:
            key = data_key(tenant_id, run_id, chunk.part)
            body = await self._store.get_range(key, chunk.offset, chunk.length)
            rows = await asyncio.to_thread(decode_chunk, body, sku)
            if rows.height:
                return explain(as_dicts(rows), manifest)
        raise SkuNotInRun(await self._not_in_run(tenant_id, run_id, sku))

    async def _not_in_run(self, tenant_id: str, run_id: str, sku: str) -> NotInRunOut:
        try:
            body = await self._store.get_bytes(keys.report_key(tenant_id, run_id, "errors.json"))
        except NotFoundError:
            return not_in_run(sku, [])
        report = await asyncio.to_thread(ErrorsReport.model_validate_json, body)
        return not_in_run(sku, report.errors)
