"""Bucket drops: which objects under a tenant's inbound prefix are new feeds, and the one
``feed.received`` each of them gets.

A drop is identified by its key and ETag (quotes stripped, case folded): the same object seen by
the poll and by a bucket notification is one drop; the same key written again with other bytes
is a new one. Its event id is derived from that identity only, so whichever path sees it first
writes the same event.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from relay_shared import subjects
from relay_shared.events import FeedReceived

#: How much earlier than the watch's start an object may be written and still count as a drop:
#: S3 lists whole seconds and its clock is not the gateway's, so a file put right after the
#: config must not be lost (history older than this stays history).
CLOCK_GRACE = timedelta(seconds=5)
#: The source a drop was seen by (recorded with it).
POLL = "poll"
NOTIFICATION = "notification"


@dataclass(frozen=True)
class BucketObject:
    """An object of the bucket as a listing or a notification describes it."""

    key: str
    etag: str
    size: int
    last_modified: datetime


@dataclass(frozen=True)
class Watch:
    """A tenant whose config watches the inbound prefixes of ``vendors``."""

    tenant_id: str
    config_version: int
    vendors: tuple[str, ...]
    watch_since: datetime
    resume_after: str | None = None


@dataclass(frozen=True)
class Drop:
    """A new object of a watched vendor."""

    tenant_id: str
    vendor_id: str
    object: BucketObject


def tenant_inbound_prefix(tenant_id: str) -> str:
    return f"tenants/{tenant_id}/inbound/"


def plain_etag(etag: str) -> str:
    """S3 lists ETags in quotes, MinIO's notifications without: compare them bare."""
    return etag.strip().strip('"').lower()


def tenant_of(key: str) -> str | None:
    """The tenant whose inbound prefix holds ``key`` (None for any other key)."""
    parts = key.split("/", 3)
    if len(parts) == 4 and parts[0] == "tenants" and parts[2] == "inbound" and parts[1]:
        return parts[1]
    return None


def vendor_of(tenant_id: str, key: str) -> str | None:
    """The vendor folder of ``key`` under the tenant's inbound prefix, when the key is a file
    below it (not the folder itself, not a folder marker, no ``.``/``..`` segment)."""
    prefix = tenant_inbound_prefix(tenant_id)
    if not key.startswith(prefix) or key.endswith("/"):
        return None
    rest = key[len(prefix) :].split("/")
    if len(rest) < 2 or any(part in {"", ".", ".."} for part in rest):
        return None
    return rest[0]


def drops(watch: Watch, objects: Iterable[BucketObject]) -> list[Drop]:
    """The objects that are drops of ``watch``'s vendors: under a watched vendor's folder and
    written since the watch began (less :data:`CLOCK_GRACE`; what was there before is not a
    new feed)."""
    wanted = set(watch.vendors)
    since = watch.watch_since - CLOCK_GRACE
    found: list[Drop] = []
    for item in objects:
        vendor = vendor_of(watch.tenant_id, item.key)
        if vendor in wanted and item.last_modified >= since:
            found.append(Drop(watch.tenant_id, vendor, item))
    return found


def next_resume_after(keys: Sequence[str], truncated: bool) -> str | None:
    """Where the next poll of a tenant starts: after this page's last key when the listing
    was cut, else at the prefix again (so each interval costs one page per tenant)."""
    return keys[-1] if truncated and keys else None


def drop_event_id(drop: Drop) -> str:
    """``feed.received:drop:<tenant>:<hash of key and ETag>`` (keys may be long)."""
    identity = f"{drop.object.key}\n{plain_etag(drop.object.etag)}".encode()
    return ":".join(
        (subjects.FEED_RECEIVED, "drop", drop.tenant_id, hashlib.sha256(identity).hexdigest()[:32])
    )


def drop_feed_received(drop: Drop, config_version: int) -> FeedReceived:
    """The drop's one-vendor update: a function of the object and the watch only."""
    event_id = drop_event_id(drop)
    return FeedReceived(
        event_id=event_id,
        occurred_at=drop.object.last_modified,
        tenant_id=drop.tenant_id,
        correlation_id=event_id,
        run_id=None,
        vendor_id=drop.vendor_id,
        config_version=config_version,
        key=drop.object.key,
        size=drop.object.size,
        run_vendors=[drop.vendor_id],
        as_of=drop.object.last_modified,
    )
