"""S3 adapter: a pulled file streamed into the bucket (multipart, never whole in memory),
refused past a size limit with nothing left behind, and its ETag read back (a pulled file is
recorded like a bucket drop, by key and ETag)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

from relay_shared.storage import ObjectStore, UploadTooLargeError


class TooLargeError(ValueError):
    """The file passed the size limit while it was streamed."""


@dataclass(frozen=True)
class StoredFile:
    size: int
    etag: str


class PullSink(Protocol):
    async def put(
        self, key: str, chunks: AsyncIterator[bytes], content_type: str, max_bytes: int
    ) -> StoredFile: ...


class BucketSink:
    """Stores pulled files with the S3 client ``client`` in ``bucket``."""

    def __init__(self, client: Any, bucket: str) -> None:
        self._s3 = client
        self._store = ObjectStore(client, bucket)
        self.bucket = bucket

    async def put(
        self, key: str, chunks: AsyncIterator[bytes], content_type: str, max_bytes: int
    ) -> StoredFile:
        try:
            stored = await self._store.put_stream(
                key, chunks, content_type or "application/octet-stream", max_bytes
            )
        except UploadTooLargeError as exc:
            raise TooLargeError(str(exc)) from exc
        head = await self._s3.head_object(Bucket=self.bucket, Key=key)
        return StoredFile(stored.size, str(head["ETag"]))
