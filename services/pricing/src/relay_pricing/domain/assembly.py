"""Deciding when a run has every vendor, and which feed stands for each vendor."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

HandoffStatus = Literal["ok", "failed", "missing"]


@dataclass(frozen=True)
class VendorHandoff:
    """Where one vendor's hand-off from normalize is stored (its report at ``findings_key``,
    its normalized CSV at ``normalized_key``): this run's, or the vendor's latest good one."""

    vendor_id: str
    status: HandoffStatus
    normalized_key: str | None
    findings_key: str
    from_this_run: bool


def is_complete(received: Sequence[str], run_vendors: Sequence[str]) -> bool:
    """True once every vendor that gets a fresh feed under the run has reported."""
    return set(run_vendors) <= set(received)


def inputs_for_merge(
    configured: Sequence[str],
    received: Mapping[str, VendorHandoff],
    latest: Mapping[str, VendorHandoff],
) -> list[VendorHandoff]:
    """One hand-off per configured vendor, in config order: the run's own, else the vendor's
    latest good feed, else ``missing`` (the engine decides what missing means)."""
    chosen: list[VendorHandoff] = []
    for vendor_id in configured:
        if vendor_id in received:
            chosen.append(received[vendor_id])
        elif vendor_id in latest:
            chosen.append(latest[vendor_id])
        else:
            chosen.append(VendorHandoff(vendor_id, "missing", None, "", from_this_run=False))
    return chosen
