"""Storing a run's explain index (:mod:`relay_shared.explain.index_format`) next to its
reports: each data part (about 8 MiB) is uploaded while the next ones are encoded (a few
uploads in flight), then the manifest (written last: a run whose manifest exists has its
whole index). Every key is deterministic under the run, so a replay rewrites the same bytes.
"""

from __future__ import annotations

import asyncio

from relay_pricing.domain.run import RunOutputs
from relay_shared.explain.buckets import PART_CONTENT_TYPE
from relay_shared.explain.index_format import ExplainIndex, data_key, encode_parts, manifest_key
from relay_shared.storage import ObjectStore

_UPLOADS_IN_FLIGHT = 8
_DONE = b""  # no part is empty: the end of the parts


async def write_explain_index(
    store: ObjectStore, tenant_id: str, run_id: str, outputs: RunOutputs
) -> None:
    """Stores the index of a run that built one (a failed run has none)."""
    if outputs.explain is None:
        return
    loop = asyncio.get_running_loop()
    parts: asyncio.Queue[bytes] = asyncio.Queue()
    slots = asyncio.Semaphore(_UPLOADS_IN_FLIGHT)

    def encode(index: ExplainIndex) -> bytes:  # in a thread: parts go to the loop's queue
        try:
            return encode_parts(
                index, lambda body: loop.call_soon_threadsafe(parts.put_nowait, body)
            )
        finally:
            loop.call_soon_threadsafe(parts.put_nowait, _DONE)

    async def upload(part: int, body: bytes) -> None:
        async with slots:
            key = data_key(tenant_id, run_id, part)
            await store.put_bytes(key, body, content_type=PART_CONTENT_TYPE)

    async with asyncio.TaskGroup() as group:
        encoding = group.create_task(asyncio.to_thread(encode, outputs.explain))
        part = 0
        while (body := await parts.get()) != _DONE:
            group.create_task(upload(part, body))
            part += 1
    await store.put_bytes(
        manifest_key(tenant_id, run_id), encoding.result(), content_type="application/json"
    )
