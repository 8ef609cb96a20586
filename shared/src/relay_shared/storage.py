"""The object store (S3 API through aiobotocore): one bucket, prefixes per tenant.

The bucket gets default server-side encryption and a 30-day lifecycle on the seed's retained
prefixes when a service starts (:meth:`ObjectStore.ensure_bucket`).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import os
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from aiobotocore.session import get_session
from botocore.config import Config
from botocore.exceptions import ClientError

from relay_shared.errors import NotFoundError
from relay_shared.keys import RETAINED_PREFIXES
from relay_shared.s3_transfers import (
    PartBuffer,
    PartUploads,
    Span,
    byte_ranges,
    download_ranges,
)

MULTIPART_CHUNK = 8 * 1024 * 1024
DOWNLOAD_CHUNK = 1024 * 1024
#: A download's ranges (the first one's GET also tells the object's size).
DOWNLOAD_PART = 8 * 1024 * 1024
MAX_FILE_BYTES = 5 * 1024**4  # S3's own limit for one object
RETENTION_DAYS = 30
RETENTION_TAG = "relay-retention"


@dataclass(frozen=True)
class S3Settings:
    bucket: str
    region: str = "us-east-1"
    endpoint_url: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    last_modified: datetime


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    sha256: str


class ObjectStore:
    """Async S3 operations on one bucket. Build it with :func:`open_object_store`."""

    def __init__(self, client: Any, bucket: str) -> None:
        self._s3 = client
        self.bucket = bucket

    async def put_bytes(self, key: str, data: bytes, content_type: str = "text/csv") -> None:
        await self._s3.put_object(
            Bucket=self.bucket, Key=key, Body=data, ContentType=content_type, **_tagging_args(key)
        )

    async def _get_object(self, key: str, **arguments: str) -> Any:
        """The GetObject response; ``NotFoundError`` when there is no such object."""
        try:
            return await self._s3.get_object(Bucket=self.bucket, Key=key, **arguments)
        except ClientError as exc:
            if _is_missing(exc):
                raise NotFoundError(f"no object at {key}", key=key) from exc
            raise

    async def get_bytes(self, key: str) -> bytes:
        response = await self._get_object(key)
        async with response["Body"] as stream:
            data: bytes = await stream.read()
        return data

    async def get_range(self, key: str, offset: int, length: int) -> bytes:
        """``length`` bytes of the object from ``offset`` (one ranged GET);
        ``NotFoundError`` when there is no such object."""
        try:
            response = await self._s3.get_object(
                Bucket=self.bucket, Key=key, Range=f"bytes={offset}-{offset + length - 1}"
            )
        except ClientError as exc:
            if _is_missing(exc):
                raise NotFoundError(f"no object at {key}", key=key) from exc
            raise
        async with response["Body"] as stream:
            data: bytes = await stream.read()
        return data

    async def download(self, key: str, target: Path) -> int:
        """Writes the object into the file ``target`` as it arrives, 1 MiB at a time (never
        whole in memory); returns its size. ``NotFoundError`` when there is none.

        One ranged GET asks for the first :data:`DOWNLOAD_PART` bytes and learns the size; a
        larger object's other ranges are fetched several at once (``PARTS_IN_FLIGHT`` of
        :mod:`.s3_transfers`), each only if the object still has the first one's ETag, and
        written at their offsets. Each byte is transferred once."""
        try:
            response = await self._get_object(key, Range=f"bytes=0-{DOWNLOAD_PART - 1}")
        except ClientError as exc:
            if _error_code(exc) != "InvalidRange":
                raise
            response = await self._get_object(key)  # an empty object has no byte 0
        size = _object_size(response)
        first_last = int(response["ContentLength"]) - 1
        spans: list[Span] = [(0, first_last, lambda: _chunks_of(response))]
        spans += [
            (first, last, functools.partial(self._range_chunks, key, first, last, response["ETag"]))
            for first, last in byte_ranges(size, DOWNLOAD_PART)
            if first > first_last
        ]
        try:
            await download_ranges(target, size, spans)
        finally:
            response["Body"].close()  # already closed unless the download failed before it
        return size

    @asynccontextmanager
    async def _range_chunks(
        self, key: str, first: int, last: int, etag: str
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        response = await self._get_object(key, Range=f"bytes={first}-{last}", IfMatch=etag)
        async with _chunks_of(response) as chunks:
            yield chunks

    async def put_file(self, key: str, source: Path, content_type: str) -> StoredObject:
        """Uploads the file ``source`` read a part at a time (:meth:`put_stream`); the file is
        closed however the upload ends.

        A file that fits in one part (:data:`MULTIPART_CHUNK`) goes up in one PUT, as boto3's
        transfer manager does below its threshold: a multipart upload of a single part costs
        two more requests, and the server copies the part once more to complete it."""
        whole = await asyncio.to_thread(_small_file, source, MULTIPART_CHUNK)
        if whole is not None:
            data, digest = whole
            await self.put_bytes(key, data, content_type)
            return StoredObject(key=key, size=len(data), sha256=digest)

        async def chunks() -> AsyncGenerator[bytes, None]:
            with source.open("rb") as handle:
                while chunk := await asyncio.to_thread(handle.read, MULTIPART_CHUNK):
                    yield chunk

        async with aclosing(chunks()) as parts:
            return await self.put_stream(key, parts, content_type, max_bytes=MAX_FILE_BYTES)

    async def exists(self, key: str) -> bool:
        try:
            await self._s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _is_missing(exc):
                return False
            raise
        return True

    async def list_objects(self, prefix: str) -> list[ObjectInfo]:
        paginator = self._s3.get_paginator("list_objects_v2")
        found: list[ObjectInfo] = []
        async for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                found.append(ObjectInfo(item["Key"], int(item["Size"]), item["LastModified"]))
        return found

    async def put_stream(
        self, key: str, chunks: AsyncIterator[bytes], content_type: str, max_bytes: int
    ) -> StoredObject:
        """Stream ``chunks`` to ``key`` (multipart), hashing on the way; nothing is left
        behind if the stream fails or exceeds ``max_bytes`` (:class:`UploadTooLargeError`)."""
        upload = await self._s3.create_multipart_upload(
            Bucket=self.bucket, Key=key, ContentType=content_type, **_tagging_args(key)
        )
        upload_id = upload["UploadId"]
        digest = hashlib.sha256()
        parts = PartUploads(functools.partial(self._upload_part, key, upload_id))
        size = 0
        buffer = PartBuffer()
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise UploadTooLargeError(max_bytes)
                digest.update(chunk)
                buffer.append(chunk)
                if buffer.size >= MULTIPART_CHUNK:
                    await parts.add(buffer.take())  # waits while PARTS_IN_FLIGHT are uploading
            if buffer.size or size == 0:
                await parts.add(buffer.take())
            await self._s3.complete_multipart_upload(
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": await parts.finish()},
            )
        except BaseException:  # any exit, cancellation included: clean up, re-raise
            await parts.cancel()
            await self._s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            raise
        return StoredObject(key=key, size=size, sha256=digest.hexdigest())

    async def _upload_part(
        self, key: str, upload_id: str, number: int, data: bytes
    ) -> dict[str, Any]:
        response = await self._s3.upload_part(
            Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data
        )
        return {"ETag": response["ETag"], "PartNumber": number}

    async def presigned_get_url(self, key: str, expires_s: int) -> str:
        url: str = await self._s3.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_s
        )
        return url

    async def ensure_bucket(self) -> None:
        """Create the bucket if needed; set default encryption and the retention lifecycle."""
        try:
            await self._s3.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            if not _is_missing(exc):
                raise
            await self._s3.create_bucket(Bucket=self.bucket)
        await self._s3.put_bucket_encryption(
            Bucket=self.bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        )
        await self._s3.put_bucket_lifecycle_configuration(
            Bucket=self.bucket, LifecycleConfiguration=retention_lifecycle()
        )

    async def ping(self) -> None:
        await self._s3.head_bucket(Bucket=self.bucket)

    async def get_bytes_if_changed(
        self, key: str, etag: str | None, max_bytes: int
    ) -> tuple[bytes, str] | None:
        """The object's bytes and ETag, or None when its ETag is still ``etag`` (one
        conditional GetObject: nothing is transferred then). ``NotFoundError`` when there is
        none; :class:`ObjectTooLargeError` (before reading) when it is over ``max_bytes``."""
        arguments = {} if etag is None else {"IfNoneMatch": etag}
        try:
            response = await self._s3.get_object(Bucket=self.bucket, Key=key, **arguments)
        except ClientError as exc:
            if _is_missing(exc):
                raise NotFoundError(f"no object at {key}", key=key) from exc
            if _is_not_modified(exc):
                return None
            raise
        async with response["Body"] as stream:
            if response["ContentLength"] > max_bytes:
                raise ObjectTooLargeError(key, response["ContentLength"], max_bytes)
            data: bytes = await stream.read()
        return data, str(response["ETag"])


class ObjectTooLargeError(ValueError):
    def __init__(self, key: str, size: int, max_bytes: int) -> None:
        super().__init__(f"{key} has {size} bytes, more than {max_bytes}")
        self.key = key
        self.max_bytes = max_bytes


class UploadTooLargeError(ValueError):
    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"upload exceeds {max_bytes} bytes")
        self.max_bytes = max_bytes


def _small_file(source: Path, limit: int) -> tuple[bytes, str] | None:
    """The file's bytes and SHA-256 when it holds at most ``limit`` bytes; None for a larger
    one (nothing of it read: its size says so, or, had it grown since, ``limit + 1`` bytes)."""
    with source.open("rb") as handle:
        if os.fstat(handle.fileno()).st_size > limit:
            return None
        data = handle.read(limit + 1)
    if len(data) > limit:
        return None
    return data, hashlib.sha256(data).hexdigest()


def retention_lifecycle() -> dict[str, Any]:
    """Expire retained objects after 30 days.

    A lifecycle prefix cannot wildcard the tenant (``tenants/*/inbound/``), so objects under
    the retained prefixes are tagged on write (:func:`retention_tagging`) and the rule filters
    on that tag; tenant config objects are not tagged and never expire.
    """
    return {
        "Rules": [
            {
                "ID": "expire-retained-artifacts",
                "Status": "Enabled",
                "Filter": {"Tag": {"Key": RETENTION_TAG, "Value": f"{RETENTION_DAYS}d"}},
                "Expiration": {"Days": RETENTION_DAYS},
            }
        ]
    }


def retention_tagging(key: str) -> str | None:
    """The tag set for ``key``: retained prefixes (``tenants/{t}/inbound/...``) expire."""
    parts = key.split("/", 3)
    if len(parts) == 4 and parts[0] == "tenants" and parts[2] in RETAINED_PREFIXES:
        return f"{RETENTION_TAG}={RETENTION_DAYS}d"
    return None


def _tagging_args(key: str) -> dict[str, str]:
    tagging = retention_tagging(key)
    return {} if tagging is None else {"Tagging": tagging}


def _is_not_modified(exc: ClientError) -> bool:
    code = str(exc.response.get("Error", {}).get("Code", ""))
    return code in {"304", "NotModified"}


def _is_missing(exc: ClientError) -> bool:
    return _error_code(exc) in {"404", "NoSuchKey", "NoSuchBucket", "NotFound"}


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _object_size(response: Mapping[str, Any]) -> int:
    """The whole object's size from a GetObject response: a ranged one's ``Content-Range``
    (``bytes 0-8388607/26118121``), else its length."""
    content_range = response.get("ContentRange")
    if content_range:
        return int(str(content_range).rpartition("/")[2])
    return int(response["ContentLength"])


@asynccontextmanager
async def _chunks_of(response: Mapping[str, Any]) -> AsyncIterator[AsyncIterator[bytes]]:
    """A GetObject response's body as chunks of :data:`DOWNLOAD_CHUNK` bytes (closed after)."""
    async with response["Body"] as stream:
        yield stream.iter_chunks(DOWNLOAD_CHUNK)


@asynccontextmanager
async def open_s3_client(
    settings: S3Settings, *, read_timeout: int, max_pool_connections: int = 10
) -> AsyncIterator[Any]:
    """An aiobotocore S3 client: path-style addressing, standard retries (3 attempts).

    Bodies are sent as ``UNSIGNED-PAYLOAD`` with their CRC32 checksum header (botocore's
    default), as botocore already does over HTTPS: over plain HTTP (the embedded stack's moto,
    a local MinIO) it would otherwise SHA-256 every uploaded byte for the signature, about 8 %
    of normalize's CPU on the service bench. The checksum still guards the bytes in transit;
    the headers and the request stay signed."""
    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path", "payload_signing_enabled": False},
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=5,
        read_timeout=read_timeout,
        max_pool_connections=max_pool_connections,
    )
    async with get_session().create_client(
        "s3",
        region_name=settings.region,
        endpoint_url=settings.endpoint_url,
        aws_access_key_id=settings.access_key_id,
        aws_secret_access_key=settings.secret_access_key,
        config=config,
    ) as client:
        yield client


@asynccontextmanager
async def open_object_store(settings: S3Settings) -> AsyncIterator[ObjectStore]:
    async with open_s3_client(settings, read_timeout=60) as client:
        yield ObjectStore(client, settings.bucket)
