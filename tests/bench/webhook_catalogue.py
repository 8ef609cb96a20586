"""The webhook bench's catalogue, shaped like a merchant's: each tenant lists ``LISTED`` skus
on amazon (a quarter of them with 3 units, so they sell out during the load and insights
opens and announces insights on them, the rest with 12, 40 or 250), and its orders sell one
or two of those skus, one or two units each; one order in ``UNLISTED_EVERY`` also names a sku
the channel does not list (recorded with its problem, as insights does for a real one)."""

from __future__ import annotations

LISTED = 500
UNLISTED_EVERY = 50
_QUANTITIES = (3, 12, 40, 250)


def listings_csv() -> bytes:
    """The tenant's amazon listings (the gateway's listings upload: CSV)."""
    rows = ["sku,title,quantity,status,listed_date"]
    for n in range(LISTED):
        listed = f"2026-{1 + n % 10:02d}-{1 + n % 28:02d}"
        rows.append(f"SKU-{n:05d},Oak side table {n},{_QUANTITIES[n % 4]},active,{listed}")
    return ("\n".join(rows) + "\n").encode()


def order_items(index: int) -> list[dict[str, object]]:
    """The items of the bench's ``index``-th order (spread over the listed skus)."""
    first = (index * 7919) % LISTED
    items: list[dict[str, object]] = [{"sku": f"SKU-{first:05d}", "quantity": 1 + index % 2}]
    if index % 3 == 0:
        items.append({"sku": f"SKU-{(first + 1) % LISTED:05d}", "quantity": 1})
    if index % UNLISTED_EVERY == 0:
        items.append({"sku": f"GONE-{index:07d}", "quantity": 1})
    return items
