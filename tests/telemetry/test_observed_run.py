"""A feed run and a shipped order through the live system, observed the way an operator does:
the trace each one leaves (one per run / order, parent links across every service, no
orphan), what ``/metrics`` counted (exactly what the run did), the probes, and the logs."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import aiohttp
import pytest

from relay_cli.gateway_client import GatewayClient
from relay_cli.services import SERVICES
from tests.e2e.test_end_to_end import onboard, signed_order
from tests.support.live_system import LiveSystem
from tests.support.polling import eventually, eventually_async
from tests.telemetry.conftest import metrics_url
from tests.telemetry.otlp_receiver import OtlpReceiver, ReceivedSpan
from tests.telemetry.scraping import Scrape, delta, scrape

pytestmark = [pytest.mark.stack, pytest.mark.e2e]
WORKERS = [name for name in SERVICES if name != "gateway"]
PIPELINE = ("gateway", "ingest", "normalize", "pricing")
VENDORS = 3  # the example tenant's vendors


async def get_json(url: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.json()


async def scrape_all(system: LiveSystem, metrics_base: int) -> dict[str, Scrape]:
    return {
        name: await scrape(
            system.gateway_url if name == "gateway" else metrics_url(metrics_base, name)
        )
        for name in PIPELINE
    }


@pytest.fixture(scope="module")
async def observed_run(
    observed_system: LiveSystem, metrics_base: int
) -> tuple[dict[str, Any], dict[str, Scrape], dict[str, Scrape]]:
    """One run of the example tenant, with every pipeline service's metrics scraped before
    it started and once its counters settled."""
    tenant_id = f"obs_{uuid.uuid4().hex[:10]}"
    async with aiohttp.ClientSession() as session:
        admin = GatewayClient(session, observed_system.gateway_url, observed_system.admin_key)
        owner = await onboard(admin, tenant_id)
        before = await scrape_all(observed_system, metrics_base)
        queued = await owner.start_run(tenant_id)
        async with asyncio.timeout(120):
            run = await owner.wait_for_run(queued["run_id"])
    assert run["status"] == "SUCCEEDED"

    async def settled() -> dict[str, Scrape] | None:
        after = await scrape_all(observed_system, metrics_base)
        merged = delta(
            before["gateway"],
            after["gateway"],
            "relay_messages_processed_total",
            subject="offers.merged",
        )
        return after if merged >= 1 else None

    after = await eventually_async(settled, timeout=30, what="the gateway counted offers.merged")
    return run, before, after


async def test_every_worker_answers_its_probes(
    observed_system: LiveSystem, metrics_base: int
) -> None:
    for name in WORKERS:
        url = metrics_url(metrics_base, name)

        async def alive(url: str = url) -> tuple[int, Any] | None:
            try:
                return await get_json(f"{url}/healthz")
            except aiohttp.ClientConnectionError:
                return None  # the process is still starting

        assert await eventually_async(alive, timeout=30) == (200, {"status": "ok"}), name

        async def ready(url: str = url) -> dict[str, str] | None:
            status, body = await get_json(f"{url}/readyz")
            return body["checks"] if status == 200 else None

        checks = await eventually_async(ready, timeout=30, what=f"{name} ready")
        expected = {"nats": "ok", "s3": "ok"}
        if name != "normalize":  # normalize has no database
            expected["postgres"] = "ok"
        assert checks == expected, (name, checks)
    status, body = await get_json(f"{observed_system.gateway_url}/v1/ready")
    assert (status, body["status"]) == (200, "ok")


async def test_metrics_move_by_exactly_what_the_run_did(
    observed_run: tuple[dict[str, Any], dict[str, Scrape], dict[str, Scrape]],
) -> None:
    _run, before, after = observed_run
    processed = "relay_messages_processed_total"
    print("\n/metrics of normalize after the run (excerpt):")
    for name, labels, value in after["normalize"].samples:
        if name.startswith(("relay_", processed)) and "_bucket" not in name:
            print(f"  {name}{labels} {value:g}")
    consumed = {
        (service, subject, status): delta(
            before[service], after[service], processed, subject=subject, status=status
        )
        for service, subject in [
            ("ingest", "run.requested"),
            ("normalize", "feed.received"),
            ("pricing", "rows.normalized"),
            ("gateway", "feed.received"),
            ("gateway", "rows.normalized"),
            ("gateway", "offers.merged"),
        ]
        for status in ("acked", "nacked", "rejected", "error")
    }
    assert {k: v for k, v in consumed.items() if v} == {
        ("ingest", "run.requested", "acked"): 1,
        ("normalize", "feed.received", "acked"): VENDORS,
        ("pricing", "rows.normalized", "acked"): VENDORS,
        ("gateway", "feed.received", "acked"): VENDORS,
        ("gateway", "rows.normalized", "acked"): VENDORS,
        ("gateway", "offers.merged", "acked"): 1,
    }
    published = "relay_events_published_total"
    publishes = [("ingest", "feed.received", 3), ("pricing", "offers.merged", 1)]
    for service, subject, stored in publishes:
        was, now = before[service], after[service]
        counted = {
            status: delta(was, now, published, subject=subject, status=status)
            for status in ("stored", "duplicate")
        }
        assert counted == {"stored": stored, "duplicate": 0}, service
    duration = "relay_message_processing_seconds_count"
    assert delta(before["normalize"], after["normalize"], duration, subject="feed.received") == 3
    stage = "relay_run_stage_duration_seconds_count"
    assert delta(before["normalize"], after["normalize"], stage, subject="feed.received") == 3
    assert delta(before["pricing"], after["pricing"], stage, subject="rows.normalized") == 3
    assert after["normalize"].value("relay_run_stage_duration_seconds_sum") > 0
    http = "relay_http_request_duration_seconds_count"
    assert delta(before["gateway"], after["gateway"], http, route="/v1/runs", method="POST") == 1
    runs = "relay_runs"
    assert delta(before["gateway"], after["gateway"], runs, status="SUCCEEDED") == 1
    assert after["gateway"].value(runs, status="RUNNING") == 0
    for service in ("ingest", "normalize", "pricing"):
        assert after[service].value("relay_messages_dead_lettered_total") == 0
        assert after[service].value("relay_consumer_pending_messages") == 0
        assert after[service].value("relay_consumer_ack_pending_messages") == 0


def render_tree(spans: list[ReceivedSpan]) -> str:
    """The trace as indented text: service, span name, duration."""
    children: dict[str, list[ReceivedSpan]] = {}
    for span in sorted(spans, key=lambda s: s.start_ns):
        children.setdefault(span.parent_id, []).append(span)
    lines: list[str] = []

    def walk(parent: str, depth: int) -> None:
        for span in children.get(parent, []):
            lines.append(
                f"{'  ' * depth}{span.service:<10} {span.name:<45} {span.duration_ms:9.1f} ms"
            )
            walk(span.span_id, depth + 1)

    walk("", 0)
    return "\n".join(lines)


#: who publishes each subject: a consumer's ``<subject> process`` span is a child of that
#: service's ``<subject> create`` span (the traceparent the message carried)
PRODUCERS = {
    "run.requested": "gateway",
    "feed.received": "ingest",
    "rows.normalized": "normalize",
    "offers.merged": "pricing",
    "insight.generated": "insights",
    "channel.acted": "channels",
    "order.shipped": "gateway",
    "order.recorded": "insights",
}
#: the hops a run of the example tenant crosses: the pipeline, then every consumer of its
#: merged feed, the insights it opens (the example's amazon buffer leaves ALT-8001 at 0),
#: the dry-run action channels audits for it and its echo in insights, sheets and gateway
RUN_HOPS = {
    ("ingest", "run.requested process"),
    ("normalize", "feed.received process"),
    ("normalize", "feed.received handle"),  # normalize's two workers: handled in a task
    ("pricing", "rows.normalized process"),
    ("gateway", "offers.merged process"),
    ("insights", "offers.merged process"),
    ("sheets", "offers.merged process"),
    ("channels", "offers.merged process"),
    ("channels", "insight.generated process"),
    ("sheets", "insight.generated process"),
    ("gateway", "insight.generated process"),
    ("insights", "channel.acted process"),
}
#: the hops a shipped order that empties amazon's BAT-5001 crosses
ORDER_HOPS = {
    ("insights", "order.shipped process"),
    ("insights", "order.shipped handle"),
    ("sheets", "order.shipped process"),
    ("sheets", "order.shipped handle"),
    ("gateway", "order.recorded process"),
    ("gateway", "order.recorded handle"),
    ("channels", "insight.generated process"),
    ("sheets", "insight.generated process"),
    ("gateway", "insight.generated process"),
    ("insights", "channel.acted process"),
    ("sheets", "channel.acted process"),
    ("gateway", "channel.acted process"),
}


async def complete_trace(
    receiver: OtlpReceiver, attribute: str, value: str, hops: set[tuple[str, str]]
) -> list[ReceivedSpan]:
    """The one trace whose spans carry ``attribute=value``, once it holds every one of the
    (service, span name) ``hops`` and no span whose parent has not arrived."""

    def whole() -> list[ReceivedSpan] | None:
        trace_ids = {span.trace_id for span in receiver.with_attribute(attribute, value)}
        if len(trace_ids) != 1:
            return None
        spans = receiver.trace(trace_ids.pop())
        ids = {span.span_id for span in spans}
        orphans = [s for s in spans if s.parent_id and s.parent_id not in ids]
        if orphans or not hops <= {(s.service, s.name) for s in spans}:
            return None
        return spans

    return await eventually(whole, timeout=30, what=f"the whole trace of {attribute}={value}")


def assert_linked(spans: list[ReceivedSpan], root: tuple[str, str]) -> None:
    """One root, no orphan, and every consumer span a child of its producer's create span:
    the trace crosses each NATS hop by parent link, not by attribute. The work of a consumer
    with several workers is its ``<subject> handle`` span, a child of its ``process`` span."""
    roots = [span for span in spans if not span.parent_id]
    assert [(r.service, r.name) for r in roots] == [root]
    by_id = {span.span_id: span for span in spans}
    assert [s for s in spans if s.parent_id and s.parent_id not in by_id] == []
    for span in spans:
        subject, _, kind = span.name.rpartition(" ")
        if kind == "handle":
            parent = by_id[span.parent_id]
            assert (parent.service, parent.name) == (span.service, f"{subject} process")
        if kind != "process" or subject not in PRODUCERS:
            continue
        parent = by_id[span.parent_id]
        assert (parent.service, parent.name) == (PRODUCERS[subject], f"{subject} create"), (
            span.service,
            span.name,
        )


async def test_a_run_is_one_trace_across_every_service(
    observed_run: tuple[dict[str, Any], dict[str, Scrape], dict[str, Scrape]],
    receiver: OtlpReceiver,
) -> None:
    run, _before, _after = observed_run
    run_id = run["run_id"]
    spans = await complete_trace(receiver, "run_id", run_id, RUN_HOPS)
    print(f"\ntrace of run {run_id}:\n{render_tree(spans)}")
    assert_linked(spans, ("gateway", "POST /v1/runs"))
    assert {span.service for span in spans} == set(SERVICES)
    processed = {
        (span.service, span.name): span.attributes
        for span in spans
        if span.name.endswith(" process")
    }
    for key in [
        ("ingest", "run.requested process"),
        ("normalize", "feed.received process"),
        ("pricing", "rows.normalized process"),
        ("gateway", "offers.merged process"),
    ]:
        attributes = processed[key]
        assert (attributes["run_id"], attributes["tenant_id"]) == (run_id, run["tenant_id"]), key
        assert attributes["correlation_id"], key
    by_id = {span.span_id: span for span in spans}
    # each hop's consumer descends from the previous service's span
    for span in spans:
        if span.name == "feed.received process" and span.service == "normalize":
            ancestors = set()
            parent = by_id.get(span.parent_id)
            while parent is not None:
                ancestors.add(parent.service)
                parent = by_id.get(parent.parent_id)
            assert ancestors == {"ingest", "gateway"}


async def test_a_shipped_order_is_one_trace_from_the_webhook(
    observed_system: LiveSystem,
    admin: GatewayClient,
    observed_run: tuple[dict[str, Any], dict[str, Scrape], dict[str, Scrape]],
    receiver: OtlpReceiver,
) -> None:
    tenant_id = observed_run[0]["tenant_id"]
    event_id = f"evt_{uuid.uuid4().hex[:10]}"
    answer = await admin.post_shipstation(
        signed_order(tenant_id, event_id), observed_system.webhook_secret, expect=(202,)
    )
    correlation_id = answer.headers["X-Correlation-ID"]
    spans = await complete_trace(receiver, "correlation_id", correlation_id, ORDER_HOPS)
    print(f"\ntrace of order {event_id}:\n{render_tree(spans)}")
    assert_linked(spans, ("gateway", "POST /v1/webhooks/shipstation"))
    assert {span.service for span in spans} == {"gateway", "insights", "sheets", "channels"}
    processed = [s for s in spans if s.name.endswith(" process")]
    assert {s.attributes["correlation_id"] for s in processed} == {correlation_id}
    assert {s.attributes["tenant_id"] for s in processed} == {tenant_id}


async def test_every_line_every_service_wrote_is_json_with_trace_ids_inside_spans(
    observed_system: LiveSystem,
    observed_run: tuple[dict[str, Any], dict[str, Scrape], dict[str, Scrape]],
    receiver: OtlpReceiver,
) -> None:
    run_id = observed_run[0]["run_id"]
    trace_ids = {s.trace_id for s in receiver.with_attribute("run_id", run_id)}
    handled: list[dict[str, Any]] = []
    for name in SERVICES:
        path = observed_system.services.log_path(name)
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                pytest.fail(f"{path.name}:{number} is not JSON: {line[:200]}")
            assert isinstance(record, dict)
            if record.get("event") == "event.handled" and record.get("run_id") == run_id:
                handled.append(record)
    assert handled, "no event.handled line of the run"
    assert {record["trace_id"] for record in handled} == trace_ids
    assert all(len(record["span_id"]) == 16 for record in handled)
