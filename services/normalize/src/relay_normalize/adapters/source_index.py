"""Storing a feed's index of its rows as read (:mod:`relay_shared.explain.source_format`)
beside its normalized rows: each data part is uploaded while the next ones are encoded (a few
uploads in flight), then the manifest (written last: a feed whose manifest exists has its
whole index). Every key is deterministic under the scope, so a replay rewrites the same
objects.

An ``unchanged`` feed (its last result reused) gets a copy of that feed's manifest under its
own scope: the copy still names the folder of the parts, so nothing else is written.
"""

from __future__ import annotations

import asyncio

import structlog

from relay_shared import keys
from relay_shared.errors import NotFoundError
from relay_shared.explain.buckets import PART_CONTENT_TYPE
from relay_shared.explain.source_format import (
    DEFAULT_SIZES,
    MANIFEST_NAME,
    SOURCE_FOLDER,
    Sizes,
    SourceManifest,
    SourceRows,
    encode_source_parts,
    source_data_key,
    source_folder,
    source_manifest_key,
)
from relay_shared.storage import ObjectStore

_UPLOADS_IN_FLIGHT = 4
_DONE = b""  # no part is empty: the end of the parts
log = structlog.get_logger(__name__)


async def write_source_index(
    store: ObjectStore, rows: SourceRows, scope_id: str, sizes: Sizes = DEFAULT_SIZES
) -> SourceManifest:
    """Encodes (in a thread) and stores the index of ``rows`` under the feed's scope."""
    folder = source_folder(rows.tenant_id, rows.vendor_id, scope_id)
    loop = asyncio.get_running_loop()
    parts: asyncio.Queue[bytes] = asyncio.Queue()
    slots = asyncio.Semaphore(_UPLOADS_IN_FLIGHT)

    def encode() -> SourceManifest:  # in a thread: parts go to the loop's queue
        try:
            return encode_source_parts(
                rows, lambda body: loop.call_soon_threadsafe(parts.put_nowait, body), sizes
            )
        finally:
            loop.call_soon_threadsafe(parts.put_nowait, _DONE)

    async def upload(part: int, body: bytes) -> None:
        async with slots:
            await store.put_bytes(
                source_data_key(folder, part), body, content_type=PART_CONTENT_TYPE
            )

    async with asyncio.TaskGroup() as group:
        encoding = group.create_task(asyncio.to_thread(encode))
        part = 0
        while (body := await parts.get()) != _DONE:
            group.create_task(upload(part, body))
            part += 1
    manifest = encoding.result().model_copy(update={"data_folder": folder})
    await store.put_bytes(
        source_manifest_key(rows.tenant_id, rows.vendor_id, scope_id),
        manifest.model_dump_json().encode(),
        content_type="application/json",
    )
    return manifest


async def copy_source_index(
    store: ObjectStore, tenant_id: str, vendor_id: str, normalized_key: str, scope_id: str
) -> bool:
    """Gives ``scope_id`` the index of the feed normalized at ``normalized_key`` (an
    ``unchanged`` feed's): its manifest, copied. False when that feed has none (stored
    before there was one): explain then has no rows as read for the vendor."""
    folder, _, _ = normalized_key.rpartition("/")
    source = keys.tenant_key(tenant_id, f"{folder}/{SOURCE_FOLDER}/{MANIFEST_NAME}")
    target = source_manifest_key(tenant_id, vendor_id, scope_id)
    if source == target:
        return True
    try:
        body = await store.get_bytes(source)
    except NotFoundError:
        log.info("normalize.no_source_index", key=source)
        return False
    await store.put_bytes(target, body, content_type="application/json")
    return True
