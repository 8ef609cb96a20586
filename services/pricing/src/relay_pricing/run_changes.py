"""A successful merge's change history step (issue 16 item 4): load the tenant's previous
successful run's full feed (located through ``run_feeds``/``merges``, read from S3), add the
change artifacts to the run's outputs (pure: :mod:`relay_pricing.domain.change_outputs`) and
record the run's feed and history rows, before the run's artifacts are written and its merge
recorded. A replay computes and records the same rows.

Two runs of one tenant merged at the same moment may both be compared with the same previous
run (each is still a correct diff against a successful run; the next run compares with the
later of the two).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

import structlog

from relay_pricing.adapters.history import ChangeHistory, PreviousMerge, RecordedRun
from relay_pricing.domain.change_outputs import PreviousRun, with_changes
from relay_pricing.domain.delta import SnapshotRule
from relay_pricing.domain.run import RunOutputs
from relay_shared import keys
from relay_shared.errors import NotFoundError
from relay_shared.events import RowsNormalized
from relay_shared.storage import ObjectStore
from relay_shared.tenant_config import TenantConfig

log = structlog.get_logger(__name__)


@dataclass
class RunChanges:
    store: ObjectStore
    history: ChangeHistory

    async def amend(
        self, event: RowsNormalized, config: TenantConfig, outputs: RunOutputs
    ) -> RunOutputs:
        """``outputs`` with the run's change artifacts (unchanged for a failed run)."""
        if outputs.status != "succeeded":
            return outputs
        merge = await self.history.previous(event.tenant_id, event.scope_id)
        previous = await self._previous_run(event.tenant_id, merge)
        rule = SnapshotRule(config.output.mode, config.output.full_every)
        made = await asyncio.to_thread(
            with_changes, outputs.files, previous, rule, full_requested=event.full
        )
        run = RecordedRun(
            tenant_id=event.tenant_id,
            scope_id=event.scope_id,
            as_of=event.as_of,
            feed_key=keys.output_key(event.tenant_id, event.scope_id, made.feed_name),
            snapshot=made.snapshot,
            previous_scope=previous.scope_id if previous.feed is not None else None,
        )
        await self.history.record(run, made.history)
        log.info(
            "pricing.changes_recorded",
            tenant_id=event.tenant_id,
            run_id=event.scope_id,
            previous_run_id=run.previous_scope,
            history_rows=made.history.height,
            snapshot=made.snapshot,
        )
        return replace(outputs, files=made.files)

    async def _previous_run(self, tenant_id: str, merge: PreviousMerge | None) -> PreviousRun:
        if merge is None:
            return PreviousRun(None, None)
        key = merge.feed_key or keys.output_key(tenant_id, merge.scope_id, "merged_inventory.csv")
        try:
            feed = await self.store.get_bytes(key)
        except NotFoundError:
            log.warning("pricing.previous_feed_missing", tenant_id=tenant_id, key=key)
            return PreviousRun(merge.scope_id, None)
        return PreviousRun(merge.scope_id, feed, merge.deltas_since_full)
