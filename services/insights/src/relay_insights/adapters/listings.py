"""Setting a channel's products from its listings (inside a tenant's unit).

The rows are copied into a temporary table, then existing products are updated (title,
quantity, status; listed_date when the file gives one) and missing ones inserted (listed
``at`` the import when the file gives no date) — two set-based statements, whatever the size.
Products the file does not name are left as they are.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

from relay_insights.adapters.database import Connection
from relay_shared.listings import Listings


async def import_listings(
    conn: Connection, tenant_id: str, channel: str, listings: Listings, at: datetime
) -> list[str]:
    """Apply ``listings`` to the channel's products; the skus they name."""
    await conn.execute(
        "CREATE TEMPORARY TABLE listing_rows (sku text PRIMARY KEY, title text,"
        " quantity int NOT NULL, status text NOT NULL, listed_date timestamptz) ON COMMIT DROP"
    )
    await conn.copy_records_to_table(
        "listing_rows",
        records=[
            (
                item.sku,
                item.title or None,
                item.quantity,
                item.status,
                None
                if item.listed_date is None
                else datetime.combine(item.listed_date, time(), UTC),
            )
            for item in listings
        ],
    )
    await conn.execute(
        "UPDATE products AS p SET title = COALESCE(l.title, p.title), quantity = l.quantity,"
        " status = l.status, listed_date = COALESCE(l.listed_date, p.listed_date),"
        " updated_at = $3 FROM listing_rows AS l"
        " WHERE p.tenant_id = $1 AND p.channel = $2 AND p.sku = l.sku",
        tenant_id,
        channel,
        at,
    )
    await conn.execute(
        "INSERT INTO products (tenant_id, channel, sku, title, price, quantity, status,"
        " listed_date, last_sold_at, updated_at) SELECT $1, $2, l.sku, l.title, NULL,"
        " l.quantity, l.status, COALESCE(l.listed_date, $3), NULL, $3 FROM listing_rows AS l"
        " ON CONFLICT (tenant_id, channel, sku) DO NOTHING",
        tenant_id,
        channel,
        at,
    )
    await conn.execute("DROP TABLE listing_rows")
    return [item.sku for item in listings]
