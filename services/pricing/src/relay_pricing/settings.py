"""Pricing's settings (``APP_*``)."""

from relay_shared.settings import CommonSettings


class PricingSettings(CommonSettings):
    service_name: str = "pricing"
