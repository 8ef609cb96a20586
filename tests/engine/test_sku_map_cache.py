"""Normalize keeps the SKU maps it read, by key and ETag, against the real S3 server: an
unchanged map is one conditional GetObject answered 304 (not transferred, not parsed), a
rewritten one is read again, an unusable one is never kept."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

import pytest

from relay_normalize.adapters.sku_maps import SkuMaps
from relay_normalize.domain.clean.sku_map import SkuMap
from relay_shared.errors import PermanentError
from relay_shared.storage import ObjectStore


@dataclass
class Counting:
    """The real store, noting what each conditional read transferred."""

    store: ObjectStore
    answers: list[str] = field(default_factory=list)

    async def get_bytes_if_changed(
        self, key: str, etag: str | None, max_bytes: int
    ) -> tuple[bytes, str] | None:
        fetched = await self.store.get_bytes_if_changed(key, etag, max_bytes)
        self.answers.append("not modified" if fetched is None else f"{len(fetched[0])} bytes")
        return fetched


async def test_a_map_is_read_once_per_version(object_store: ObjectStore, unique_id: str) -> None:
    key = f"tenants/{unique_id}/config/sku_map_v1.csv"
    counting = Counting(object_store)
    maps = SkuMaps(cast(ObjectStore, counting), max_bytes=1 << 20, cache_bytes=1 << 20)
    await object_store.put_bytes(key, b"vendor_sku,sku\nv1,A\nv2,B\n")

    first = await maps.fetch(key)
    second = await maps.fetch(key)
    await object_store.put_bytes(key, b"vendor_sku,sku\nv1,C\n")
    third = await maps.fetch(key)
    await object_store.put_bytes(key, b"vendor_sku,sku\nv1,C\nv1,D\n")
    unusable = await maps.fetch(key)
    again = await maps.fetch(key)

    assert counting.answers == [
        "25 bytes",
        "not modified",
        "20 bytes",
        "25 bytes",
        "25 bytes",  # an unusable map is not kept: read (and refused) every time
    ]
    assert second is first
    assert isinstance(first, SkuMap)
    assert first.as_dict() == {"v1": "A", "v2": "B"}
    assert isinstance(third, SkuMap)
    assert third.as_dict() == {"v1": "C"}
    assert unusable == again == b"vendor_sku,sku\nv1,C\nv1,D\n"


async def test_a_missing_map_is_none_and_an_oversized_one_is_refused_unread(
    object_store: ObjectStore, unique_id: str
) -> None:
    maps = SkuMaps(object_store, max_bytes=10, cache_bytes=1 << 20)
    key = f"tenants/{unique_id}/config/sku_map_v1.csv"
    assert await maps.fetch(key) is None
    await object_store.put_bytes(key, b"vendor_sku,sku\nv1,A\n")
    with pytest.raises(PermanentError, match="larger than 10 bytes") as refused:
        await maps.fetch(key)
    assert refused.value.code == "sku_map_unavailable"


async def test_maps_beyond_the_cache_bytes_are_read_again(
    object_store: ObjectStore, unique_id: str
) -> None:
    counting = Counting(object_store)
    maps = SkuMaps(cast(ObjectStore, counting), max_bytes=1 << 20, cache_bytes=0)
    key = f"tenants/{unique_id}/config/sku_map_v1.csv"
    await object_store.put_bytes(key, b"vendor_sku,sku\nv1,A\n")
    await maps.fetch(key)
    await maps.fetch(key)
    assert counting.answers == ["20 bytes", "20 bytes"]
