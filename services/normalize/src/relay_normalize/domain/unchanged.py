"""Unchanged and stale feeds.

Unchanged feeds: a vendor's feed whose bytes and normalization inputs equal those of the
vendor's last normalized feed is not normalized again; its result is that feed's (status
``unchanged``).

What normalization depends on besides the bytes is fingerprinted: the vendor's section of the
config (less ``inbound`` and ``freshness_max_age_h``, which say where feeds come from and how old
they may be), the tenant-wide settings the
engine reads (timezone, default currency, SKU case, error policy) and the SKU map's bytes. A
change to any of them normalizes the feed again. The reused rows keep the ``updated_at`` of
the run that normalized them (their data did not change).

Stale feeds: a feed written longer than the vendor's ``freshness_max_age_h`` before the run's
as-of fails with ``stale_feed`` (:func:`stale_problem`).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from relay_normalize.domain.clean.sku_map import SkuMap
from relay_shared.events import VendorCounts
from relay_shared.tenant_config import TenantConfig, VendorConfig


class LastNormalized(BaseModel):
    """The vendor's last successfully normalized feed (stored as JSON by normalize)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    feed_sha256: str
    inputs: str
    scope_id: str
    normalized_key: str
    findings_key: str
    counts: VendorCounts
    #: the Parquet hand-off beside the normalized CSV (None: stored before there was one)
    handoff_key: str | None = None


def last_normalized_key(tenant_id: str, vendor_id: str) -> str:
    """Beside the vendor's normalized folders (``.../normalized/{vendor}/{scope}/``)."""
    return f"tenants/{tenant_id}/normalized/{vendor_id}/last.json"


def inputs_fingerprint(
    config: TenantConfig, vendor: VendorConfig, sku_map: SkuMap | bytes | None
) -> str:
    """SHA-256 of what shapes the vendor's normalized rows, other than the feed's bytes."""
    shaping = {
        "vendor": vendor.model_dump(mode="json", exclude={"inbound", "freshness_max_age_h"}),
        "timezone": config.timezone,
        "default_currency": config.default_currency,
        "sku": config.sku.model_dump(mode="json"),
        "error_policy": config.error_policy.model_dump(mode="json"),
        "sku_map": _sku_map_digest(sku_map),
    }
    return hashlib.sha256(json.dumps(shaping, sort_keys=True).encode()).hexdigest()


def reusable(
    last: LastNormalized | None, feed_sha256: str, inputs: str, scope_id: str
) -> LastNormalized | None:
    """``last`` when the feed is unchanged; None when it must be normalized. A feed of the
    same scope (a redelivery) is normalized again, so a replay yields the same event."""
    if last is None or last.scope_id == scope_id:
        return None
    if (last.feed_sha256, last.inputs) != (feed_sha256, inputs):
        return None
    return last


def stale_problem(written_at: datetime, as_of: datetime, max_age_h: Decimal) -> str | None:
    """Why a feed written at ``written_at`` is too old for a run as of ``as_of`` (None when
    it is fresh enough): the vendor's ``freshness_max_age_h``."""
    age_h = Decimal((as_of - written_at).total_seconds()) / 3600
    if age_h <= max_age_h:
        return None
    return (
        f"the feed is {age_h.quantize(Decimal('0.1'))} h old at the run's as-of, older than"
        f" freshness_max_age_h {max_age_h}"
    )


def _sku_map_digest(sku_map: SkuMap | bytes | None) -> str | None:
    """The SHA-256 of the map file's bytes (a map read from a file keeps it)."""
    if isinstance(sku_map, SkuMap):
        return sku_map.sha256
    return None if sku_map is None else hashlib.sha256(sku_map).hexdigest()
