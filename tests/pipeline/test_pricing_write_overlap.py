"""Pricing stores a run's explain index while the run's change history is made (they do not
depend on each other): the index's manifest is written before the change step ends, and every
file and the index are stored when the write step returns (before the outcome is recorded)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, cast

from relay_pricing.domain import RunOutputs
from relay_pricing.handlers import PricingHandlers
from relay_pricing.run_changes import RunChanges
from relay_shared import keys
from relay_shared.events import RowsNormalized, VendorCounts
from relay_shared.explain.index_format import manifest_key
from relay_shared.storage import ObjectStore
from relay_shared.tenant_config import TenantConfig
from tests.engine.engine_support import csv_feed, make_config, run

#: long enough for a loaded machine; a change step that waited on the index for good fails
INDEX_WAIT_S = 20


class WatchedStore:
    """The real store; ``written`` is set once the object at ``key`` has been put."""

    def __init__(self, store: ObjectStore, key: str) -> None:
        self._store = store
        self._key = key
        self.written = asyncio.Event()

    async def put_bytes(self, key: str, data: bytes, content_type: str = "text/csv") -> None:
        await self._store.put_bytes(key, data, content_type)
        if key == self._key:
            self.written.set()


@dataclass
class ChangesAwaitingTheIndex:
    """A change step that ends only once the run's explain index is stored (as a diff against
    a previous run's feed takes a while), adding one file."""

    index: asyncio.Event
    ended: list[bool] = field(default_factory=list)

    async def amend(
        self, event: RowsNormalized, config: TenantConfig, outputs: RunOutputs
    ) -> RunOutputs:
        async with asyncio.timeout(INDEX_WAIT_S):
            await self.index.wait()
        self.ended.append(self.index.is_set())
        return replace(outputs, files={**outputs.files, "changes.csv": b"sku,column,old,new\n"})


def _event(tenant_id: str, run_id: str) -> RowsNormalized:
    return RowsNormalized(
        event_id=f"rows.normalized:{run_id}:v1",
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        tenant_id=tenant_id,
        correlation_id=run_id,
        run_id=run_id,
        scope_id=run_id,
        vendor_id="v1",
        config_version=1,
        status="ok",
        normalized_key=None,
        findings_key=keys.findings_key(tenant_id, "v1", run_id),
        counts=VendorCounts(),
        run_vendors=["v1"],
        as_of=datetime(2026, 1, 1, tzinfo=UTC),
    )


async def test_the_explain_index_is_stored_while_the_change_history_is_made(
    object_store: ObjectStore, unique_id: str
) -> None:
    tenant_id, run_id = f"t{unique_id}", f"run_{unique_id}"
    config = make_config()
    outputs = run(config, {"v1": csv_feed("A,5,10.00,,,,,,,", "B,0,3.00,,,,,,,")})
    assert outputs.explain is not None
    store = WatchedStore(object_store, manifest_key(tenant_id, run_id))
    changes = ChangesAwaitingTheIndex(store.written)
    none: Any = None
    handlers = PricingHandlers(
        store=cast(ObjectStore, store),
        configs=none,
        assembly=none,
        bus=none,
        changes=cast(RunChanges, changes),
        previews=none,
    )

    amended, written = await handlers._amend_and_write(_event(tenant_id, run_id), config, outputs)

    assert changes.ended == [True]
    assert sorted(written) == sorted({*outputs.files, "changes.csv"})
    assert amended.files["changes.csv"] == b"sku,column,old,new\n"
    for name, key in written.items():
        assert await object_store.get_bytes(key) == amended.files[name]
    assert await object_store.exists(manifest_key(tenant_id, run_id))
