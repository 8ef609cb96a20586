"""S3 adapter: one ``ListObjectsV2`` page of a tenant's inbound prefix (with ETags, which the
shared object store's listing does not return), counting the calls it makes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from relay_ingest.domain.drops import BucketObject
from relay_shared.storage import S3Settings, open_s3_client

#: S3's largest page.
PAGE_SIZE = 1000


@dataclass(frozen=True)
class ListedPage:
    objects: list[BucketObject]
    truncated: bool


class InboundListing:
    """Lists one page per call; ``calls`` counts them (the poll's cost, for the benchmark)."""

    def __init__(self, client: Any, bucket: str, page_size: int = PAGE_SIZE) -> None:
        self._s3 = client
        self.bucket = bucket
        self.page_size = page_size
        self.calls = 0

    async def page(self, prefix: str, start_after: str | None) -> ListedPage:
        args: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix, "MaxKeys": self.page_size}
        if start_after is not None:
            args["StartAfter"] = start_after
        self.calls += 1
        response = await self._s3.list_objects_v2(**args)
        objects = [
            BucketObject(
                key=item["Key"],
                etag=str(item.get("ETag", "")),
                size=int(item["Size"]),
                last_modified=item["LastModified"],
            )
            for item in response.get("Contents", [])
        ]
        return ListedPage(objects, bool(response.get("IsTruncated")))


@asynccontextmanager
async def open_inbound_listing(settings: S3Settings) -> AsyncIterator[InboundListing]:
    async with open_s3_client(settings, read_timeout=30, max_pool_connections=32) as client:
        yield InboundListing(client, settings.bucket)
