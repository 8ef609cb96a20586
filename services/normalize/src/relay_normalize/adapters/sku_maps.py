"""The vendors' SKU maps, read once per object version and kept between feeds.

A map is fetched with one conditional GetObject (``If-None-Match`` with the ETag it was read
at): an unchanged map costs a 304 and no parsing, a changed one is read again. Maps are kept
least recently used first out, within ``cache_bytes`` of frames. A map that cannot be used is
not kept: its bytes go to the engine, which fails the feed naming the problem, every time.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field

from relay_normalize.domain.clean.sku_map import SkuMap, SkuMapError, parse_sku_map
from relay_shared.errors import NotFoundError, PermanentError
from relay_shared.storage import ObjectStore, ObjectTooLargeError


@dataclass(frozen=True)
class _Kept:
    etag: str
    sku_map: SkuMap
    size: int


@dataclass
class SkuMaps:
    """``fetch`` a map by key; ``max_bytes`` bounds one map file (it is read whole)."""

    store: ObjectStore
    max_bytes: int
    cache_bytes: int
    _kept: OrderedDict[str, _Kept] = field(default_factory=OrderedDict)

    async def fetch(self, key: str) -> SkuMap | bytes | None:
        """The map at ``key``: read (kept or fresh), its bytes when they are not a usable map,
        or None when there is no such object."""
        kept = self._kept.get(key)
        try:
            fetched = await self.store.get_bytes_if_changed(
                key, None if kept is None else kept.etag, self.max_bytes
            )
        except NotFoundError:
            self._kept.pop(key, None)
            return None
        except ObjectTooLargeError as exc:
            self._kept.pop(key, None)
            raise PermanentError(
                f"the SKU map cannot be read: it is larger than {exc.max_bytes} bytes",
                code="sku_map_unavailable",
            ) from exc
        if fetched is None:  # not modified since it was kept
            self._kept.move_to_end(key)
            return None if kept is None else kept.sku_map
        raw, etag = fetched
        try:
            sku_map = await asyncio.to_thread(parse_sku_map, raw)
        except SkuMapError:
            self._kept.pop(key, None)
            return raw
        self._keep(key, _Kept(etag, sku_map, int(sku_map.frame.estimated_size())))
        return sku_map

    def _keep(self, key: str, kept: _Kept) -> None:
        self._kept.pop(key, None)
        if kept.size > self.cache_bytes:
            return
        self._kept[key] = kept
        while sum(entry.size for entry in self._kept.values()) > self.cache_bytes:
            self._kept.popitem(last=False)
