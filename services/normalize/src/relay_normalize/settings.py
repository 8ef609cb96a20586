"""Normalize's settings (``APP_*``)."""

from relay_shared.settings import CommonSettings


class NormalizeSettings(CommonSettings):
    service_name: str = "normalize"
