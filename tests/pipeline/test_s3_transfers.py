"""Large objects to and from the real S3 server (the embedded moto, or the container stack's):
a multipart upload with several parts in flight and a download in concurrent ranges give the
exact bytes, transfer each byte once, and fail cleanly."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from relay_shared import s3_transfers, storage
from relay_shared.s3_transfers import byte_ranges
from relay_shared.storage import ObjectStore, UploadTooLargeError

PART = 5 * 1024 * 1024  # S3's smallest part


def _data(size: int) -> bytes:
    """Bytes that differ at every offset of a part (a part written at the wrong place shows)."""
    block = hashlib.sha256(b"relay").digest() * 2048  # 64 KiB, not a divisor of a part
    block = block[:-7]
    return (block * (size // len(block) + 1))[:size]


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage, "MULTIPART_CHUNK", PART)
    monkeypatch.setattr(storage, "DOWNLOAD_PART", 3 * 1024 * 1024 + 17)
    monkeypatch.setattr(s3_transfers, "PARTS_IN_FLIGHT", 3)


def _count_in_flight(monkeypatch: pytest.MonkeyPatch, name: str) -> list[int]:
    """Wraps ObjectStore's ``name`` to record how many calls were running at each start;
    returns that list."""
    original = getattr(ObjectStore, name)
    running = 0
    seen: list[int] = []

    async def counted(self: ObjectStore, *args: Any, **kwargs: Any) -> Any:
        nonlocal running
        running += 1
        seen.append(running)
        try:
            result = await original(self, *args, **kwargs)
            await asyncio.sleep(0)  # let the others start before this one ends
            return result
        finally:
            running -= 1

    monkeypatch.setattr(ObjectStore, name, counted)
    return seen


def _count_open_ranges(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Wraps ObjectStore's ``_range_chunks`` (the ranges after the first) to record how many
    were open at each opening; returns that list."""
    original = ObjectStore._range_chunks
    open_now = 0
    seen: list[int] = []

    @asynccontextmanager
    async def counted(self: ObjectStore, *args: Any) -> AsyncIterator[AsyncIterator[bytes]]:
        nonlocal open_now
        open_now += 1
        seen.append(open_now)
        try:
            async with original(self, *args) as chunks:
                await asyncio.sleep(0)
                yield chunks
        finally:
            open_now -= 1

    monkeypatch.setattr(ObjectStore, "_range_chunks", counted)
    return seen


