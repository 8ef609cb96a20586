"""Shipped order lines and their effect on a channel's stock."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from relay_insights.domain.products import Product

OrderProblem = Literal["unknown_sku"]


@dataclass(frozen=True)
class OrderLine:
    order_id: str
    sku: str
    channel: str
    quantity: int
    shipped_at: datetime
    problem: OrderProblem | None = None


def order_lines(
    order_id: str,
    channel: str,
    items: Iterable[tuple[str, int]],
    shipped_at: datetime,
    known_skus: Iterable[str],
) -> list[OrderLine]:
    """One line per sku (an order naming a sku twice ships the sum), in first-seen order; a
    sku the channel does not list is marked ``unknown_sku``."""
    known = set(known_skus)
    totals: dict[str, int] = {}
    for sku, quantity in items:
        totals[sku] = totals.get(sku, 0) + quantity
    return [
        OrderLine(
            order_id=order_id,
            sku=sku,
            channel=channel,
            quantity=quantity,
            shipped_at=shipped_at,
            problem=None if sku in known else "unknown_sku",
        )
        for sku, quantity in totals.items()
    ]


def apply_sales(lines: Sequence[OrderLine], products: Mapping[str, Product]) -> list[Product]:
    """The channel's products after the (newly recorded) lines: quantity reduced, never below
    0, and ``last_sold_at`` moved forward to the shipment. Unknown skus change nothing."""
    updated: dict[str, Product] = {}
    for line in lines:
        product = updated.get(line.sku) or products.get(line.sku)
        if product is None or line.problem is not None:
            continue
        last_sold = product.last_sold_at
        updated[line.sku] = replace(
            product,
            quantity=max(0, product.quantity - line.quantity),
            last_sold_at=line.shipped_at if last_sold is None else max(last_sold, line.shipped_at),
        )
    return list(updated.values())
