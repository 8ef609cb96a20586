"""Publish a vendor feed to Relay from another system: upload the file to S3, then publish its
``feed.received`` to NATS JetStream (the contract: README, "Publishing feeds from another
system"; the payload's JSON Schema: ``shared/schemas/feed.received.json`` or the gateway's
``GET /v1/schemas/feed.received``).

    AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... \\
    python examples/publish_feed.py --tenant acme --vendor supplier-a --config-version 3 \\
        --bucket relay --nats-url nats://localhost:4222 --wait 60 feed.csv

Needs only ``nats-py`` and ``aiobotocore``. S3 credentials come from the usual AWS variables;
``--s3-endpoint-url`` (or ``AWS_ENDPOINT_URL_S3``) points at MinIO or another S3. With
``--wait N`` it follows the feed for up to N seconds through normalize (``rows.normalized``)
to the merged output (``offers.merged``) or the failure (``run.failed``). Exit code: 0 when
published (and, with ``--wait``, merged), 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
from aiobotocore.session import get_session

OUTCOMES = ("rows.normalized", "offers.merged", "run.failed")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path, help="the vendor's feed file")
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--vendor", required=True, help="a vendor_id of the tenant's config")
    parser.add_argument("--config-version", type=int, required=True)
    parser.add_argument("--bucket", default=os.environ.get("RELAY_BUCKET"), required=False)
    parser.add_argument("--s3-endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL_S3"))
    parser.add_argument("--region", default=os.environ.get("AWS_REGION", "us-east-1"))
    parser.add_argument("--nats-url", default=os.environ.get("NATS_URL", "nats://127.0.0.1:4222"))
    parser.add_argument("--stream", default="RELAY", help="Relay's APP_NATS_STREAM")
    parser.add_argument("--wait", type=float, default=0.0, help="follow the feed N seconds")
    args = parser.parse_args(argv)
    if not args.bucket:
        parser.error("--bucket (or RELAY_BUCKET) is required")
    return args


def feed_event(args: argparse.Namespace, body: bytes, now: datetime) -> dict[str, Any]:
    """The ``feed.received`` of one upload. Its key and event id derive from the tenant,
    vendor, day and the file's sha256, so publishing the same file again the same day is the
    same event (a retry is dropped by ``Nats-Msg-Id``, not normalized twice)."""
    sha256 = hashlib.sha256(body).hexdigest()
    prefix = f"tenants/{args.tenant}/inbound/{args.vendor}/"
    key = f"{prefix}{now:%Y/%m/%d}/ext-{sha256[:16]}/raw{args.file.suffix or '.csv'}"
    event_id = f"feed.received:ext:{args.tenant}:{args.vendor}:{now:%Y%m%d}:{sha256[:32]}"
    at = now.isoformat()
    return {
        "schema_version": 1,
        "event_id": event_id,
        "occurred_at": at,
        "tenant_id": args.tenant,
        "correlation_id": event_id,
        "run_id": None,  # a one-vendor update, merged with the other vendors' latest feeds
        "vendor_id": args.vendor,
        "config_version": args.config_version,
        "key": key,
        "sha256": sha256,
        "size": len(body),
        "run_vendors": [args.vendor],
        "as_of": at,
    }


async def upload(args: argparse.Namespace, key: str, body: bytes) -> None:
    session = get_session()
    async with session.create_client(
        "s3", region_name=args.region, endpoint_url=args.s3_endpoint_url
    ) as s3:
        await s3.put_object(Bucket=args.bucket, Key=key, Body=body)


def _ours(event_id: str, payload: dict[str, Any]) -> bool:
    return event_id in (payload.get("run_id"), payload.get("scope_id"))


def describe(subject: str, payload: dict[str, Any], bucket: str) -> str:
    if subject == "rows.normalized":
        counts = payload["counts"]
        return (
            f"normalized {payload['vendor_id']}: {payload['status']}, "
            f"{counts['accepted']} rows accepted, {counts['rejected']} rejected"
        )
    if subject == "offers.merged":
        return f"merged: {payload['merged_rows']} rows -> s3://{bucket}/{payload['merged_key']}"
    return f"failed at {payload['stage']}: {payload['code']}: {payload['message']}"


async def publish_feed(args: argparse.Namespace) -> int:
    body = args.file.read_bytes()
    event = feed_event(args, body, datetime.now(UTC))
    await upload(args, event["key"], body)
    print(f"uploaded s3://{args.bucket}/{event['key']} ({event['size']} bytes)")
    client = await nats.connect(args.nats_url)
    try:
        outcomes: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()

        async def on_outcome(msg: Any) -> None:
            payload = json.loads(msg.data)
            if _ours(event["event_id"], payload):
                outcomes.put_nowait((msg.subject, payload))

        for subject in OUTCOMES if args.wait > 0 else ():
            await client.subscribe(subject, cb=on_outcome)  # before publishing: none missed
        ack = await client.jetstream().publish(
            "feed.received",
            json.dumps(event).encode(),
            stream=args.stream,
            headers={
                "Nats-Msg-Id": event["event_id"],  # the server drops a repeat: publish once
                "X-Correlation-ID": event["correlation_id"],
                "content-type": "application/json",
            },
        )
        if ack.duplicate:
            print(f"already published: {event['event_id']} (dropped as a duplicate)")
            return 0
        print(f"published feed.received {event['event_id']} ({ack.stream} seq {ack.seq})")
        return await follow(outcomes, args) if args.wait > 0 else 0
    finally:
        await client.drain()


async def follow(outcomes: asyncio.Queue[tuple[str, dict[str, Any]]], args: Any) -> int:
    """Print the feed's stage results until it is merged or fails (1 on failure or timeout)."""
    deadline = asyncio.get_running_loop().time() + args.wait
    while (left := deadline - asyncio.get_running_loop().time()) > 0:
        try:
            subject, payload = await asyncio.wait_for(outcomes.get(), left)
        except TimeoutError:
            break
        print(describe(subject, payload, args.bucket))
        if subject != "rows.normalized":
            return 0 if subject == "offers.merged" else 1
    print(f"no outcome within {args.wait:g} s: see `relay dlq list`", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(asyncio.run(publish_feed(parse_args())))
