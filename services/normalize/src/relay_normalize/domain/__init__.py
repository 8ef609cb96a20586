"""Pure feed normalization: vendor bytes + tenant config → normalized offers, findings, counts.

Read (:mod:`.read`) → clean (:mod:`.clean`) → write (:mod:`.write`), put together by
:func:`normalize_feed` (:mod:`.feed`), the entry point.
"""

from relay_normalize.domain.feed import normalize_feed
from relay_normalize.domain.limits import DEFAULT_LIMITS, FeedLimits
from relay_normalize.domain.write.normalized_csv import offers_csv, write_offers_csv
from relay_normalize.domain.write.report import NormalizedFeed
from relay_shared.tenant_config.models import NORMALIZED_COLUMNS

__all__ = [
    "DEFAULT_LIMITS",
    "NORMALIZED_COLUMNS",
    "FeedLimits",
    "NormalizedFeed",
    "normalize_feed",
    "offers_csv",
    "write_offers_csv",
]
