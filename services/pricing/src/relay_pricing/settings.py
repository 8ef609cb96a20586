"""Pricing's settings (``APP_*``): the common ones, with how its consumers redeliver
(``APP_ACK_WAIT_S``, ``APP_MAX_DELIVER``, ``APP_RETRY_BASE_DELAY_S``,
``APP_RETRY_MAX_DELAY_S``; see :mod:`relay_shared.bus.delivery` for the retry budget)."""

from relay_shared.settings import CommonSettings


class PricingSettings(CommonSettings):
    service_name: str = "pricing"
