"""Event contracts: one pydantic model per subject.

Every event has ``schema_version``, ``event_id``, ``occurred_at`` (ISO-8601 with zone),
``tenant_id`` and ``correlation_id``. ``event_id`` is deterministic wherever the event can be
re-emitted (the ``*_event_id`` functions below) and is sent as ``Nats-Msg-Id`` so that the
server drops a retried publish. Large data never rides the bus: events carry S3 keys.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from relay_shared import subjects

VendorStatus = Literal["ok", "failed", "skipped", "missing"]


class Event(BaseModel):
    """Fields every event carries."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: str = Field(default="", exclude=True, repr=False)
    schema_version: Literal[1] = 1
    event_id: str = Field(min_length=1, max_length=256)
    occurred_at: AwareDatetime
    tenant_id: str = Field(min_length=1, max_length=64)
    correlation_id: str = Field(min_length=1, max_length=128)


def now_utc() -> datetime:
    return datetime.now(UTC)


class RunRequested(Event):
    """The gateway accepted ``POST /v1/runs``: ingest pins the inbound files."""

    subject: str = Field(default=subjects.RUN_REQUESTED, exclude=True, repr=False)
    run_id: str
    config_version: int = Field(ge=1)
    vendors: list[str] | None = None
    force: bool = False


class FeedReceived(Event):
    """A vendor's raw file is in S3 and should be normalized.

    Without ``run_id`` the feed is a one-vendor update merged with the latest normalized feed
    of every other vendor. ``run_vendors`` lists the vendors of the run that get a new feed.
    ``key`` is None when a run's vendor has no inbound file (``missing_feed``).
    """

    subject: str = Field(default=subjects.FEED_RECEIVED, exclude=True, repr=False)
    run_id: str | None = None
    vendor_id: str
    config_version: int = Field(ge=1)
    key: str | None
    sha256: str | None = None
    size: int | None = Field(default=None, ge=0)
    run_vendors: list[str] = Field(default_factory=list)
    as_of: AwareDatetime
    force: bool = Field(default=False, description="the run's force flag (skips the drift guard)")


class VendorCounts(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rows: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    warnings: int = 0
    sha256: str | None = None


class RowsNormalized(Event):
    """A vendor's feed was normalized (or failed to be): the per-vendor stage result."""

    subject: str = Field(default=subjects.ROWS_NORMALIZED, exclude=True, repr=False)
    run_id: str | None = None
    scope_id: str = Field(description="the run id, or for a runless feed its feed event id")
    vendor_id: str
    config_version: int = Field(ge=1)
    status: VendorStatus
    normalized_key: str | None
    findings_key: str
    counts: VendorCounts
    run_vendors: list[str] = Field(default_factory=list)
    as_of: AwareDatetime
    force: bool = Field(default=False, description="the run's force flag (skips the drift guard)")


class OffersMerged(Event):
    """A run's merged, priced feed is written."""

    subject: str = Field(default=subjects.OFFERS_MERGED, exclude=True, repr=False)
    run_id: str
    config_version: int = Field(ge=1)
    merged_key: str
    summary_key: str
    errors_key: str
    merged_rows: int = Field(ge=0)
    skus_left_out: int = Field(ge=0)
    vendors: dict[str, VendorCounts]


class RunFailed(Event):
    """A run failed; ``report_key`` points at its errors.json."""

    subject: str = Field(default=subjects.RUN_FAILED, exclude=True, repr=False)
    run_id: str
    stage: str
    code: str
    message: str
    report_key: str | None = None
    vendors: dict[str, VendorCounts] = Field(default_factory=dict)


class ShipstationNotified(Event):
    """A ShipStation V1 notification: ingest fetches ``resource_url``."""

    subject: str = Field(default=subjects.SHIPSTATION_NOTIFIED, exclude=True, repr=False)
    resource_url: str
    resource_type: str
    config_version: int | None = Field(
        default=None,
        ge=1,
        description="the tenant's config version when notified (its sealed ShipStation keys)",
    )


class OrderItem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    sku: str = Field(min_length=1)
    quantity: int = Field(ge=0)


class OrderShipped(Event):
    """An order shipped. Carries no customer PII: ids, channel, skus, quantities, dates."""

    subject: str = Field(default=subjects.ORDER_SHIPPED, exclude=True, repr=False)
    order_id: str
    channel: str
    status: str
    ordered_at: AwareDatetime | None = None
    shipped_at: AwareDatetime
    items: list[OrderItem] = Field(min_length=1)
    source: Literal["webhook", "shipstation_api"] = "webhook"


class InsightGenerated(Event):
    """An insight opened or resolved."""

    subject: str = Field(default=subjects.INSIGHT_GENERATED, exclude=True, repr=False)
    insight_id: str
    channel: str
    sku: str
    kind: Literal["out_of_stock", "slow_mover", "aged", "reallocation_candidate"]
    status: Literal["open", "resolved"]
    since: AwareDatetime
    detail: dict[str, str | int | None] = Field(default_factory=dict)


EVENT_TYPES: dict[str, type[Event]] = {
    subjects.RUN_REQUESTED: RunRequested,
    subjects.FEED_RECEIVED: FeedReceived,
    subjects.ROWS_NORMALIZED: RowsNormalized,
    subjects.OFFERS_MERGED: OffersMerged,
    subjects.RUN_FAILED: RunFailed,
    subjects.SHIPSTATION_NOTIFIED: ShipstationNotified,
    subjects.ORDER_SHIPPED: OrderShipped,
    subjects.INSIGHT_GENERATED: InsightGenerated,
}


def run_scope(run_id: str | None, fallback: str) -> str:
    """The id that scopes a re-emittable event: the run, or for a runless feed its own id."""
    return run_id if run_id is not None else fallback


def stage_event_id(subject: str, *parts: str) -> str:
    """Deterministic event id for a stage result: ``subject:part:part``."""
    return ":".join((subject, *parts))
