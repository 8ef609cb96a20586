"""What each event changes in the sheets, as row changes (pure).

Idempotency lives in the workbook itself: an order line is applied to Listings only when its
(order_id, sku) row is not yet in Orders, and both are written in one atomic save; an insight
row is only moved forward in time (``since``), so a replayed or late event changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from relay_shared.channel_config import AllocationConfig
from relay_shared.events import InsightGenerated, OrderShipped, ReallocationChanged
from relay_shared.merged_feed import MergedFeed
from relay_sheets.domain.grid import Cell, RowChange, iso, key_text
from relay_sheets.domain.merged_feed import sheet_row

Row = Mapping[str, Cell]


def merged_feed_changes(feed: MergedFeed) -> list[RowChange]:
    return [
        RowChange(key=(key_text(row["sku"]),), values={k: v for k, v in row.items() if k != "sku"})
        for row in map(sheet_row, feed.rows)
        if key_text(row["sku"])
    ]


def feed_summary_changes(rows: int, run_id: str, as_of: datetime, limit: int) -> list[RowChange]:
    """The root's Summary rows for a merged feed longer than ``limit`` rows (a spreadsheet
    cannot hold it: Google's 10,000,000 cells, xlsx's 1,048,576 rows, and a sheet that long
    is of no use to a person). The "Merged feed" tab keeps the last feed that fit; the full
    feed is the run's artifact."""
    text = (
        f"the merged feed of run {run_id} has {rows:,} rows, above the {limit:,} this"
        " spreadsheet takes: the Merged feed tab shows the last feed that fit, channel Listings"
        f" updated the skus they list; download the full feed from GET /v1/runs/{run_id}/artifacts"
    )
    values: dict[str, Cell] = {
        "status": text,
        "run_id": run_id,
        "rows": rows,
        "limit": limit,
        "as_of": iso(as_of),
    }
    return [RowChange((field,), {"value": value}) for field, value in values.items()]


def listing_changes(
    feed: MergedFeed, allocation: AllocationConfig, as_of: datetime, *, append: bool = True
) -> list[RowChange]:
    """Listings after a merged feed: quantity (the channel's allocation), and title and price
    when the feed has them; a new sku is appended as active, listed ``as_of`` (unless
    ``append`` is False: a feed too long for a sheet only updates the skus it lists)."""
    changes = []
    for row in map(sheet_row, feed.rows):
        merged_qty = row["quantity_available"]
        values: dict[str, Cell] = {
            "quantity": allocation.channel_quantity(
                merged_qty if isinstance(merged_qty, int) else 0
            )
        }
        for column in ("title", "price"):
            if row.get(column) is not None:
                values[column] = row[column]
        changes.append(
            RowChange(
                key=(key_text(row["sku"]),),
                values=values,
                insert_values={"status": "active", "listed_date": iso(as_of)},
                append=append,
            )
        )
    return changes


def order_changes(
    event: OrderShipped, orders: Sequence[Row], listings: Sequence[Row]
) -> tuple[list[RowChange], list[RowChange]]:
    """(Orders rows to append, Listings rows to update) for the order's lines not yet in
    Orders. Quantities never go below 0; a sku not in Listings only gets its Orders row."""
    recorded = {(key_text(r.get("order_id")), key_text(r.get("sku"))) for r in orders}
    listed = {key_text(r.get("sku")): r for r in listings if key_text(r.get("sku"))}
    return order_changes_by_key(event, lambda key: key in recorded, listed.get)


def order_changes_by_key(
    event: OrderShipped,
    is_recorded: Callable[[tuple[str, str]], bool],
    listing_of: Callable[[str], Row | None],
) -> tuple[list[RowChange], list[RowChange]]:
    """:func:`order_changes` with keyed lookups: whether (order_id, sku) is in Orders, and
    the Listings row of a sku."""
    totals: dict[str, int] = {}
    for item in event.items:
        totals[item.sku] = totals.get(item.sku, 0) + item.quantity
    shipped = iso(event.shipped_at)
    new_orders, new_listings = [], []
    for sku, quantity in totals.items():
        if is_recorded((event.order_id, sku)):
            continue
        new_orders.append(
            RowChange((event.order_id, sku), {"quantity": quantity, "shipped_at": shipped})
        )
        listing = listing_of(sku)
        if listing is not None:
            new_listings.append(RowChange((sku,), _sold(listing, quantity, shipped), append=False))
    return new_orders, new_listings


def _sold(listing: Row, quantity: int, shipped: str | None) -> dict[str, Cell]:
    values: dict[str, Cell] = {}
    current = listing.get("quantity")
    if isinstance(current, int | float):
        values["quantity"] = max(0, int(current) - quantity)
    last = listing.get("last_sold_at")
    if not isinstance(last, str) or shipped is None or last < shipped:
        values["last_sold_at"] = shipped
    return values


def insight_change(event: InsightGenerated, insights: Sequence[Row]) -> RowChange | None:
    """The Insights row of (kind, sku) moved to the event's status, unless the row already
    shows a later state (a newer ``since``, or the same ``since`` already resolved)."""
    key = (event.kind, event.sku)
    shown = next(
        (r for r in insights if (key_text(r.get("kind")), key_text(r.get("sku"))) == key), None
    )
    return insight_change_for(event, shown)


def insight_change_for(event: InsightGenerated, shown: Row | None) -> RowChange | None:
    """:func:`insight_change` given the row (kind, sku) has now, if any."""
    since = iso(event.since)
    if shown is not None and _shows_later(shown, since):
        return None
    detail = json.dumps(event.detail, sort_keys=True)
    return RowChange(
        (event.kind, event.sku), {"status": event.status, "since": since, "detail": detail}
    )


def _shows_later(row: Row, since: str | None) -> bool:
    shown = row.get("since")
    if not isinstance(shown, str) or since is None:
        return False
    return shown > since or (shown == since and row.get("status") == "resolved")


def reallocation_change(event: ReallocationChanged, shown: Row | None) -> RowChange | None:
    """The Reallocation row of the entry moved to the event's state, unless the row already
    shows a later change (``updated_at``, the event's time)."""
    updated = iso(event.occurred_at)
    current = None if shown is None else shown.get("updated_at")
    if isinstance(current, str) and updated is not None and current > updated:
        return None
    values: dict[str, Cell] = {
        "origin": event.origin,
        "target": event.target,
        "sku": event.sku,
        "quantity": event.quantity,
        "reason": event.reason,
        "state": event.state,
        "claimed_by": event.claimed_by,
        "updated_at": updated,
    }
    return RowChange((event.entry_id,), values)
