"""The run's explain index (:mod:`relay_shared.explain.index_format`), built from what the
run itself computed: the merge's ranked offers (every vendor's offer with its decision keys
and where each SKU's winner is, :func:`~relay_pricing.domain.merge.merge_offers` with
``keep_ranked``) and the priced winners with the step columns
:func:`~relay_pricing.domain.pricing_frame.with_price` keeps with ``steps=True``. Nothing is
computed again: a SKU's explain is a lookup of these rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from relay_pricing.domain.merge import RankedOffers, decision_keys
from relay_pricing.domain.pricing_frame import CLAMPED, FLOOR, ROUNDED
from relay_pricing.domain.rounding import PriceRule
from relay_shared.explain.index_format import (
    KEY_PREFIX,
    ExplainIndex,
    ExplainManifest,
    PriceRuleOut,
)
from relay_shared.tenant_config import TenantConfig
from relay_shared.tenant_config.models import NORMALIZED_COLUMNS

_NOT_NORMALIZED = ("sku", "vendor_id")


@dataclass(frozen=True, slots=True)
class ExplainParts:
    """What a run keeps for its explain index: every offer ranked (with the position of each
    merged row's winner among them), the priced winners with their step columns (None when
    no SKU has a winner) and the left-out SKUs."""

    ranked: RankedOffers
    priced: pl.DataFrame | None
    left_out: list[str]


def price_rule_out(config: TenantConfig) -> PriceRuleOut:
    pricing, rule = config.pricing, PriceRule.from_config(config.pricing)
    return PriceRuleOut(
        margin_basis=pricing.margin_basis,
        base_margin_pct=str(pricing.base_margin_pct),
        factor=str(rule.factor),
        include_shipping_handling=config.merge.best_offer.landed_cost.include_shipping_handling,
        min_price_cents=rule.min_cents,
        max_price_cents=rule.max_cents,
        enforce_map=rule.enforce_map,
        rounding_mode=rule.mode,
        rounding_ending_cents=rule.ending,
    )


_WINNER_COLUMNS = {
    "m_quantity_available": "quantity_available",
    "m_lead_time_days": "lead_time_days",
    "s_raw": "raw",
    "s_floor": FLOOR,
    "s_clamped": CLAMPED,
    "s_rounded": ROUNDED,
    "s_price": "price",
}


def _winner_columns(parts: ExplainParts) -> list[pl.Series]:
    """``winner`` and the winners' merged and step columns over every ranked offer: each
    priced row's values scattered to its winner's position (null elsewhere)."""
    height, positions = parts.ranked.offers.height, parts.ranked.winners
    columns = [pl.repeat(False, height, eager=True).alias("winner").scatter(positions, True)]
    for name, source in _WINNER_COLUMNS.items():
        empty = pl.repeat(None, height, dtype=pl.Int64, eager=True).alias(name)
        if parts.priced is not None:
            empty = empty.scatter(positions, parts.priced.get_column(source).cast(pl.Int64))
        columns.append(empty)
    return columns


def explain_index(
    config: TenantConfig,
    parts: ExplainParts,
    *,
    run_id: str,
    config_version: int | None,
) -> ExplainIndex:
    """The index rows (one per offer) and the manifest (without its buckets). No join and no
    sort: the winners are where the merge found them."""
    keys = decision_keys(config.merge)
    offers = parts.ranked.offers
    normalized = [
        name
        for name in NORMALIZED_COLUMNS
        if name in offers.columns and name not in _NOT_NORMALIZED
    ]
    frame = offers.select(
        "sku",
        "vendor_id",
        *normalized,
        pl.col("cost").is_not_null().alias("eligible"),
        pl.col("__shipping").alias("shipping_cents"),
        "landed",
        *(pl.col(column).cast(pl.Int64).alias(KEY_PREFIX + name) for name, column in keys),
    ).with_columns(_winner_columns(parts))
    merged = 0 if parts.priced is None else parts.priced.height
    manifest = ExplainManifest(
        run_id=run_id,
        tenant_id=config.tenant_id,
        config_version=config_version,
        strategy=config.merge.strategy,
        quantity_policy=config.merge.quantity_policy,
        fallback_lead_time_days=config.merge.best_offer.fallback_lead_time_days,
        decision_keys=[name for name, _ in keys],
        normalized_columns=normalized,
        rule=price_rule_out(config),
    )
    return ExplainIndex(frame, merged + len(parts.left_out), manifest)
