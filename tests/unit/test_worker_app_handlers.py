"""``WorkerApp`` takes one handler object or several: each consumer is bound to the object
whose class defines its method, when the resources open."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from relay_shared.errors import RelayError
from relay_shared.events import OffersMerged, OrderShipped
from relay_shared.settings import CommonSettings
from relay_shared.worker_app import HandlerNotFoundError, HandlersNotWiredError, WorkerApp


class Orders:
    async def on_order_shipped(self, event: OrderShipped) -> None: ...


class Feeds:
    async def on_offers_merged(self, event: OffersMerged) -> None: ...

    async def on_offers_failed(self, event: OffersMerged, error: RelayError) -> None: ...


class TwoHandlersApp(WorkerApp[CommonSettings, tuple[Orders, Feeds]]):
    service = "two"

    def __init__(self, settings: CommonSettings, objects: tuple[Orders, Feeds]) -> None:
        super().__init__(settings)
        self.objects = objects
        self.consume(OrderShipped, Orders.on_order_shipped)
        self.consume(OffersMerged, Feeds.on_offers_merged, Feeds.on_offers_failed)

    @asynccontextmanager
    async def open_handlers(self) -> AsyncIterator[tuple[Orders, Feeds]]:
        yield self.objects


async def test_each_consumer_is_bound_to_the_object_that_has_its_method() -> None:
    orders, feeds = Orders(), Feeds()
    app = TwoHandlersApp(CommonSettings(), (orders, feeds))
    routes = app._routes
    with pytest.raises(HandlersNotWiredError):
        _ = routes[0].target
    async with app.wired() as handlers:
        assert handlers == (orders, feeds)
        assert (routes[0].target, routes[1].target) == (orders, feeds)
        assert routes[1].permanent_hook() is not None
    with pytest.raises(HandlersNotWiredError):
        _ = app.handlers


class Other:
    pass


@pytest.mark.parametrize(
    ("objects", "message"),
    [
        ((Orders(), Other()), "0 of the handler objects .* define Feeds.on_offers_merged"),
        ((Orders(), Orders()), "2 of the handler objects .* define Orders.on_order_shipped"),
    ],
)
async def test_a_method_not_on_exactly_one_handler_object_is_a_wiring_error(
    objects: tuple[object, object], message: str
) -> None:
    app = TwoHandlersApp(CommonSettings(), objects)  # type: ignore[arg-type]
    with pytest.raises(HandlerNotFoundError, match=message):
        async with app.wired():
            pass
