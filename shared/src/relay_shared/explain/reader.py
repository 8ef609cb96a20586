"""Looking one SKU up in a run's stored explain index: the manifest (a small JSON object,
kept per run in a bounded cache: a run's index never changes once written), then one ranged
GET of the bucket that holds the SKU. No scan of the run's outputs, whatever their size.

Each offer's ``as_read`` (its row number and raw cells) comes from normalize's index of the
vendor feed's rows as read (:mod:`.source_reader`, the vendors read at once). A SKU without
offers answers :class:`SkuNotInRun`, whose body says whether normalize rejected it (the
findings of the run's ``errors.json`` on its rows, found by SKU in the indexes of the vendors
with row findings, matched by vendor and row) or it was never present.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

import structlog

from relay_shared import keys
from relay_shared.errors import NotFoundError
from relay_shared.explain import buckets
from relay_shared.explain.answer import (
    ExplainOut,
    NotInRunOut,
    explain,
    rejected_in,
    with_as_read,
)
from relay_shared.explain.index_format import (
    ExplainManifest,
    as_dicts,
    data_key,
    decode_chunk,
    manifest_key,
)
from relay_shared.explain.source_reader import SourceRowsReader
from relay_shared.findings import Finding
from relay_shared.run_reports import ErrorsReport
from relay_shared.storage import ObjectStore

_CACHED_MANIFESTS = 64
# the row findings of the runs last asked about a SKU without offers (a 1M-row run's
# errors.json: ~3 MB, ~35 ms to parse, ~18k findings held)
_CACHED_ERRORS = 4
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
        self._sources = SourceRowsReader(store)
        self._manifests: OrderedDict[tuple[str, str], ExplainManifest] = OrderedDict()
        self._cached = cached
        self._errors: OrderedDict[tuple[str, str], list[Finding]] = OrderedDict()

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
        if not manifest.hash_agrees():  # written by another polars version
            log.warning("explain.hash_disagrees", run_id=run_id, tenant_id=tenant_id)
        for chunk in buckets.chunks_to_read(manifest, sku):
            key = data_key(tenant_id, run_id, chunk.part)
            body = await self._store.get_range(key, chunk.offset, chunk.length)
            rows = await asyncio.to_thread(decode_chunk, body, sku)
            if rows.height:
                answer = explain(as_dicts(rows), manifest)
                vendors = [offer.vendor_id for offer in answer.offers]
                found = await self._sources.rows(tenant_id, run_id, vendors, sku, cells=True)
                return with_as_read(answer, found)
        raise SkuNotInRun(await self._not_in_run(tenant_id, run_id, sku))

    async def _not_in_run(self, tenant_id: str, run_id: str, sku: str) -> NotInRunOut:
        errors = await self._row_errors(tenant_id, run_id)
        vendors = sorted({vendor for item in errors if (vendor := item.vendor_id)})
        found = await self._sources.rows(tenant_id, run_id, vendors, sku, cells=False)
        return rejected_in(sku, errors, found)

    async def _row_errors(self, tenant_id: str, run_id: str) -> list[Finding]:
        """The errors of the run's ``errors.json`` that name a row (kept for the runs last
        asked about: a run's reports never change once written)."""
        cache_key = (tenant_id, run_id)
        found = self._errors.get(cache_key)
        if found is not None:
            self._errors.move_to_end(cache_key)
            return found
        try:
            body = await self._store.get_bytes(keys.report_key(tenant_id, run_id, "errors.json"))
        except NotFoundError:
            return []  # not cached: the run may not have finished yet
        report = await asyncio.to_thread(ErrorsReport.model_validate_json, body)
        found = [item for item in report.errors if item.row is not None]
        self._errors[cache_key] = found
        while len(self._errors) > _CACHED_ERRORS:
            self._errors.popitem(last=False)
        return found
