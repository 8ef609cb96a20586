"""The result of normalizing one vendor's feed, and the report it hands on.

The report is the shared :class:`~relay_shared.vendor_report.VendorReport` (the contract
between normalize and pricing), built from the result as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import polars as pl

from relay_shared.events import VendorCounts
from relay_shared.explain.source_format import SourceRows
from relay_shared.findings import Finding
from relay_shared.vendor_report import VendorReport


@dataclass(frozen=True, slots=True)
class NormalizedFeed:
    """The result of one vendor's feed.

    ``status`` is ``"ok"`` or ``"failed"``; ``normalized_csv`` is ``None`` when failed (or
    not asked for); ``failure_code`` is the feed-level code of a failed feed; ``findings``
    lists the errors (feed-level first, then by row) followed by the warnings (by row).
    ``stats`` counts its rows: ``rows = accepted + rejected + duplicates``.
    ``offers`` is the typed frame of the normalized rows (``None`` when failed), the CSV's
    source: the merge takes it as it is when the hand-off does not go through a file.
    ``memory_estimate`` is what the engine estimated normalizing it takes
    (:mod:`relay_normalize.domain.limits`; 0 when it failed before that was known).
    ``rows_as_read`` are its rows as read, for explain's index (when asked for and the feed
    was cleaned: :mod:`.source_index`).
    """

    vendor_id: str
    status: Literal["ok", "failed"]
    normalized_csv: bytes | None
    errors: list[Finding]
    warnings: list[Finding]
    stats: VendorCounts
    failure_code: str | None = None
    offers: pl.DataFrame | None = field(default=None, repr=False, compare=False)
    memory_estimate: int = field(default=0, repr=False, compare=False)
    rows_as_read: SourceRows | None = field(default=None, repr=False, compare=False)

    @property
    def findings(self) -> list[Finding]:
        return [*self.errors, *self.warnings]

    def report(self) -> VendorReport:
        """The hand-off document (what pricing needs besides the normalized rows)."""
        return VendorReport(
            vendor_id=self.vendor_id,
            status=self.status,
            failure_code=self.failure_code,
            stats=self.stats,
            errors=self.errors,
            warnings=self.warnings,
        )
