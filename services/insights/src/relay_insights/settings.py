"""Insights' settings (``APP_*``)."""

from pydantic import Field

from relay_shared.settings import CommonSettings


class InsightsSettings(CommonSettings):
    service_name: str = "insights"
    outbox_interval_s: float = Field(default=2.0, gt=0)