async def test_a_multipart_file_goes_up_with_parts_in_flight_byte_for_byte(
    object_store: ObjectStore,
    tmp_path: Path,
    unique_id: str,
    small_parts: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = _data(5 * PART + 12345)  # six parts, the last short
    source = tmp_path / "up.bin"
    source.write_bytes(data)
    key = f"tenants/{unique_id}/normalized/v1/run/normalized.parquet"
    in_flight = _count_in_flight(monkeypatch, "_upload_part")

    stored = await object_store.put_file(key, source, content_type="application/octet-stream")

    assert len(in_flight) == 6
    assert 2 <= max(in_flight) <= 3  # several at once, never more than PARTS_IN_FLIGHT
    assert (stored.size, stored.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert await object_store.get_bytes(key) == data


async def test_a_stream_of_uneven_chunks_goes_up_in_whole_parts_byte_for_byte(
    object_store: ObjectStore, unique_id: str, small_parts: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an upload's body as the gateway reads it: chunks that do not divide a part
    data = _data(3 * PART + 500_000)
    sizes: list[int] = []
    original = ObjectStore._upload_part

    async def sized(self: ObjectStore, key: str, upload_id: str, number: int, part: bytes) -> Any:
        sizes.append(len(part))
        return await original(self, key, upload_id, number, part)

    monkeypatch.setattr(ObjectStore, "_upload_part", sized)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(data), 100_003):
            yield data[start : start + 100_003]

    key = f"tenants/{unique_id}/inbound/v1/feed.csv"
    stored = await object_store.put_stream(key, chunks(), "text/csv", max_bytes=len(data))

    whole = -(-PART // 100_003) * 100_003  # a part closes at the chunk that reaches PART
    assert sizes == [whole, whole, whole, len(data) - 3 * whole]
    assert (stored.size, stored.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert await object_store.get_bytes(key) == data


def test_a_part_that_came_as_one_chunk_is_not_copied() -> None:
    buffer = s3_transfers.PartBuffer()
    chunk = _data(1000)
    buffer.append(chunk)
    assert buffer.take() is chunk
    assert buffer.size == 0
    buffer.append(b"ab")
    buffer.append(b"cd")
    assert buffer.size == 4
    assert buffer.take() == b"abcd"
    assert (buffer.size, buffer.take()) == (0, b"")


def _record_operations(store: ObjectStore) -> list[str]:
    """Records the name of each S3 operation ``store``'s client sends; returns that list."""
    sent: list[str] = []

    def capture(event_name: str, **_: Any) -> None:
        sent.append(event_name.rsplit(".", 1)[-1])

    store._s3.meta.events.register("before-send.s3", capture)
    return sent


@pytest.mark.parametrize("size", [0, 1000, PART])
async def test_a_file_of_one_part_goes_up_in_one_put_byte_for_byte(
    object_store: ObjectStore, tmp_path: Path, unique_id: str, small_parts: None, size: int
) -> None:
    data = _data(size)
    source = tmp_path / "one.bin"
    source.write_bytes(data)
    key = f"tenants/{unique_id}/normalized/v1/run/normalized.parquet"
    sent = _record_operations(object_store)

    stored = await object_store.put_file(key, source, content_type="application/octet-stream")

    assert sent == ["PutObject"]
    assert (stored.key, stored.size) == (key, size)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert await object_store.get_bytes(key) == data


async def test_a_file_one_byte_past_a_part_goes_up_in_two_parts(
    object_store: ObjectStore, tmp_path: Path, unique_id: str, small_parts: None
) -> None:
    data = _data(PART + 1)
    source = tmp_path / "two.bin"
    source.write_bytes(data)
    key = f"tenants/{unique_id}/normalized/v1/run/normalized.csv"
    sent = _record_operations(object_store)

    stored = await object_store.put_file(key, source, content_type="text/csv")

    assert sent == [
        "CreateMultipartUpload",
        "UploadPart",
        "UploadPart",
        "CompleteMultipartUpload",
    ]
    assert (stored.size, stored.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert await object_store.get_bytes(key) == data


async def test_a_large_object_comes_down_in_concurrent_ranges_each_byte_once(
    object_store: ObjectStore,
    tmp_path: Path,
    unique_id: str,
    small_parts: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = _data(2 * PART + 999)
    key = f"tenants/{unique_id}/normalized/v1/run/normalized.csv"
    await object_store.put_bytes(key, data)
    requested: list[str] = []
    original = ObjectStore._get_object

    async def recorded(self: ObjectStore, key: str, **arguments: str) -> Any:
        requested.append(arguments.get("Range", "whole"))
        return await original(self, key, **arguments)

    monkeypatch.setattr(ObjectStore, "_get_object", recorded)
    in_flight = _count_open_ranges(monkeypatch)
    target = tmp_path / "down.csv"

    assert await object_store.download(key, target) == len(data)

    assert target.read_bytes() == data
    part = storage.DOWNLOAD_PART
    assert byte_ranges(len(data), part) == [
        (0, part - 1), (part, 2 * part - 1), (2 * part, 3 * part - 1), (3 * part, len(data) - 1)
    ]  # fmt: skip
    assert sorted(requested) == sorted(
        f"bytes={first}-{last}" for first, last in byte_ranges(len(data), part)
    )  # the first range's GET told the size: every byte asked for once
    assert len(in_flight) == 3  # the ranges after the first
    assert 2 <= max(in_flight) <= 3  # several at once, never more than PARTS_IN_FLIGHT


async def test_small_and_empty_objects_come_down_in_one_get(
    object_store: ObjectStore, tmp_path: Path, unique_id: str, small_parts: None
) -> None:
    for size in (0, 1, storage.DOWNLOAD_PART):
        key = f"tenants/{unique_id}/normalized/v1/{size}.csv"
        data = _data(size)
        await object_store.put_bytes(key, data)
        target = tmp_path / f"{size}.csv"
        assert await object_store.download(key, target) == size
        assert target.read_bytes() == data


async def test_an_object_replaced_mid_download_fails_it(
    object_store: ObjectStore,
    tmp_path: Path,
    unique_id: str,
    small_parts: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = f"tenants/{unique_id}/normalized/v1/run/normalized.csv"
    await object_store.put_bytes(key, _data(2 * PART))
    original = ObjectStore._get_object

    async def replaced_after_first(self: ObjectStore, key: str, **arguments: str) -> Any:
        response = await original(self, key, **arguments)
        if arguments.get("Range", "").startswith("bytes=0-"):
            await object_store.put_bytes(key, _data(2 * PART + 1))
        return response

    monkeypatch.setattr(ObjectStore, "_get_object", replaced_after_first)
    with pytest.raises(ClientError) as caught:
        await object_store.download(key, tmp_path / "mixed.csv")
    assert caught.value.response["Error"]["Code"] in {"PreconditionFailed", "412"}


async def test_a_failed_part_aborts_the_upload_with_its_own_error(
    object_store: ObjectStore,
    unique_id: str,
    small_parts: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = f"tenants/{unique_id}/normalized/v1/run/failed.csv"
    original = ObjectStore._upload_part

    async def third_fails(
        self: ObjectStore, key: str, upload_id: str, number: int, data: bytes
    ) -> dict[str, Any]:
        if number == 3:
            raise ConnectionResetError("part 3 lost")
        return await original(self, key, upload_id, number, data)

    monkeypatch.setattr(ObjectStore, "_upload_part", third_fails)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(6):
            yield _data(PART)

    with pytest.raises(ConnectionResetError, match="part 3 lost"):
        await object_store.put_stream(key, chunks(), "text/csv", max_bytes=10 * PART)
    assert not await object_store.exists(key)
    with pytest.raises(UploadTooLargeError):
        await object_store.put_stream(key, chunks(), "text/csv", max_bytes=2 * PART)
    assert not await object_store.exists(key)


def test_byte_ranges_cover_the_object_once() -> None:
    assert byte_ranges(0, 4) == []
    assert byte_ranges(4, 4) == [(0, 3)]
    assert byte_ranges(9, 4) == [(0, 3), (4, 7), (8, 8)]


async def test_a_body_is_sent_unsigned_with_its_checksum_and_kept_exact(
    object_store: ObjectStore, tmp_path: Path
) -> None:
    """No SHA-256 of the payload for the signature (``UNSIGNED-PAYLOAD``, as over HTTPS), but
    the CRC32 checksum header on every part and single put, which the server checks."""
    sent: list[tuple[str, str, bool]] = []

    def capture(request: Any, **_: Any) -> None:
        headers = request.headers
        content_sha256 = headers.get("X-Amz-Content-SHA256", b"")  # bytes once signed
        sent.append(
            (
                request.method,
                content_sha256.decode() if isinstance(content_sha256, bytes) else content_sha256,
                "x-amz-checksum-crc32" in {name.lower() for name in headers},
            )
        )

    object_store._s3.meta.events.register("before-send.s3.PutObject", capture)
    object_store._s3.meta.events.register("before-send.s3.UploadPart", capture)
    small = _data(1000)
    await object_store.put_bytes("unsigned/small.bin", small, content_type="text/plain")
    large = tmp_path / "large.bin"
    large.write_bytes(_data(2 * storage.MULTIPART_CHUNK + 5))
    await object_store.put_file("unsigned/large.bin", large, content_type="text/plain")
    assert sent == [("PUT", "UNSIGNED-PAYLOAD", True)] * 4  # one put, three parts
    assert await object_store.get_bytes("unsigned/small.bin") == small
    back = tmp_path / "back.bin"
    await object_store.download("unsigned/large.bin", back)
    assert back.read_bytes() == large.read_bytes()
