"""The listing facts (price, MAP, merged quantity) of the tenant's latest merged feed, read
through its claim check (the key ``offers.merged`` carried) with :mod:`relay_shared.merged_feed`.
A feed never changes once written, so the last few read are kept in memory by key."""

from __future__ import annotations

from collections import OrderedDict
from decimal import Decimal

from relay_channels.domain.changes import ListingFacts
from relay_shared import keys
from relay_shared.errors import PermanentError
from relay_shared.merged_feed import MergedFeedError, read_merged_feed
from relay_shared.storage import ObjectStore

COLUMNS = ("sku", "quantity_available", "price", "map_price")
CACHED_FEEDS = 4


class MergedFeeds:
    def __init__(self, store: ObjectStore) -> None:
        self._store = store
        self._cache: OrderedDict[str, dict[str, ListingFacts]] = OrderedDict()

    async def facts(self, tenant_id: str, merged_key: str, sku: str) -> ListingFacts | None:
        key = keys.tenant_key(tenant_id, merged_key)
        feed = self._cache.get(key)
        if feed is None:
            feed = await self._read(key)
            self._cache[key] = feed
            while len(self._cache) > CACHED_FEEDS:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return feed.get(sku)

    async def _read(self, key: str) -> dict[str, ListingFacts]:
        data = await self._store.get_bytes(key)
        try:
            feed = read_merged_feed(data, COLUMNS)
        except MergedFeedError as exc:
            raise PermanentError(str(exc), code="invalid_merged_feed", key=key) from exc
        found: dict[str, ListingFacts] = {}
        for row in feed.rows:
            sku, quantity = row.get("sku"), row.get("quantity_available")
            if isinstance(sku, str) and isinstance(quantity, int):
                found[sku] = ListingFacts(
                    sku, quantity, _money(row.get("price")), _money(row.get("map_price"))
                )
        return found


def _money(value: object) -> Decimal | None:
    return value if isinstance(value, Decimal) else None
