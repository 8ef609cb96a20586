"""Ingest's settings (``APP_*``)."""

from relay_shared.settings import CommonSettings


class IngestSettings(CommonSettings):
    service_name: str = "ingest"
