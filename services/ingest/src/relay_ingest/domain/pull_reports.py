"""The ``vendor.pulled`` report of a pulled vendor's state (what the gateway's per-vendor pull
status shows): derived from the vendor's row and its report number only, so a report written
twice is one event (its id names the tenant, the vendor and the number)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from relay_shared.event_items import VendorPullItem
from relay_shared.events import VendorPulled

#: The longest error a report carries.
MAX_ERROR = 1000


@dataclass(frozen=True)
class PullState:
    """A pulled vendor's row: whose it is, its state as reported, and its report number."""

    tenant_id: str
    item: VendorPullItem
    seq: int


def reported_item(columns: Mapping[str, object]) -> VendorPullItem:
    """The reported fields of a vendor's row (its error cut to what a report carries)."""
    fields = {name: columns[name] for name in VendorPullItem.model_fields}
    if isinstance(error := fields["error"], str):
        fields["error"] = error[:MAX_ERROR]
    return VendorPullItem.model_validate(fields)


def pull_report(state: PullState, at: datetime, *, removed: bool = False) -> VendorPulled:
    """The vendor's report at ``at``; ``removed``: the config no longer pulls it."""
    item = state.item
    if removed:
        item = item.model_copy(update={"status": "removed", "next_due_at": None})
    vendor_id = item.vendor_id
    return VendorPulled(
        **item.model_dump(),
        event_id=f"vendor.pulled:{state.tenant_id}:{vendor_id}:{state.seq}",
        occurred_at=at,
        tenant_id=state.tenant_id,
        correlation_id=f"pull:{state.tenant_id}:{vendor_id}"[:128],
        seq=state.seq,
    )
