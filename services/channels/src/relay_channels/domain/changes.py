"""What an action sets on a listing (pure), from the channel's config and the listing's facts
in the tenant's latest merged feed (price, MAP, merged quantity): insight events carry only
the quantity, so the merged feed pricing wrote is where the price and MAP come from.

- ``pause`` sets quantity 0; ``unpause`` the channel's quantity (its allocation of the merged
  quantity); ``reprice`` the new price (:mod:`.repricing`); the others set nothing.
- A change that cannot be made (no merged feed, the sku not in it, no price column, the price
  at the floor already) raises :class:`CannotActError`: the action is audited ``failed``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from relay_channels.domain.decisions import PlannedAction
from relay_channels.domain.repricing import NothingToRepriceError, pricing_floor, repriced
from relay_channels.domain.requests import Change
from relay_shared.channel_config import ChannelConfig
from relay_shared.events import ProductStatus

STATUS_AFTER: dict[str, ProductStatus] = {
    "pause": "paused",
    "unpause": "active",
    "delist": "delisted",
}


@dataclass(frozen=True)
class ListingFacts:
    """A sku's row of the latest merged feed."""

    sku: str
    merged_quantity: int
    price: Decimal | None
    map_price: Decimal | None


class CannotActError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


def needs_facts(action: str) -> bool:
    return action in ("unpause", "reprice")


def change_for(
    planned: PlannedAction,
    config: ChannelConfig,
    facts: ListingFacts | None,
    min_price: Decimal,
    currency: str,
) -> Change:
    if planned.action == "pause":
        return Change(planned.action, planned.sku, quantity=0, currency=currency)
    if not needs_facts(planned.action):
        return Change(planned.action, planned.sku, currency=currency)
    if facts is None:
        raise CannotActError("no_listing_facts", f"sku {planned.sku} is in no merged feed yet")
    if planned.action == "unpause":
        quantity = config.allocation.channel_quantity(facts.merged_quantity)
        return Change(planned.action, planned.sku, quantity=quantity, currency=currency)
    slow = config.actions.slow_mover
    if slow is None or facts.price is None:
        raise CannotActError("no_price", f"the merged feed has no price for sku {planned.sku}")
    floor = pricing_floor(slow.floor, min_price, facts.map_price)
    try:
        price = repriced(facts.price, slow.reprice_pct, floor)
    except NothingToRepriceError as exc:
        raise CannotActError("at_floor", str(exc)) from exc
    return Change(planned.action, planned.sku, price=price, currency=currency)
