"""Ingest's V1 fetch refuses to publish a shipment whose store maps to something that is not
a channel name (a config from before channel names were checked): it records the shipment as
``invalid_channel`` and publishes nothing for it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from relay_cli.stack import StackEndpoints
from relay_ingest.adapters.shipstation_api import ShipstationApi
from relay_ingest.adapters.shipstation_shipments import ShipmentsRepository
from relay_ingest.domain.shipments import Shipment, decide
from relay_ingest.settings import IngestSettings
from relay_ingest.shipstation_handlers import ShipstationHandlers, UrlPolicy
from relay_shared.events import OrderItem, OrderShipped, ShipstationNotified
from relay_shared.runtime import Resources, open_resources
from relay_shared.secrets_box import SecretsBox
from relay_shared.tenant_config import TenantConfig
from relay_shared.tenant_config.models import ShipstationConfig
from tests.support.fake_shipstation import FakeShipstation, serving, shipment

API_KEY, API_SECRET = "ss-key-ch", "ss-secret-ch"
BOX = SecretsBox("test-secret-key-for-ingest-channel-checks")
STORES = {"1001": "amazon", "1002": "../../other", "1003": "Amazon Prime", "1004": "a" * 40}


def _shipment(store_id: str | None) -> Shipment:
    return Shipment(
        "1",
        "ORD-1",
        store_id,
        False,
        datetime(2026, 3, 2, tzinfo=UTC),
        (OrderItem(sku="S", quantity=1),),
    )


@pytest.mark.parametrize(
    ("store_id", "outcome"),
    [
        ("1001", "emit"),
        ("1002", "invalid_channel"),
        ("1003", "invalid_channel"),
        ("1004", "invalid_channel"),
        ("9999", "unknown_store"),
    ],
)
def test_a_store_mapped_to_a_non_channel_is_not_emitted(store_id: str, outcome: str) -> None:
    assert decide(_shipment(store_id), STORES) == outcome


class UncheckedConfigs:
    """A stored config version as an older gateway could have written it: its
    ``store_channels`` were never checked against the channel name pattern."""

    async def load(self, tenant_id: str, version: int) -> TenantConfig:
        section = ShipstationConfig.model_construct(
            webhook_token=None,
            api_key=BOX.seal(API_KEY),
            api_secret=BOX.seal(API_SECRET),
            store_channels=STORES,
        )
        return TenantConfig.model_construct(tenant_id=tenant_id, shipstation=section)


class Published:
    def __init__(self) -> None:
        self.events: list[OrderShipped] = []

    async def publish(self, event: OrderShipped) -> bool:
        self.events.append(event)
        return True


@pytest.fixture(scope="module")
async def resources(
    stack: StackEndpoints, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Resources]:
    state_dir: Path = tmp_path_factory.mktemp("ingest-channels")
    settings = IngestSettings.from_env(stack.as_env(), state_dir=state_dir)
    async with open_resources(
        settings, schema="ingest", migrations="relay_ingest.migrations", s3=False
    ) as opened:
        yield opened


@pytest.mark.stack
async def test_an_invalid_channel_is_recorded_and_never_published(
    resources: Resources, unique_id: str
) -> None:
    tenant_id = f"t-{unique_id}"
    batch = f"b-{unique_id}"
    base = int(unique_id[:7], 16) * 10
    published = Published()
    async with (
        serving(FakeShipstation(API_KEY, API_SECRET)) as fake,
        aiohttp.ClientSession() as session,
    ):
        fake.batches[batch] = [
            [
                shipment(base + index, int(store), [("SKU-1", 1)])
                for index, store in enumerate(STORES, 1)
            ]
        ]
        handlers = ShipstationHandlers(
            configs=UncheckedConfigs(),  # type: ignore[arg-type]
            box=BOX,
            source=ShipstationApi(session, per_minute=600),
            ledger=ShipmentsRepository(resources.pool),
            bus=published,
            url_policy=UrlPolicy(r"^127\.0\.0\.1$", allow_http=True),
        )
        await handlers.on_notified(
            ShipstationNotified(
                event_id=f"shipstation.notified:{tenant_id}:1",
                occurred_at=datetime.now(UTC),
                tenant_id=tenant_id,
                correlation_id=f"c-{unique_id}",
                resource_url=fake.url(batch),
                resource_type="SHIP_NOTIFY",
                config_version=1,
            )
        )
    rows = await resources.pool.fetch(
        "SELECT store_id, outcome, announced_at IS NOT NULL AS announced"
        " FROM shipstation_shipments WHERE tenant_id = $1 ORDER BY shipment_id",
        tenant_id,
    )

    assert [(e.channel, e.order_id) for e in published.events] == [("amazon", f"ORD-{base + 1}")]
    assert [tuple(row) for row in rows] == [
        ("1001", "emit", True),
        ("1002", "invalid_channel", False),
        ("1003", "invalid_channel", False),
        ("1004", "invalid_channel", False),
    ]
