"""Deciding when a run has every vendor, and which feed stands for each vendor."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

#: ``unchanged``: normalize found the feed equal to the vendor's last normalized one and
#: handed over those earlier rows (usable like ``ok``).
HandoffStatus = Literal["ok", "unchanged", "failed", "missing"]


@dataclass(frozen=True)
class VendorHandoff:
    """Where one vendor's hand-off from normalize is stored (its report at ``findings_key``,
    its normalized CSV at ``normalized_key``): this run's, or the vendor's latest good one."""

    vendor_id: str
    status: HandoffStatus
    normalized_key: str | None
    findings_key: str
    from_this_run: bool
    #: the same rows as Parquet (None: a result from before there was one; read the CSV)
    handoff_key: str | None = None


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


def unchanged_vendors(chosen: Sequence[VendorHandoff]) -> frozenset[str]:
    """The vendors whose hand-off under this run says their feed was unchanged."""
    return frozenset(h.vendor_id for h in chosen if h.from_this_run and h.status == "unchanged")
