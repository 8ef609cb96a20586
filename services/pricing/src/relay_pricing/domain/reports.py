"""The order of a run's findings in ``errors.json``, and a vendor's line in its summary.

The files themselves are written by :mod:`relay_shared.run_reports` (the one layout of
errors.json and run_summary.json, also used for a run failed outside the engine).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Literal

from relay_shared.events import VendorCounts
from relay_shared.findings import Finding
from relay_shared.run_reports import SummaryStatus, VendorSummary

NO_COUNTS = VendorCounts()


def in_report_order(findings: Iterable[Finding]) -> list[Finding]:
    """Feed-level findings first, then by row (stable within a row); values cut to size."""
    ordered = sorted(findings, key=lambda item: (item.row is not None, item.row or 0))
    return [item.cut() for item in ordered]


def summary_status(
    vendor_id: str, outcome: Literal["ok", "failed", "skipped"], unchanged: Collection[str]
) -> SummaryStatus:
    """The vendor's status in run_summary.json: ``unchanged`` for a vendor merged (``ok``)
    from the rows of its unchanged feed (normalize skipped it), else the outcome itself."""
    return "unchanged" if outcome == "ok" and vendor_id in unchanged else outcome


def vendor_summary(status: SummaryStatus, counts: VendorCounts | None) -> VendorSummary:
    """A vendor's line in the summary; a missing feed has zero counts and no sha256."""
    return VendorSummary.of(status, counts or NO_COUNTS)
