"""A SKU's price and quantity changes over the tenant's runs, from the gateway's read model
fed by ``offers.merged`` (pricing's change history): change-only, oldest first, kept 400
days. ``since`` (an ISO-8601 time with its zone, or a date: midnight UTC) keeps the runs as of
then or later.

Each entry is a run that added or removed the SKU (``price`` and ``quantity`` then give both
sides, null for the side without the SKU) or changed its price or quantity (the one that did
not change is null). Money is two-decimal text, as in the merged feed. A SKU that never
changed (or that the tenant never had) has an empty list.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from relay_gateway.adapters.sku_history import SkuChangeView, SkuHistory
from relay_gateway.domain.roles import Role
from relay_gateway.http.access import Call
from relay_gateway.http.errors import DependencyUnavailableError
from relay_gateway.http.listing_query import invalid
from relay_gateway.http.responses import respond
from relay_gateway.http.routing import Route

SKU_HISTORY = web.AppKey("sku_history", SkuHistory)
PATH = "/v1/tenants/{tenant_id}/skus/{sku}/history"


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class PriceChange(_Out):
    old: str | None
    new: str | None


class QuantityChange(_Out):
    old: int | None
    new: int | None


class SkuChangeOut(_Out):
    run_id: str
    as_of: datetime
    change: Literal["added", "removed", "changed"]
    price: PriceChange | None
    quantity: QuantityChange | None


class SkuHistoryOut(_Out):
    tenant_id: str
    sku: str
    since: datetime | None
    changes: list[SkuChangeOut]


def parse_since(raw: str | None) -> datetime | None:
    """``since`` as an aware time (422 naming ``since`` when it is not one)."""
    if raw is None:
        return None
    try:
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), datetime.min.time(), UTC)
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise invalid("since", "must be an ISO-8601 date, or a time with its zone")
    return parsed


def _money(cents: int | None) -> str | None:
    return None if cents is None else f"{Decimal(cents).scaleb(-2):.2f}"


def change_out(view: SkuChangeView) -> SkuChangeOut:
    both = view.change != "changed"
    price = both or view.price_old is not None or view.price_new is not None
    quantity = both or view.quantity_old is not None or view.quantity_new is not None
    return SkuChangeOut(
        run_id=view.run_id,
        as_of=view.as_of,
        change=view.change,
        price=PriceChange(old=_money(view.price_old), new=_money(view.price_new))
        if price
        else None,
        quantity=QuantityChange(old=view.quantity_old, new=view.quantity_new) if quantity else None,
    )


async def sku_history(call: Call) -> web.Response:
    history = call.request.app.get(SKU_HISTORY)
    if history is None:
        raise DependencyUnavailableError("the gateway is starting")
    since = parse_since(call.request.query.get("since"))
    sku = call.request.match_info["sku"]
    found = await history.repository.of_sku(call.tenant.tenant_id, sku, since)
    return respond(
        SkuHistoryOut(
            tenant_id=call.tenant.tenant_id,
            sku=sku,
            since=since,
            changes=[change_out(view) for view in found],
        )
    )


ROUTES = [
    Route(
        method="GET",
        path=PATH,
        handler=sku_history,
        summary="A SKU's price and quantity changes over the tenant's runs (change-only)",
        role=Role.VIEWER,
        ok=200,
        returns=SkuHistoryOut,
        errors=(422,),
        query=(("since", "string"),),
    ),
]
