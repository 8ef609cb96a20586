"""Merging the vendors' normalized offers into one offer per SKU (spec "Merge").

Input is each usable vendor's typed offers frame (:data:`NORMALIZED_COLUMNS`, or at least
:func:`merge_columns`; quantities, lead times and money in cents as Int64): normalize's own
frame (``relay local-run``) or the one read from its stored CSV (the services). Offers without
cost are not eligible; a SKU without an eligible offer is left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from relay_shared.tenant_config import MergeConfig, SortKey
from relay_shared.tenant_config.models import NORMALIZED_COLUMNS

_STOCKLESS = "__stockless"
_RANK = "__priority"
_VENDOR_RANK = "__vendor_rank"
_WIDEST = 2**62


@dataclass(frozen=True, slots=True)
class VendorOffers:
    """One vendor's typed offers and its landed-cost surcharge in cents."""

    vendor_id: str
    offers: pl.DataFrame
    shipping_handling_cents: int


@dataclass(frozen=True, slots=True)
class Merged:
    """The chosen offer per SKU (sorted by SKU, money in cents, ``landed`` added)."""

    offers: pl.DataFrame
    skus_left_out: list[str]
    #: every offer with its decision keys (``merge_offers(..., keep_ranked=True)``)
    ranked: RankedOffers | None = None


@dataclass(frozen=True, slots=True)
class RankedOffers:
    """Every vendor's offer with its decision keys (those with a cost first) and, for each
    row of the merged offers in order, the position of its winning offer in ``offers``."""

    offers: pl.DataFrame
    winners: pl.Series


REQUIRED = ("sku", "vendor_id", "quantity_available", "lead_time_days", "cost", "map_price")


def merge_columns(columns: Sequence[str] = NORMALIZED_COLUMNS) -> list[str]:
    """The normalized columns the merge reads for an output of ``columns``: those and the
    ones it decides on, in :data:`NORMALIZED_COLUMNS` order (the others need not be read)."""
    return [name for name in NORMALIZED_COLUMNS if name in columns or name in REQUIRED]


def typed_offers(offers: VendorOffers, columns: Sequence[str] = NORMALIZED_COLUMNS) -> pl.DataFrame:
    """One vendor's offers, only :func:`merge_columns`, and its surcharge."""
    return offers.offers.select(merge_columns(columns)).with_columns(
        pl.lit(offers.shipping_handling_cents, pl.Int64).alias("__shipping")
    )


_KEY_COLUMNS: dict[SortKey, str] = {
    "in_stock_desc": _STOCKLESS,
    "lowest_landed_cost": "landed",
    "shortest_lead_time": "lead_time_days",
    "vendor_priority": _RANK,
}
VENDOR_ID_ORDER = "vendor_id_order"


def decision_keys(merge: MergeConfig) -> list[tuple[str, str]]:
    """The merge's keys in order, each as (name, column of the ranked offers); all
    ascending, nulls last; the last one, ``vendor_id_order``, breaks every tie."""
    if merge.strategy == "priority":
        named: list[tuple[str, str]] = [("in_stock_desc", _STOCKLESS), ("vendor_priority", _RANK)]
    else:
        named = [(key, _KEY_COLUMNS[key]) for key in merge.best_offer.sort_by]
    return [*named, (VENDOR_ID_ORDER, _VENDOR_RANK)]


def _bound(frame: pl.DataFrame, name: str) -> int | None:
    """One past the column's maximum (its null stand-in), or None when it has negatives."""
    column = pl.col(name).cast(pl.Int64)
    low, high = frame.select(column.min().alias("low"), column.max().alias("high")).row(0)
    if low is not None and low < 0:
        return None
    return (high if high is not None else 0) + 1


def _packed_key(frame: pl.DataFrame, names: Sequence[str]) -> tuple[pl.Expr, int] | None:
    """All sort keys packed into one Int64 (nulls after the maximum) and the number of
    values it can take, or None if too wide.

    One integer sort gives the order of the multi-column sort, much faster.
    """
    key = pl.lit(0, pl.Int64)
    width = 1
    for name in names:
        bound = _bound(frame, name)
        if bound is None:
            return None
        width *= bound + 1
        if width >= _WIDEST:
            return None
        key = key * (bound + 1) + pl.col(name).cast(pl.Int64).fill_null(bound)
    return key, width


def _vendor_frames(
    vendors: Sequence[VendorOffers], columns: Sequence[str], merge: MergeConfig
) -> list[pl.DataFrame]:
    """Each vendor's typed offers with its two constant ranks: its position in
    ``merge.priority`` (after every listed vendor when not listed) and in vendor_id order."""
    priority = {vendor_id: position for position, vendor_id in enumerate(merge.priority)}
    by_id = {vendor_id: i for i, vendor_id in enumerate(sorted(v.vendor_id for v in vendors))}
    return [
        typed_offers(vendor, columns).with_columns(
            pl.lit(priority.get(vendor.vendor_id, len(priority)), pl.Int64).alias(_RANK),
            pl.lit(by_id[vendor.vendor_id], pl.Int64).alias(_VENDOR_RANK),
        )
        for vendor in vendors
    ]


