"""Normalize's settings (``APP_*``): the common ones, how its consumers redeliver
(``APP_ACK_WAIT_S``, ``APP_RETRY_BASE_DELAY_S``, ``APP_RETRY_MAX_DELAY_S``; see
:mod:`relay_shared.bus.delivery` for the retry budget), and the bounds of one feed
(``APP_NORMALIZE_MAX_*``; the defaults and why are those of
:class:`relay_normalize.domain.FeedLimits`):

- ``APP_NORMALIZE_MAX_DECODED_BYTES`` (1 GiB), ``APP_NORMALIZE_MAX_ROWS`` (20,000,000),
  ``APP_NORMALIZE_MAX_COLUMNS`` (1,000), ``APP_NORMALIZE_MAX_CELL_BYTES`` (64 KiB),
  ``APP_NORMALIZE_MAX_LINE_BYTES`` (1 MiB, a JSONL line), ``APP_NORMALIZE_MAX_JSON_DEPTH`` (64),
  ``APP_NORMALIZE_MAX_SKU_MAP_BYTES`` (64 MiB);
- ``APP_NORMALIZE_SKU_MAP_CACHE_BYTES`` (256 MiB): SKU maps kept read between feeds;
- ``APP_NORMALIZE_MAX_FEED_MEMORY_BYTES`` (2 GiB): the estimated peak memory of one feed;
- ``APP_NORMALIZE_WORKERS`` (2): feeds normalized at once, as ``relay local-run`` does (one
  feed's download, upload and pure-Python steps overlap another's polars work). The process
  needs about workers × the feed memory above plus its resting 0.2 GB; a container's memory
  limit must allow that (deploy/base/normalize.yaml).
"""

from pydantic import Field

from relay_normalize.domain import DEFAULT_LIMITS, FeedLimits
from relay_shared.settings import CommonSettings


class NormalizeSettings(CommonSettings):
    service_name: str = "normalize"
    normalize_max_decoded_bytes: int = Field(default=DEFAULT_LIMITS.max_decoded_bytes, ge=1)
    normalize_max_rows: int = Field(default=DEFAULT_LIMITS.max_rows, ge=1)
    normalize_max_columns: int = Field(default=DEFAULT_LIMITS.max_columns, ge=1)
    normalize_max_cell_bytes: int = Field(default=DEFAULT_LIMITS.max_cell_bytes, ge=1)
    normalize_max_line_bytes: int = Field(default=DEFAULT_LIMITS.max_line_bytes, ge=1)
    normalize_max_json_depth: int = Field(default=DEFAULT_LIMITS.max_json_depth, ge=1)
    normalize_max_feed_memory_bytes: int = Field(default=DEFAULT_LIMITS.max_memory_bytes, ge=1)
    normalize_max_sku_map_bytes: int = Field(default=DEFAULT_LIMITS.max_sku_map_bytes, ge=1)
    #: SKU maps kept between feeds (by key and ETag), as polars frames, at most this many bytes.
    normalize_sku_map_cache_bytes: int = Field(default=256 * 1024 * 1024, ge=0)
    #: Feeds normalized at once (each within normalize_max_feed_memory_bytes).
    normalize_workers: int = Field(default=2, ge=1, le=16)

    def feed_limits(self) -> FeedLimits:
        """The bounds handed to the engine for every feed."""
        return FeedLimits(
            max_decoded_bytes=self.normalize_max_decoded_bytes,
            max_rows=self.normalize_max_rows,
            max_columns=self.normalize_max_columns,
            max_cell_bytes=self.normalize_max_cell_bytes,
            max_line_bytes=self.normalize_max_line_bytes,
            max_json_depth=self.normalize_max_json_depth,
            max_memory_bytes=self.normalize_max_feed_memory_bytes,
            max_sku_map_bytes=self.normalize_max_sku_map_bytes,
        )
