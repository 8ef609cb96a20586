"""Event contracts: one pydantic model per subject.

Every event has ``schema_version``, ``event_id``, ``occurred_at`` (ISO-8601 with zone),
``tenant_id`` and ``correlation_id``. ``event_id`` is deterministic wherever the event can be
re-emitted (the ``*_event_id`` functions below) and is sent as ``Nats-Msg-Id`` so that the
server drops a retried publish. Large data never rides the bus: events carry S3 keys.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from relay_shared import subjects
from relay_shared.event_items import ActionOutcome as ActionOutcome
from relay_shared.event_items import ChannelActionItem, VendorPullItem
from relay_shared.event_items import ChannelActionName as ChannelActionName

#: ``unchanged``: the feed equals the vendor's last normalized one and was not normalized again.
VendorStatus = Literal["ok", "failed", "skipped", "missing", "unchanged"]


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


PREVIEW_FLAG = "a config preview's run: merged and diffed, never published downstream"


class RunRequested(Event):
    """The gateway accepted ``POST /v1/runs``: ingest pins the inbound files."""

    subject: str = Field(default=subjects.RUN_REQUESTED, exclude=True, repr=False)
    run_id: str
    config_version: int = Field(ge=1)
    vendors: list[str] | None = None
    force: bool = False
    full: bool = Field(default=False, description="write a full snapshot even in output.mode delta")
    preview: bool = Field(default=False, description=PREVIEW_FLAG)


class RunCarried(BaseModel):
    """What a vendor's feed carries of its run, from ingest through normalize: the run's
    vendors that get a new feed, its as-of time and its flags."""

    run_vendors: list[str] = Field(default_factory=list)
    as_of: AwareDatetime
    force: bool = Field(default=False, description="the run's force flag (skips the drift guard)")
    full: bool = Field(default=False, description="the run's full flag (a full snapshot)")
    preview: bool = Field(default=False, description=PREVIEW_FLAG)


class FeedReceived(RunCarried, Event):
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


class VendorCounts(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rows: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    warnings: int = 0
    sha256: str | None = None


class RowsNormalized(RunCarried, Event):
    """A vendor's feed was normalized (or failed to be): the per-vendor stage result."""

    subject: str = Field(default=subjects.ROWS_NORMALIZED, exclude=True, repr=False)
    run_id: str | None = None
    scope_id: str = Field(description="the run id, or for a runless feed its feed event id")
    vendor_id: str
    config_version: int = Field(ge=1)
    status: VendorStatus
    normalized_key: str | None
    handoff_key: str | None = Field(
        default=None,
        description="the same rows as normalized_key's CSV, as Parquet (pricing reads these);"
        " absent from an event written before there was one",
    )
    findings_key: str
    counts: VendorCounts


class MergeChanges(BaseModel):
    """A merge's change artifacts (pricing's change history): ``changes.csv`` (``sku, column,
    old, new`` against the tenant's previous successful run) and ``sku_history.csv`` (per SKU,
    its price and quantity change). With ``delta`` the run's ``merged_inventory.csv`` holds
    only the changed rows and ``merged_key`` names its full feed (``full_inventory.csv``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    changes_key: str
    history_key: str
    as_of: AwareDatetime
    delta: bool = False


class OffersMerged(Event):
    """A run's merged, priced feed is written (``merged_key``: always the full feed)."""

    subject: str = Field(default=subjects.OFFERS_MERGED, exclude=True, repr=False)
    run_id: str
    config_version: int = Field(ge=1)
    merged_key: str
    summary_key: str
    errors_key: str
    merged_rows: int = Field(ge=0)
    skus_left_out: int = Field(ge=0)
    vendors: dict[str, VendorCounts]
    changes: MergeChanges | None = Field(
        default=None, description="what changed since the tenant's previous successful run"
    )


class PreviewReady(Event):
    """A config preview's run merged and priced the tenant's latest feeds (``preview.ready``,
    instead of ``offers.merged``: nothing downstream acts on a preview). ``report_key`` is its
    diff against ``base_run_id`` (the tenant's latest successful run; None for a tenant
    without one), ``diff_key`` the full diff (``sku, column, old, new``)."""

    subject: str = Field(default=subjects.PREVIEW_READY, exclude=True, repr=False)
    run_id: str
    config_version: int = Field(ge=1)
    base_run_id: str | None
    merged_key: str
    report_key: str
    diff_key: str
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


InsightKindName = Literal["out_of_stock", "slow_mover", "aged", "reallocation_candidate"]
ProductStatus = Literal["active", "paused", "delisted"]


class InsightGenerated(Event):
    """An insight opened or resolved, or (kind ``summary``) the count of a channel's new
    insights of one day that were stored but not sent one by one
    (``insights.max_new_per_channel_per_day``): then ``sku`` is ``*`` and ``detail`` holds
    ``day`` and ``count``."""

    subject: str = Field(default=subjects.INSIGHT_GENERATED, exclude=True, repr=False)
    insight_id: str
    channel: str
    sku: str
    kind: InsightKindName | Literal["summary"]
    status: Literal["open", "resolved"]
    since: AwareDatetime
    detail: dict[str, str | int | None] = Field(default_factory=dict)


