"""Sheets' settings (``APP_*``); workbooks live under ``APP_STATE_DIR/sheets``.

Writes are coalesced per workbook (see ``adapters.coalescing_writer``): a save waits
``APP_WRITE_LINGER_S`` after the oldest waiting message, and at least
``APP_WRITE_MIN_INTERVAL_S`` after the workbook's previous save, for others to join it (at once
when ``APP_WRITE_MAX_BATCH`` wait). ``APP_CONSUMER_WORKERS`` messages of ``order.shipped`` and
``insight.generated`` are handled at once, so up to that many share one save: it must cover
the message rate × the time one save of the largest workbook takes, or sheets falls behind.
"""

from pathlib import Path

from pydantic import Field

from relay_shared.settings import CommonSettings


class SheetsSettings(CommonSettings):
    service_name: str = "sheets"
    consumer_workers: int = Field(default=256, ge=1, le=4096)
    write_linger_s: float = Field(default=0.1, ge=0)
    write_min_interval_s: float = Field(default=1.0, ge=0)
    write_max_batch: int = Field(default=1000, ge=1)

    @property
    def sheets_dir(self) -> Path:
        return self.state_dir / "sheets"
