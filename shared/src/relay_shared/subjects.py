"""The bus's subjects, stream and consumer names: the only place they are spelled."""

from __future__ import annotations

from typing import Final

RUN_REQUESTED: Final = "run.requested"
FEED_RECEIVED: Final = "feed.received"
ROWS_NORMALIZED: Final = "rows.normalized"
OFFERS_MERGED: Final = "offers.merged"
RUN_FAILED: Final = "run.failed"
SHIPSTATION_NOTIFIED: Final = "shipstation.notified"
ORDER_SHIPPED: Final = "order.shipped"
INSIGHT_GENERATED: Final = "insight.generated"
TENANT_CONFIGURED: Final = "tenant.configured"
LISTINGS_IMPORTED: Final = "listings.imported"
ORDER_RECORDED: Final = "order.recorded"
CHANNEL_ACTED: Final = "channel.acted"
REALLOCATION_CHANGED: Final = "reallocation.changed"
REALLOCATION_CLAIM_REQUESTED: Final = "reallocation.claim_requested"
SHEET_SYNCED: Final = "sheet.synced"
VENDOR_PULLED: Final = "vendor.pulled"
PREVIEW_READY: Final = "preview.ready"

PIPELINE_SUBJECTS: Final[tuple[str, ...]] = (
    RUN_REQUESTED,
    FEED_RECEIVED,
    ROWS_NORMALIZED,
    OFFERS_MERGED,
    RUN_FAILED,
    SHIPSTATION_NOTIFIED,
    ORDER_SHIPPED,
    INSIGHT_GENERATED,
    TENANT_CONFIGURED,
    LISTINGS_IMPORTED,
    ORDER_RECORDED,
    CHANNEL_ACTED,
    REALLOCATION_CHANGED,
    REALLOCATION_CLAIM_REQUESTED,
    SHEET_SYNCED,
    VENDOR_PULLED,
    PREVIEW_READY,
)

DEAD_LETTER_PREFIX: Final = "dlq"


def dead_letter_subject(subject: str) -> str:
    """Where a message of ``subject`` goes once it cannot be processed: ``dlq.<subject>``."""
    return f"{DEAD_LETTER_PREFIX}.{subject}"


def dead_letter_stream(stream: str) -> str:
    return f"{stream}_DLQ"


def durable_name(service: str, subject: str) -> str:
    """One durable pull consumer per (service, subject), shared by the service's replicas."""
    return f"{service}-{subject.replace('.', '-')}"