class TenantConfigured(Event):
    """A tenant was created (``config_version`` None) or got a new config version: its name and
    every channel it has (those named at creation plus those its config adds)."""

    subject: str = Field(default=subjects.TENANT_CONFIGURED, exclude=True, repr=False)
    name: str
    channels: list[str]
    config_version: int | None = Field(default=None, ge=1)


class ListingsImported(Event):
    """A channel's listings file was validated and stored as canonical CSV at ``listings_key``
    (columns sku,title,quantity,status,listed_date): it sets the channel's products.
    The event id is derived from the file's sha256, so the same file twice changes nothing."""

    subject: str = Field(default=subjects.LISTINGS_IMPORTED, exclude=True, repr=False)
    channel: str
    listings_key: str
    sha256: str
    rows: int = Field(ge=0)
    source: Literal["api", "sheet"] = "api"


class RecordedLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    sku: str = Field(min_length=1)
    quantity: int = Field(ge=0)
    problem: Literal["unknown_sku"] | None = None


class OrderRecorded(Event):
    """Insights stored an order's new lines (with any problem such as ``unknown_sku``)."""

    subject: str = Field(default=subjects.ORDER_RECORDED, exclude=True, repr=False)
    order_id: str
    channel: str
    shipped_at: AwareDatetime
    lines: list[RecordedLine] = Field(min_length=1)


class ChannelActed(ChannelActionItem, Event):
    """A channel plugin acted (or, in dry-run, recorded what it would send) on an insight:
    the audit row. ``request`` is the exact request (method, url, body) without credentials;
    ``status_after`` and ``price_after`` are the listing's state once the marketplace accepted
    it (None when nothing changed)."""

    subject: str = Field(default=subjects.CHANNEL_ACTED, exclude=True, repr=False)
    request: dict[str, object] = Field(default_factory=dict)
    answer: str | None = Field(default=None, max_length=2000)
    duration_ms: int = Field(ge=0)
    status_after: ProductStatus | None = None
    price_after: Decimal | None = None
    artifact_key: str | None = None


ReallocationState = Literal["open", "claimed", "done", "withdrawn"]


class ReallocationChanged(Event):
    """An entry of the reallocation list opened, was claimed, done or withdrawn. ``target``
    is None for stock a channel pushed (offered to any channel)."""

    subject: str = Field(default=subjects.REALLOCATION_CHANGED, exclude=True, repr=False)
    entry_id: str
    origin: str
    target: str | None
    sku: str
    quantity: int = Field(ge=0)
    reason: str
    state: ReallocationState
    claimed_by: str | None = None


class ReallocationClaimRequested(Event):
    """A channel (pull) asks to claim an entry; insights claims it at most once."""

    subject: str = Field(default=subjects.REALLOCATION_CLAIM_REQUESTED, exclude=True, repr=False)
    entry_id: str
    channel: str


class SheetSynced(Event):
    """The sync state of one spreadsheet the sheets service writes (``channel`` None: the
    tenant's root): ``ok`` with the last write, or ``failed`` with a permanent problem (the
    file was deleted or unshared, ...). ``seq`` orders the reports of one spreadsheet."""

    subject: str = Field(default=subjects.SHEET_SYNCED, exclude=True, repr=False)
    channel: str | None
    title: str
    backend: Literal["xlsx", "google"]
    file_id: str | None = None
    state: Literal["ok", "failed"]
    problem_code: str | None = None
    problem: str | None = Field(default=None, max_length=2000)
    synced_at: AwareDatetime | None = None
    seq: int = Field(ge=1)


class VendorPulled(VendorPullItem, Event):
    """A pulled vendor's state as ingest reports it (each change of ``ingest.vendor_pulls``):
    its last attempt, outcome, error and next scheduled time; ``removed`` once the config no
    longer pulls it. ``seq`` orders the reports of one vendor."""

    subject: str = Field(default=subjects.VENDOR_PULLED, exclude=True, repr=False)
    seq: int = Field(ge=1)


EVENT_TYPES: dict[str, type[Event]] = {
    subjects.RUN_REQUESTED: RunRequested,
    subjects.FEED_RECEIVED: FeedReceived,
    subjects.ROWS_NORMALIZED: RowsNormalized,
    subjects.OFFERS_MERGED: OffersMerged,
    subjects.RUN_FAILED: RunFailed,
    subjects.SHIPSTATION_NOTIFIED: ShipstationNotified,
    subjects.ORDER_SHIPPED: OrderShipped,
    subjects.INSIGHT_GENERATED: InsightGenerated,
    subjects.TENANT_CONFIGURED: TenantConfigured,
    subjects.LISTINGS_IMPORTED: ListingsImported,
    subjects.ORDER_RECORDED: OrderRecorded,
    subjects.CHANNEL_ACTED: ChannelActed,
    subjects.REALLOCATION_CHANGED: ReallocationChanged,
    subjects.REALLOCATION_CLAIM_REQUESTED: ReallocationClaimRequested,
    subjects.SHEET_SYNCED: SheetSynced,
    subjects.VENDOR_PULLED: VendorPulled,
    subjects.PREVIEW_READY: PreviewReady,
}


def run_scope(run_id: str | None, fallback: str) -> str:
    """The id that scopes a re-emittable event: the run, or for a runless feed its own id."""
    return run_id if run_id is not None else fallback


def stage_event_id(subject: str, *parts: str) -> str:
    """Deterministic event id for a stage result: ``subject:part:part``."""
    return ":".join((subject, *parts))
