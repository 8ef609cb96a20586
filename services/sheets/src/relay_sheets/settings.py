"""Sheets' settings (``APP_*``); workbooks live under ``APP_STATE_DIR/sheets``.

Writes are coalesced per workbook (see ``adapters.coalescing_writer``): a save waits
``APP_WRITE_LINGER_S`` after the oldest waiting message, and at least
``APP_WRITE_MIN_INTERVAL_S`` after the workbook's previous save, for others to join it (at once
when ``APP_WRITE_MAX_BATCH`` wait). ``APP_CONSUMER_WORKERS`` messages of ``order.shipped`` and
``insight.generated`` are handled at once, so up to that many share one save: it must cover
the message rate × (``APP_WRITE_MIN_INTERVAL_S`` + the time one save of the largest workbook
takes), or sheets falls behind. With the default, 2048, sheets kept up with 400 orders/s over
10 tenants here on an earlier day (256 held about 200/s: ``tests/bench/bench_webhook.py``); on
2026-12-07 it fell 750-3,300 orders behind at 400/s with only the gateway beside it (about
0.73 cores, a third of it saving workbooks) and caught up 3-15 s after the load. A save
writes again the XML of the rows no edit changed since the workbook's last save
(``adapters.xlsx_writer``): with the gateway beside it sheets then fell 1,900-2,600 behind and
caught up 10-16 s after the load, where the code before fell 6,500-7,300 behind and had not
caught up 60 s after it (alternated runs, the same afternoon).

The Google backend (a tenant with ``sheets.backend: google``) authenticates with the service
account in ``APP_SERVICE_ACCOUNT_FILE`` and coalesces writes per spreadsheet with its own
``APP_GOOGLE_WRITE_*`` delays; every request passes a client-side limiter of
``APP_GOOGLE_REQUESTS_PER_MINUTE_PER_USER`` (Google: 60) and ``..._PER_PROJECT`` (300) in any
60 s. A 429 or 5xx is retried in process ``APP_GOOGLE_MAX_ATTEMPTS`` times with a back-off of
``min(2^n + jitter, 64)`` seconds, then the message is nak'ed with a delay (transient); each
attempt is bounded by ``APP_GOOGLE_CALL_TIMEOUT_S``. ``APP_GOOGLE_API_URL`` (tests, demo)
sends every Google request to that server instead (a local fake): the service account's
``token_uri`` must point there too.

Every ``APP_GOOGLE_SCAN_INTERVAL_S`` the Google channel folders are listed for spreadsheets
the merchant uploaded (``modifiedTime`` since the last scan): one with a sku column and at
most ``APP_UPLOAD_MAX_ROWS`` data rows becomes the channel's listings (``listings.imported``).

A merged feed longer than ``APP_XLSX_MAX_FEED_ROWS`` or ``APP_GOOGLE_MAX_FEED_ROWS`` is not
written row by row: the root spreadsheet's Summary tab says so (rows, limit, run; the full feed
is the run's artifact), the Merged feed tab keeps the last feed that fit, and channel Listings
only update the skus they already list (the feed read by polars, only those columns:
``domain.long_feed``; a million rows in about 100 MB). The limits are chosen on purpose:

- xlsx, 20,000 (at most 1,048,575, the format's 1,048,576 rows less the header): openpyxl
  holds a whole workbook in memory and rewrites it on every save, about 1 KB and 0.1 ms per
  cell; the first feed appends every sku to the Merged feed and to each channel's Listings,
  so 25,000 rows on 3 channels took 65 s and 0.5 GB on a loaded 2-core machine, 100,000 rows
  93 s and 1.6 GB (``tests/bench/bench_sheets_feed.py``).
- Google, 50,000: one flush is one ``values:batchUpdate``, whose body must stay a few MB; a
  spreadsheet holds 10,000,000 cells at most (the Merged feed's 50,000 × a few columns, plus
  the tabs, stay far below it).

A workbook stays loaded between its flushes (``adapters.workbook_cache``), reused while the
file on disk is byte for byte the one last saved: up to ``APP_XLSX_CACHE_CELLS`` cells (about
0.4 KB each; 0 turns it off), so a flush of a 20,000-row Listings does not parse it again.

The xlsx folder has one writer: at start the service takes a Postgres advisory lock keyed by
the folder's absolute path (works across nodes sharing one database) and refuses to start
when another process holds it (``APP_SHEETS_DIR_LOCK``: off only for tests of one process).
"""

from pathlib import Path

from pydantic import Field

from relay_shared.settings import CommonSettings


class SheetsSettings(CommonSettings):
    service_name: str = "sheets"
    consumer_workers: int = Field(default=2048, ge=1, le=4096)
    write_linger_s: float = Field(default=0.1, ge=0)
    write_min_interval_s: float = Field(default=1.0, ge=0)
    write_max_batch: int = Field(default=1000, ge=1)
    outbox_interval_s: float = Field(default=2.0, gt=0)
    service_account_file: Path | None = None
    google_api_url: str | None = None
    google_requests_per_minute_per_user: int = Field(default=60, ge=1)
    google_requests_per_minute_per_project: int = Field(default=300, ge=1)
    google_write_linger_s: float = Field(default=2.0, ge=0)
    google_write_min_interval_s: float = Field(default=5.0, ge=0)
    google_max_attempts: int = Field(default=5, ge=1, le=20)
    google_call_timeout_s: float = Field(default=30.0, gt=0)
    google_scan_interval_s: float = Field(default=60.0, gt=0)
    upload_max_rows: int = Field(default=20_000, ge=1)
    xlsx_cache_cells: int = Field(default=1_000_000, ge=0)
    xlsx_max_feed_rows: int = Field(default=20_000, ge=1, le=1_048_575)
    google_max_feed_rows: int = Field(default=50_000, ge=1, le=1_000_000)
    sheets_dir_lock: bool = True

    @property
    def sheets_dir(self) -> Path:
        return self.state_dir / "sheets"
