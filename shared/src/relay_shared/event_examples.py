"""One example message per subject, as the AsyncAPI document shows it: built from the models,
so an example the models refuse cannot be written (a test also validates each against the
published JSON Schema)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from relay_shared import events, keys, subjects
from relay_shared.bus.publishing import CORRELATION_HEADER, MSG_ID_HEADER
from relay_shared.tracing import TRACEPARENT

AT = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
TENANT = "acme"
RUN = "run_20261122T100000-7f3a"
PREVIEW = "preview_20261122T110000-9c1d"
CORRELATION = "corr-7f3a2c"
EXAMPLE_TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
COUNTS = events.VendorCounts(rows=2, accepted=2, sha256="9f86d081884c7d659a2feaa0c55ad015")


def _envelope(event_id: str) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "occurred_at": AT,
        "tenant_id": TENANT,
        "correlation_id": CORRELATION,
    }


def _pipeline() -> list[events.Event]:
    feed_id = "feed.received:erp-sync:acme:supplier-a:20261122T1000"
    return [
        events.RunRequested(**_envelope(f"run.requested:{RUN}"), run_id=RUN, config_version=3),
        events.FeedReceived(
            **_envelope(feed_id),
            vendor_id="supplier-a",
            config_version=3,
            key=keys.inbound_key(TENANT, "supplier-a", AT, "erp-sync-1000", "csv"),
            sha256="2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
            size=48213,
            run_vendors=["supplier-a"],
            as_of=AT,
        ),
        events.RowsNormalized(
            **_envelope(events.stage_event_id(subjects.ROWS_NORMALIZED, RUN, "supplier-a")),
            run_id=RUN,
            scope_id=RUN,
            vendor_id="supplier-a",
            config_version=3,
            status="ok",
            normalized_key=keys.normalized_key(TENANT, "supplier-a", RUN),
            findings_key=keys.findings_key(TENANT, "supplier-a", RUN),
            counts=COUNTS,
            run_vendors=["supplier-a"],
            as_of=AT,
        ),
        events.OffersMerged(
            **_envelope(events.stage_event_id(subjects.OFFERS_MERGED, RUN)),
            run_id=RUN,
            config_version=3,
            merged_key=keys.output_key(TENANT, RUN, "merged_inventory.csv"),
            summary_key=keys.report_key(TENANT, RUN, "run_summary.json"),
            errors_key=keys.report_key(TENANT, RUN, "errors.json"),
            merged_rows=2,
            skus_left_out=0,
            vendors={"supplier-a": COUNTS},
        ),
        events.PreviewReady(
            **_envelope(events.stage_event_id(subjects.PREVIEW_READY, PREVIEW)),
            run_id=PREVIEW,
            config_version=4,
            base_run_id=RUN,
            merged_key=keys.output_key(TENANT, PREVIEW, "merged_inventory.csv"),
            report_key=keys.report_key(TENANT, PREVIEW, "preview_report.json"),
            diff_key=keys.report_key(TENANT, PREVIEW, "preview_diff.csv"),
            merged_rows=2,
            skus_left_out=0,
            vendors={"supplier-a": COUNTS},
        ),
        events.RunFailed(
            **_envelope(events.stage_event_id(subjects.RUN_FAILED, RUN)),
            run_id=RUN,
            stage="normalize",
            code="vendor_failed",
            message="required vendor supplier-a failed: parse_error",
            report_key=keys.report_key(TENANT, RUN, "errors.json"),
        ),
    ]


def _orders() -> list[events.Event]:
    return [
        events.ShipstationNotified(
            **_envelope("shipstation.notified:acme:9b1c"),
            resource_url="https://ssapi.shipstation.com/shipments?batchId=12345",
            resource_type="SHIP_NOTIFY",
            config_version=3,
        ),
        events.OrderShipped(
            **_envelope("order.shipped:acme:amazon:114-22"),
            order_id="114-22",
            channel="amazon",
            status="shipped",
            shipped_at=AT,
            items=[events.OrderItem(sku="SKU-1", quantity=2)],
        ),
        events.OrderRecorded(
            **_envelope("order.recorded:acme:amazon:114-22"),
            order_id="114-22",
            channel="amazon",
            shipped_at=AT,
            lines=[events.RecordedLine(sku="SKU-1", quantity=2)],
        ),
        events.InsightGenerated(
            **_envelope("insight.generated:ins_51:open"),
            insight_id="ins_51",
            channel="amazon",
            sku="SKU-1",
            kind="out_of_stock",
            status="open",
            since=AT,
        ),
    ]


def _channels() -> list[events.Event]:
    return [
        events.TenantConfigured(
            **_envelope("tenant.configured:acme:3"),
            name="Acme Parts",
            channels=["amazon", "ebay"],
            config_version=3,
        ),
        events.ListingsImported(
            **_envelope("listings.imported:acme:amazon:3c9a"),
            channel="amazon",
            listings_key=f"tenants/{TENANT}/listings/amazon/3c9a.csv",
            sha256="3c9a1f0e5d2b4a6c8e7f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d",
            rows=120,
        ),
        events.ChannelActed(
            **_envelope("channel.acted:act_77"),
            action_id="act_77",
            insight_id="ins_51",
            channel="amazon",
            sku="SKU-1",
            action="reprice",
            outcome="dry_run",
            dry_run=True,
            request={"method": "PATCH", "url": "https://sellingpartnerapi-na.amazon.com/"},
            duration_ms=0,
            price_after=Decimal("12.00"),
        ),
        events.SheetSynced(
            **_envelope("sheet.synced:acme:amazon:4"),
            channel="amazon",
            title="Acme Parts - amazon",
            backend="xlsx",
            state="ok",
            synced_at=AT,
            seq=4,
        ),
    ]


def _reallocation() -> list[events.Event]:
    return [
        events.ReallocationChanged(
            **_envelope("reallocation.changed:re_9:open"),
            entry_id="re_9",
            origin="amazon",
            target="ebay",
            sku="SKU-1",
            quantity=4,
            reason="slow_mover",
            state="open",
        ),
        events.ReallocationClaimRequested(
            **_envelope("reallocation.claim_requested:re_9:ebay"),
            entry_id="re_9",
            channel="ebay",
        ),
    ]


def _intake() -> list[events.Event]:
    return [
        events.VendorPulled(
            **_envelope("vendor.pulled:acme:supplier-b:1764064800000000"),
            vendor_id="supplier-b",
            kind="https",
            status="retrying",
            error_code="http_503",
            error="the vendor answered 503",
            attempts=2,
            last_attempt_at=AT,
            last_success_at=datetime(2026, 11, 21, 10, 0, tzinfo=UTC),
            next_due_at=datetime(2026, 11, 22, 10, 1, tzinfo=UTC),
            seq=1764064800000000,
        )
    ]


def example_events() -> dict[str, events.Event]:
    """One example event per subject."""
    every = (*_pipeline(), *_orders(), *_channels(), *_reallocation(), *_intake())
    return {event.subject: event for event in every}


def example_headers(event: events.Event) -> dict[str, str]:
    """The headers a publisher sends with ``event``."""
    return {
        MSG_ID_HEADER: event.event_id,
        CORRELATION_HEADER: event.correlation_id,
        TRACEPARENT: EXAMPLE_TRACEPARENT,
        "content-type": "application/json",
    }


def example_message(event: events.Event) -> dict[str, Any]:
    """An AsyncAPI Message Example Object: headers and payload as JSON."""
    return {
        "name": f"{event.subject}-example",
        "summary": f"A {event.subject} message",
        "headers": example_headers(event),
        "payload": event.model_dump(mode="json"),
    }
