"""Insights' settings (``APP_*``)."""

from pathlib import Path

from pydantic import Field

from relay_shared.settings import CommonSettings


class InsightsSettings(CommonSettings):
    service_name: str = "insights"
    #: how often the scheduler looks for tenants whose daily evaluation is due
    evaluate_tick_s: float = Field(default=30.0, gt=0)
    #: transitions stored per batch (an evaluation streams what changes, memory stays bounded)
    evaluate_batch_size: int = Field(default=20_000, ge=100)
    #: order.shipped messages handled at once; those of one tenant share a transaction
    order_workers: int = Field(default=256, ge=1, le=4096)
    #: orders of one tenant recorded in one transaction, at most
    order_batch_size: int = Field(default=100, ge=1, le=1000)
    #: TEST/DEMO ONLY: a file holding an offset in seconds added to the scheduler's clock,
    #: re-read on every tick (relay_shared.clock.OffsetFileClock); never set in production
    clock_offset_file: Path | None = None
