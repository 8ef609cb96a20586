"""The drift guard: a vendor feed that changed too much since its last good run is refused.

A feed drifts when, against the vendor's last successfully merged feed,
- its accepted rows fall by more than 50% (``(previous - now) / previous > 0.5``), or
- more than 25% of the SKUs present in both feeds flipped from in stock (quantity > 0) to
  out of stock (``flipped / shared > 0.25``).

A drifting feed is turned into a failed feed (code ``feed_drift``, both measures in the
item's message and value) unless the run was forced. The engine then treats it like any
failed feed: a required vendor fails the run, an optional one is skipped (``vendor_skipped``
with value ``feed_drift``), the spec's rule for failed optional feeds. Either way the run does
not promote the drifting feed, so the tenant's current feed stays the last good one.

Pure: no I/O. A vendor without a previous good feed cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import polars as pl

from relay_pricing.domain.run import VendorFeed

DRIFT_CODE = "feed_drift"
MAX_ROW_DROP = 0.5
MAX_STOCKOUT_FLIP = 0.25


@dataclass(frozen=True)
class FeedStats:
    """What the guard remembers of a vendor's good feed."""

    accepted: int
    skus: frozenset[str]
    in_stock: frozenset[str]

    @classmethod
    def from_normalized_csv(cls, normalized_csv: bytes | Path, accepted: int) -> FeedStats:
        """From normalize's CSV (its bytes or file; columns ``sku`` and
        ``quantity_available``, the only ones read)."""
        if _is_empty(normalized_csv):  # not even a header
            return cls(accepted=accepted, skus=frozenset(), in_stock=frozenset())
        frame = pl.read_csv(
            normalized_csv,
            columns=["sku", "quantity_available"],
            schema_overrides={"sku": pl.String, "quantity_available": pl.Int64},
        )
        in_stock = frame.filter(pl.col("quantity_available").fill_null(0) > 0)
        return cls(
            accepted=accepted,
            skus=frozenset(frame.get_column("sku").to_list()),
            in_stock=frozenset(in_stock.get_column("sku").to_list()),
        )


def _is_empty(normalized_csv: bytes | Path) -> bool:
    if isinstance(normalized_csv, bytes):
        return not normalized_csv
    return normalized_csv.stat().st_size == 0


@dataclass(frozen=True)
class Drift:
    """Both measures of a feed against its vendor's previous good feed."""

    previous_accepted: int
    accepted: int
    shared_skus: int
    flipped_out_of_stock: int

    @property
    def row_drop(self) -> float:
        """The fall of accepted rows, as a fraction of the previous count (0 if none)."""
        if self.previous_accepted <= 0:
            return 0.0
        return max(self.previous_accepted - self.accepted, 0) / self.previous_accepted

    @property
    def stockout_flip(self) -> float:
        """The share of shared SKUs that went from in stock to out of stock."""
        return self.flipped_out_of_stock / self.shared_skus if self.shared_skus else 0.0

    @property
    def drifted(self) -> bool:
        return self.row_drop > MAX_ROW_DROP or self.stockout_flip > MAX_STOCKOUT_FLIP

    def message(self) -> str:
        return (
            f"the feed drifted from the vendor's last good feed: accepted rows fell from "
            f"{self.previous_accepted} to {self.accepted} ({self.row_drop:.1%} drop, limit "
            f"{MAX_ROW_DROP:.0%}); {self.flipped_out_of_stock} of {self.shared_skus} SKUs "
            f"present in both went out of stock ({self.stockout_flip:.1%}, limit "
            f"{MAX_STOCKOUT_FLIP:.0%}); start the run with force to accept it"
        )

    def value(self) -> str:
        return (
            f"accepted_drop={self.row_drop:.1%} ({self.previous_accepted}->{self.accepted}); "
            f"out_of_stock_flip={self.stockout_flip:.1%} "
            f"({self.flipped_out_of_stock}/{self.shared_skus})"
        )


def measure_drift(previous: FeedStats, current: FeedStats) -> Drift:
    shared = previous.skus & current.skus
    flipped = (previous.in_stock & shared) - current.in_stock
    return Drift(
        previous_accepted=previous.accepted,
        accepted=current.accepted,
        shared_skus=len(shared),
        flipped_out_of_stock=len(flipped),
    )


def drift_item(vendor_id: str, drift: Drift) -> dict[str, str | int | None]:
    """The feed-level ``errors.json`` item naming the drift."""
    return {
        "vendor_id": vendor_id,
        "row": None,
        "column": None,
        "code": DRIFT_CODE,
        "message": drift.message(),
        "value": drift.value(),
    }


def refuse_drifted(vendor_id: str, feed: VendorFeed, drift: Drift) -> VendorFeed:
    """The feed as failed with ``feed_drift``: its counts and findings stay, its rows go."""
    return replace(
        feed,
        status="failed",
        failure_code=DRIFT_CODE,
        errors=[drift_item(vendor_id, drift), *feed.errors],
        normalized_csv=None,
        offers=None,
    )
