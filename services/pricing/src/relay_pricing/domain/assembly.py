"""Deciding when a run has every vendor, and which feed stands for each vendor."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

VendorStatus = Literal["ok", "failed", "missing"]


@dataclass(frozen=True)
class VendorResult:
    """Where one vendor's normalize result is (this run's, or the latest good one)."""

    vendor_id: str
    status: VendorStatus
    normalized_key: str | None
    findings_key: str
    from_this_run: bool


def is_complete(received: Sequence[str], run_vendors: Sequence[str]) -> bool:
    """True once every vendor that gets a fresh feed under the run has reported."""
    return set(run_vendors) <= set(received)


def inputs_for_merge(
    configured: Sequence[str],
    received: Mapping[str, VendorResult],
    latest: Mapping[str, VendorResult],
) -> list[VendorResult]:
    """One result per configured vendor, in config order: the run's own result, else the
    vendor's latest good feed, else ``missing`` (the engine decides what missing means)."""
    chosen: list[VendorResult] = []
    for vendor_id in configured:
        if vendor_id in received:
            chosen.append(received[vendor_id])
        elif vendor_id in latest:
            chosen.append(latest[vendor_id])
        else:
            chosen.append(VendorResult(vendor_id, "missing", None, "", from_this_run=False))
    return chosen
