"""Files to and from the real S3 server in parts: what normalize stages a feed through."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from relay_shared import storage
from relay_shared.errors import NotFoundError
from relay_shared.storage import ObjectStore


async def test_a_file_goes_up_in_parts_and_comes_down_in_chunks_byte_for_byte(
    object_store: ObjectStore,
    tmp_path: Path,
    unique_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(storage, "MULTIPART_CHUNK", 5 * 1024 * 1024)  # S3's smallest part
    data = bytes(range(256)) * (11 * 1024 * 1024 // 256 + 3)  # three parts, the last short
    source = tmp_path / "up.csv"
    source.write_bytes(data)
    key = f"tenants/{unique_id}/normalized/v1/run.csv"

    stored = await object_store.put_file(key, source, content_type="text/csv")
    target = tmp_path / "down.csv"
    size = await object_store.download(key, target)

    assert stored.size == len(data) == size
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert target.read_bytes() == data


async def test_an_empty_file_round_trips(
    object_store: ObjectStore, tmp_path: Path, unique_id: str
) -> None:
    source = tmp_path / "empty.csv"
    source.write_bytes(b"")
    key = f"tenants/{unique_id}/normalized/v1/empty.csv"
    await object_store.put_file(key, source, content_type="text/csv")
    assert await object_store.download(key, tmp_path / "back.csv") == 0
    assert (tmp_path / "back.csv").read_bytes() == b""


async def test_downloading_a_missing_object_names_its_key(
    object_store: ObjectStore, tmp_path: Path, unique_id: str
) -> None:
    key = f"tenants/{unique_id}/inbound/v1/none.csv"
    with pytest.raises(NotFoundError, match=f"no object at {key}"):
        await object_store.download(key, tmp_path / "none.csv")