def _ranked(offers: pl.DataFrame, merge: MergeConfig) -> pl.DataFrame:
    """Adds the other key columns: landed cost and the stockless flag."""
    include = merge.best_offer.landed_cost.include_shipping_handling
    return offers.with_columns(
        (pl.col("cost") + pl.col("__shipping") if include else pl.col("cost")).alias("landed"),
        (pl.col("quantity_available") <= 0).alias(_STOCKLESS),
    )


def _winner_positions(eligible: pl.DataFrame, names: Sequence[str]) -> pl.Series:
    """Row positions of each SKU's first offer by ``names``, in SKU order.

    With a packed key that also holds the row position (so equal keys go to the first row),
    each SKU's winner is the minimum of one integer: a hash group-by, run on the streaming
    engine (several times faster for a String key); sorting only the winners by SKU
    (single-threaded: faster for one string column) avoids sorting every offer.
    """
    packed = _packed_key(eligible, names)
    height = eligible.height
    if packed is None or packed[1] * height >= _WIDEST:
        ranked = eligible.with_row_index("__i").sort(names, nulls_last=True, maintain_order=True)
        firsts = ranked.unique(subset="sku", keep="first", maintain_order=True).select("sku", "__i")
        return firsts.sort("sku", multithreaded=False).get_column("__i")
    position = pl.int_range(0, pl.len(), dtype=pl.Int64)
    firsts = (
        eligible.lazy()
        .select("sku", (packed[0] * height + position).alias("__k"))
        .group_by("sku")
        .agg(pl.col("__k").min())
        .collect(engine="streaming")
    )
    return firsts.sort("sku", multithreaded=False).select(pl.col("__k") % height).to_series()


def _choose(
    offers: pl.DataFrame, merge: MergeConfig
) -> tuple[pl.DataFrame, pl.DataFrame, pl.Series]:
    """The first eligible offer per SKU by the strategy's keys then vendor_id, sorted by SKU;
    the eligible offers and the position of each SKU's winner among them."""
    names = [column for _, column in decision_keys(merge)]
    eligible = offers.filter(pl.col("cost").is_not_null())
    positions = _winner_positions(eligible, names)
    # one chunk: gathering rows scattered over several chunks is several times slower (and
    # only the columns the output needs: the key columns have served)
    kept = eligible.select(pl.exclude(_STOCKLESS, _RANK, _VENDOR_RANK, "__shipping")).rechunk()
    chosen = kept.select(pl.all().gather(positions))
    if merge.quantity_policy == "sum_in_stock":
        stock = (
            eligible.lazy()
            .filter(pl.col("quantity_available") > 0)
            .group_by("sku")
            .agg(pl.col("quantity_available").sum().alias("__stock"))
            .collect(engine="streaming")
        )
        chosen = chosen.join(stock, on="sku", how="left", maintain_order="left").with_columns(
            pl.col("__stock").fill_null(0).alias("quantity_available")
        )
    fallback = merge.best_offer.fallback_lead_time_days
    if fallback is not None:
        chosen = chosen.with_columns(pl.col("lead_time_days").fill_null(fallback))
    return chosen, eligible, positions


def merge_offers(
    vendors: Sequence[VendorOffers],
    merge: MergeConfig,
    columns: Sequence[str] = NORMALIZED_COLUMNS,
    *,
    keep_ranked: bool = False,
) -> Merged:
    """The winning offer per SKU, its quantity per ``quantity_policy``, and the left-out SKUs.

    ``columns`` names the normalized columns the output needs (the rest are not read). With
    ``keep_ranked`` the result also holds every offer with its decision keys (for explain).
    """
    if not vendors:
        return Merged(pl.DataFrame(), [])
    offers = _ranked(pl.concat(_vendor_frames(vendors, columns, merge), rechunk=False), merge)
    chosen, eligible, positions = _choose(offers, merge)
    left_out = (
        offers.filter(pl.col("cost").is_null())
        .select("sku")
        .unique()
        .join(chosen.select("sku"), on="sku", how="anti")
        .sort("sku", multithreaded=False)
    )
    ranked = None
    if keep_ranked:
        without_cost = offers.filter(pl.col("cost").is_null())
        ranked = RankedOffers(pl.concat([eligible, without_cost], rechunk=True), positions)
    return Merged(chosen, left_out.get_column("sku").to_list(), ranked)
