"""The Google client's Prometheus counters: every attempt by API (sheets, drive) and outcome,
the 429s received and the calls given up, exact for a known sequence against the fake, and
served on the sheets service's ``/metrics`` equal to what the fake answered."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from relay_cli.stack import StackEndpoints
from relay_shared.config_store import TenantConfigStore
from relay_shared.errors import PermanentError, TransientError
from relay_shared.metrics import ServiceMetrics
from relay_shared.runtime import run_worker
from relay_shared.storage import ObjectStore
from relay_sheets.adapters.google_api import SHEETS_MIME, GoogleApi
from relay_sheets.adapters.google_client import BoundedClientManager, RequestLimiter
from relay_sheets.adapters.google_metrics import GoogleMetrics
from relay_sheets.adapters.google_wiring import credentials_from
from relay_sheets.app import SheetsApp
from relay_sheets.devfake.google import FakeGoogle, Quotas, fake_google
from tests.sheets.google_stack import DURABLES, configured, google_config, sheets_settings
from tests.support.channel_events import offers_merged, put_merged
from tests.support.jetstream import delete_streams, nats_client, publish, wait_consumed
from tests.support.jetstream import wait_for_stream as wait_stream
from tests.support.polling import eventually_async
from tests.telemetry.scraping import Scrape, scrape

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def counters(text: bytes | str) -> Samples:
    """``relay_google_*_total`` samples: (name, sorted labels) → value."""
    body = text.decode() if isinstance(text, bytes) else text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
        if s.name.startswith("relay_google_") and s.name.endswith("_total")
    }


def requests(
    api: str, outcome: str, value: float
) -> tuple[tuple[str, tuple[tuple[str, str], ...]], float]:
    return ("relay_google_requests_total", (("api", api), ("outcome", outcome))), value


async def test_each_attempt_is_counted_by_api_and_outcome_with_429s_and_give_ups(
    tmp_path: Path,
) -> None:
    metrics = ServiceMetrics("sheets")
    async with fake_google(Quotas(per_user=6000, per_project=6000)) as fake:
        account = fake.write_service_account(tmp_path / "sa.json")
        manager = BoundedClientManager(
            lambda: credentials_from(account),
            RequestLimiter(6000, 6000),
            max_attempts=2,
            call_timeout_s=5,
            api_url=fake.url,
            metrics=GoogleMetrics(metrics.registry),
        )
        api = GoogleApi(manager)
        drive = fake.add_shared_drive()

        book = await api.create_file("Inventory – amazon", drive, SHEETS_MIME)  # drive ok
        fake.fail_next(429)
        await api.metadata(book)  # sheets: 429, then ok
        fake.fail_next(503)
        await api.list_files(f"'{drive}' in parents", drive)  # drive: 503, then ok
        fake.fail_next(503, 2)
        with pytest.raises(TransientError):
            await api.batch_get(book, ["'Sheet1'"], "FORMULA")  # sheets: 503 twice, given up
        fake.delete_file(book)
        with pytest.raises(PermanentError):
            await api.metadata(book)  # sheets: 404, not retried

        assert counters(await metrics.exposition()) == dict(
            [
                requests("drive", "ok", 2),
                requests("drive", "server_error", 1),
                requests("sheets", "ok", 1),
                requests("sheets", "rate_limited", 1),
                requests("sheets", "server_error", 2),
                requests("sheets", "refused", 1),
                (("relay_google_rate_limited_total", (("api", "sheets"),)), 1),
                (("relay_google_calls_given_up_total", (("api", "sheets"),)), 1),
            ]
        )
        assert [r.status for r in fake.log if r.kind != "token"] == [
            200, 429, 200, 503, 200, 503, 503, 404
        ]  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def serving(app: SheetsApp) -> AsyncIterator[None]:
    """The app with its operations port (``/metrics``), as ``relay serve`` runs it."""
    task = asyncio.create_task(
        run_worker(app.broker, app.settings, app.wired(), app.operations, app.in_flight)
    )
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def answered(fake: FakeGoogle, api: str, status: int) -> int:
    kinds = ("drive",) if api == "drive" else ("sheets-read", "sheets-write")
    return sum(1 for r in fake.log if r.kind in kinds and r.status == status)


def matches(scraped: Scrape, fake: FakeGoogle) -> bool:
    return all(
        scraped.value("relay_google_requests_total", api=api, outcome=outcome)
        == answered(fake, api, status)
        for api in ("sheets", "drive")
        for outcome, status in (("ok", 200), ("rate_limited", 429), ("server_error", 503))
    )


async def test_the_sheets_service_serves_what_google_answered_on_metrics(
    isolated_bus: StackEndpoints, tmp_path: Path, object_store: ObjectStore, unique_id: str
) -> None:
    stream = f"GMETRICS_{uuid.uuid4().hex[:8].upper()}"
    port = free_port()
    async with (
        fake_google(Quotas(per_user=6000, per_project=6000)) as fake,
        nats_client(isolated_bus.nats_url) as client,
    ):
        drive = fake.add_shared_drive()
        settings = sheets_settings(
            isolated_bus,
            stream,
            tmp_path,
            fake,
            metrics_port=port,
            metrics_host="127.0.0.1",
            google_scan_interval_s=600,
        )
        try:
            async with serving(SheetsApp(settings)):
                await wait_stream(client, stream)
                tenant = f"t-{unique_id}"
                await TenantConfigStore(object_store).save(tenant, 1, google_config(tenant, drive))
                fake.fail_next(503, api="drive")  # the first Drive call fails once
                seq = await publish(client, stream, configured(tenant, "Acme", ["amazon"], 1))
                await wait_consumed(client, stream, DURABLES["tenant.configured"], seq)
                fake.fail_next(429, api="sheets")  # the first Sheets call is refused once
                key = await put_merged(object_store, tenant, "run-1", ["A-1,1,2.00,W,v1,"])
                at = datetime(2026, 3, 1, 12, tzinfo=UTC)
                seq = await publish(client, stream, offers_merged(tenant, "run-1", key, at))
                await wait_consumed(client, stream, DURABLES["offers.merged"], seq)

                url = f"http://127.0.0.1:{port}"

                async def settled() -> Scrape | None:
                    scraped = await scrape(url)
                    return scraped if matches(scraped, fake) else None

                scraped = await eventually_async(settled, timeout=30)
        finally:
            await delete_streams(client, stream)

    assert scraped.value("relay_google_requests_total", api="drive", outcome="server_error") == 1
    assert scraped.value("relay_google_requests_total", api="sheets", outcome="rate_limited") == 1
    assert scraped.value("relay_google_rate_limited_total", api="sheets") == 1
    assert scraped.value("relay_google_requests_total", api="sheets", outcome="ok") > 0
