"""Pure feed normalization: vendor bytes + tenant config → normalized CSV, findings, stats.

Public entry point: :func:`normalize_feed`.
"""

from relay_normalize.domain.feed import FeedStats, NormalizedFeed, normalize_feed
from relay_normalize.domain.findings import Finding
from relay_normalize.domain.limits import DEFAULT_LIMITS, FeedLimits
from relay_normalize.domain.normalized_csv import offers_csv, write_offers_csv
from relay_shared.tenant_config.models import NORMALIZED_COLUMNS

__all__ = [
    "DEFAULT_LIMITS",
    "NORMALIZED_COLUMNS",
    "FeedLimits",
    "FeedStats",
    "Finding",
    "NormalizedFeed",
    "normalize_feed",
    "offers_csv",
    "write_offers_csv",
]
