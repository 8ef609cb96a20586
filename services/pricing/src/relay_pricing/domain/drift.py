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

Pure: no I/O (the feeds' offers come as frames). A vendor without a previous good feed cannot
drift.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace

import polars as pl

from relay_pricing.domain.run import FeedInput, VendorFeed
from relay_shared.findings import Finding

DRIFT_CODE = "feed_drift"
MAX_ROW_DROP = 0.5
MAX_STOCKOUT_FLIP = 0.25


_STOCK_SCHEMA = {"sku": pl.String, "in_stock": pl.Boolean}


@dataclass(frozen=True, eq=False)
class FeedBaseline:
    """What the guard remembers of a vendor's good feed (and measures of this run's): its
    accepted rows, and ``stock``, one row per SKU (sorted, nulls first) with ``in_stock``,
    whether any of its rows had a quantity above 0.

    A frame, not Python sets: a catalogue feed has hundreds of thousands of SKUs, and making
    a string object of each (to build the set, then again to store it) took about a quarter
    of pricing's merge. :func:`measure_drift` joins two of them instead.
    """

    accepted: int
    stock: pl.DataFrame

    @classmethod
    def of_offers(cls, offers: pl.DataFrame, accepted: int) -> FeedBaseline:
        """From a feed's typed offers (columns ``sku`` and ``quantity_available``, the only
        ones looked at)."""
        stock = (
            offers.lazy()
            .group_by("sku")
            .agg(in_stock=(pl.col("quantity_available").fill_null(0) > 0).any())
            .select(pl.col("sku").cast(pl.String), pl.col("in_stock"))
            .sort("sku", nulls_last=False)  # sorted: the stored bytes, and a faster join
            .collect()
        )
        return cls(accepted=accepted, stock=stock)

    @classmethod
    def of_sets(cls, accepted: int, skus: Iterable[str], in_stock: Iterable[str]) -> FeedBaseline:
        """From the SKUs and those in stock (a SKU only in ``in_stock`` counts as both)."""
        stocked = frozenset(in_stock)
        every = sorted(stocked.union(skus))
        stock = pl.DataFrame(
            {"sku": every, "in_stock": [sku in stocked for sku in every]}, schema=_STOCK_SCHEMA
        )
        return cls(accepted=accepted, stock=stock)

    @property
    def skus(self) -> frozenset[str]:
        """Every SKU, as a set (for reading; the guard itself never builds it)."""
        return frozenset(self.stock.get_column("sku").to_list())

    @property
    def in_stock(self) -> frozenset[str]:
        """The SKUs in stock, as a set."""
        return frozenset(self.stock.filter(pl.col("in_stock")).get_column("sku").to_list())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FeedBaseline):
            return NotImplemented
        return self.accepted == other.accepted and self.stock.equals(other.stock)

    __hash__ = None  # type: ignore[assignment]


def fresh_baselines(
    feeds: Mapping[str, FeedInput], fresh: Collection[str]
) -> dict[str, FeedBaseline]:
    """The baselines of the good feeds among ``fresh``, the vendors that got a feed under this
    run (the others stand for the latest good feed, already a baseline)."""
    baselines: dict[str, FeedBaseline] = {}
    for vendor_id, feed in feeds.items():
        if vendor_id not in fresh or not isinstance(feed, VendorFeed):
            continue
        if feed.status == "ok" and feed.offers is not None:
            accepted = feed.report.stats.accepted
            baselines[vendor_id] = FeedBaseline.of_offers(feed.offers, accepted)
    return baselines


def guard_drift(
    feeds: Mapping[str, FeedInput],
    current: Mapping[str, FeedBaseline],
    baselines: Mapping[str, FeedBaseline],
) -> dict[str, FeedInput]:
    """The feeds, with each of this run's feeds that drifted from its baseline refused."""
    guarded = dict(feeds)
    for vendor_id, measured in current.items():
        feed, previous = feeds[vendor_id], baselines.get(vendor_id)
        if previous is None or not isinstance(feed, VendorFeed):
            continue
        drift = measure_drift(previous, measured)
        if drift.drifted:
            guarded[vendor_id] = refuse_drifted(vendor_id, feed, drift)
    return guarded


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


def measure_drift(previous: FeedBaseline, current: FeedBaseline) -> Drift:
    """Both measures: the SKUs present in both feeds (a join on ``sku``), and those of them
    in stock before and not now."""
    shared = previous.stock.join(
        current.stock, on="sku", how="inner", suffix="_now", nulls_equal=True
    )
    flipped = shared.filter(pl.col("in_stock") & ~pl.col("in_stock_now")).height
    return Drift(
        previous_accepted=previous.accepted,
        accepted=current.accepted,
        shared_skus=shared.height,
        flipped_out_of_stock=flipped,
    )


def drift_finding(vendor_id: str, drift: Drift) -> Finding:
    """The feed-level ``errors.json`` item naming the drift."""
    return Finding.feed_level(vendor_id, DRIFT_CODE, drift.message(), value=drift.value())


def refuse_drifted(vendor_id: str, feed: VendorFeed, drift: Drift) -> VendorFeed:
    """The feed as failed with ``feed_drift``: its counts and findings stay, its rows go."""
    report = feed.report.model_copy(
        update={
            "status": "failed",
            "failure_code": DRIFT_CODE,
            "errors": [drift_finding(vendor_id, drift), *feed.report.errors],
        }
    )
    return replace(feed, report=report, offers=None)
