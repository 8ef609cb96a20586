"""MinIO's bucket notifications (its NATS target): the objects a message announces.

MinIO publishes one JSON message per event, S3's event shape wrapped in its own envelope::

    {"EventName": "s3:ObjectCreated:Put", "Key": "relay/tenants/t/inbound/v1/feed.csv",
     "Records": [{"eventName": "s3:ObjectCreated:Put", "eventTime": "2026-12-05T10:00:00.000Z",
                  "s3": {"bucket": {"name": "relay"},
                         "object": {"key": "tenants%2Ft%2Finbound%2Fv1%2Ffeed.csv",
                                    "size": 120, "eTag": "9b2cf5..."}}}]}

Object keys are URL-encoded (``+`` for a space). Only ``s3:ObjectCreated:*`` records of the
service's own bucket count; anything else in the message is ignored, and a message that is not
such a document at all is :class:`NotificationError` (logged and dropped: the poll still sees
the object).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import unquote_plus

from relay_ingest.domain.drops import BucketObject

CREATED_PREFIX = "s3:ObjectCreated:"


class NotificationError(ValueError):
    """A message on the bucket-events subject that is not a bucket notification."""


def created_objects(payload: bytes, bucket: str) -> list[BucketObject]:
    """The objects created in ``bucket`` that ``payload`` announces."""
    try:
        document = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NotificationError(f"not JSON: {exc}") from exc
    records = document.get("Records") if isinstance(document, dict) else None
    if not isinstance(records, list):
        raise NotificationError("no Records list")
    found: list[BucketObject] = []
    for index, record in enumerate(records):
        try:
            item = _created_object(record, bucket)
        except (KeyError, TypeError, ValueError) as exc:
            raise NotificationError(f"Records[{index}]: {exc!r}") from exc
        if item is not None:
            found.append(item)
    return found


def _created_object(record: Any, bucket: str) -> BucketObject | None:
    if not str(record["eventName"]).startswith(CREATED_PREFIX):
        return None
    s3 = record["s3"]
    if s3["bucket"]["name"] != bucket:
        return None
    obj = s3["object"]
    when = datetime.fromisoformat(str(record["eventTime"]).replace("Z", "+00:00"))
    if when.tzinfo is None:
        raise ValueError("eventTime has no zone")
    return BucketObject(
        key=unquote_plus(str(obj["key"])),
        etag=str(obj["eTag"]),
        size=int(obj["size"]),
        last_modified=when,
    )
