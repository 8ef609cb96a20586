"""Ingest's settings (``APP_*``): the common ones plus how its consumers redeliver
(``APP_ACK_WAIT_S``, ``APP_RETRY_BASE_DELAY_S``, ``APP_RETRY_MAX_DELAY_S``; see
:mod:`relay_shared.bus.delivery` for the retry budget)."""

from relay_shared.bus import DeliverySettings
from relay_shared.settings import CommonSettings


class IngestSettings(CommonSettings, DeliverySettings):
    service_name: str = "ingest"
