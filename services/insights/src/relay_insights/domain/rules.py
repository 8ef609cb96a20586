"""The insight rules (spec table), as pure functions of products and an as-of time.

Boundaries, where the spec's words leave a choice:
- slow_mover: listed at least ``slow_after_days`` ago (``listed_date <= as_of - N``) and no
  sale after ``as_of - N`` (a sale exactly N days ago no longer counts as recent).
- aged: listed *more* than ``aged_after_days`` ago (``listed_date < as_of - N``); any status.
- reallocation_candidate: the origin is slow or aged; the target is another channel of the
  same sku that sold it after ``as_of - slow_after_days`` or is out of stock of it. With
  several targets, an out-of-stock one wins, then the latest sale, then the channel name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from relay_insights.domain.products import Product
from relay_shared.channel_config import InsightKind, InsightsConfig

DetailValue = str | int | None


@dataclass(frozen=True, slots=True)
class Condition:
    """A rule that holds for a product at the evaluation time."""

    channel: str
    sku: str
    kind: InsightKind
    detail: dict[str, DetailValue] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ReallocationTarget:
    channel: str
    reason: str  # out_of_stock | recent_sale


#: A listing Relay paused for lack of stock is still out of stock: its insight stays open until
#: a restock resolves it (and the channel unpauses), so pausing never ends the insight itself.
STOCKED_STATUSES = ("active", "paused")


def is_out_of_stock(product: Product) -> bool:
    return product.status in STOCKED_STATUSES and product.quantity == 0


def sold_since(product: Product, cutoff: datetime) -> bool:
    return product.last_sold_at is not None and product.last_sold_at > cutoff


def is_slow_mover(product: Product, as_of: datetime, slow_after_days: int) -> bool:
    cutoff = as_of - timedelta(days=slow_after_days)
    return (
        product.status == "active"
        and product.quantity > 0
        and product.listed_date <= cutoff
        and not sold_since(product, cutoff)
    )


def is_aged(product: Product, as_of: datetime, aged_after_days: int) -> bool:
    return product.quantity > 0 and product.listed_date < as_of - timedelta(days=aged_after_days)


def reallocation_target(
    origin: Product, others: Sequence[Product], as_of: datetime, slow_after_days: int
) -> ReallocationTarget | None:
    """Where the origin's stock is wanted: another channel of the sku that is out of stock
    of it or sold it recently; None when no channel wants it."""
    cutoff = as_of - timedelta(days=slow_after_days)
    candidates: list[tuple[int, float, str, str]] = []
    for other in others:
        if other.channel == origin.channel or other.sku != origin.sku:
            continue
        if is_out_of_stock(other):
            candidates.append((0, 0.0, other.channel, "out_of_stock"))
        elif sold_since(other, cutoff) and other.last_sold_at is not None:
            candidates.append((1, -other.last_sold_at.timestamp(), other.channel, "recent_sale"))
    if not candidates:
        return None
    _, _, channel, reason = min(candidates)
    return ReallocationTarget(channel=channel, reason=reason)


def conditions(
    products: Sequence[Product], as_of: datetime, config: InsightsConfig
) -> list[Condition]:
    """Every rule that holds for ``products`` (all channels' listings of the skus evaluated).

    The same rules as :func:`is_out_of_stock`, :func:`is_slow_mover`, :func:`is_aged` and
    :func:`reallocation_target`, with the cutoffs computed once. The service finds the same
    conditions set-based (:mod:`relay_insights.adapters.changes`, held to this function by
    the tests) and builds their details with the functions below."""
    slow_cutoff = as_of - timedelta(days=config.slow_after_days)
    aged_cutoff = as_of - timedelta(days=config.aged_after_days)
    by_sku: dict[str, list[Product]] = {}
    for product in products:
        by_sku.setdefault(product.sku, []).append(product)
    found: list[Condition] = []
    for product in products:
        if product.quantity == 0:
            if product.status in STOCKED_STATUSES:
                detail = dict(OUT_OF_STOCK_DETAIL)
                found.append(Condition(product.channel, product.sku, "out_of_stock", detail))
            continue
        slow = (
            product.status == "active"
            and product.listed_date <= slow_cutoff
            and (product.last_sold_at is None or product.last_sold_at <= slow_cutoff)
        )
        aged = product.listed_date < aged_cutoff
        if slow or aged:
            found.extend(_slow_or_aged(product, by_sku[product.sku], slow, aged, as_of, config))
    return found


def _slow_or_aged(
    product: Product,
    same_sku: Sequence[Product],
    slow: bool,
    aged: bool,
    as_of: datetime,
    config: InsightsConfig,
) -> list[Condition]:
    found: list[Condition] = []
    quantity, listed, sold = product.quantity, product.listed_date, product.last_sold_at
    if slow:
        detail = slow_mover_detail(quantity, listed, sold)
        found.append(Condition(product.channel, product.sku, "slow_mover", detail))
    if aged:
        detail = aged_detail(quantity, listed)
        found.append(Condition(product.channel, product.sku, "aged", detail))
    target = None
    if len(same_sku) > 1:
        target = reallocation_target(product, same_sku, as_of, config.slow_after_days)
    if target is not None:
        detail = candidate_detail(product.channel, quantity, slow, target)
        found.append(Condition(product.channel, product.sku, "reallocation_candidate", detail))
    return found


#: the detail of an out_of_stock insight
OUT_OF_STOCK_DETAIL: dict[str, DetailValue] = {"quantity": 0}


def slow_mover_detail(
    quantity: int, listed_date: datetime, last_sold_at: datetime | None
) -> dict[str, DetailValue]:
    return {
        "quantity": quantity,
        "listed_date": _iso(listed_date),
        "last_sold_at": _iso(last_sold_at),
    }


def aged_detail(quantity: int, listed_date: datetime) -> dict[str, DetailValue]:
    return {"quantity": quantity, "listed_date": _iso(listed_date)}


def candidate_detail(
    origin: str, quantity: int, slow: bool, target: ReallocationTarget
) -> dict[str, DetailValue]:
    """A reallocation candidate's detail (its reason: slow_mover when slow, else aged)."""
    return {
        "origin_channel": origin,
        "target_channel": target.channel,
        "reason": "slow_mover" if slow else "aged",
        "target_reason": target.reason,
        "quantity": quantity,
    }


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.isoformat().replace("+00:00", "Z")
