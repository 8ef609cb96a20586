"""Settings of ingest's ShipStation fetch (``APP_*``), on top of ingest's own.

``APP_SECRET_KEY`` opens the tenant's sealed API key and secret (see
:mod:`relay_shared.secrets_box`); ``APP_SHIPSTATION_HOSTS`` (a regex) and
``APP_SHIPSTATION_ALLOW_HTTP`` say where those credentials may be sent, exactly as the gateway
checks a notification's ``resource_url``.
"""

from __future__ import annotations

from pydantic import Field, SecretStr

from relay_ingest.settings import IngestSettings

DEFAULT_SHIPSTATION_HOSTS = r"^ssapi\d*\.shipstation\.com$"


class ShipstationSettings(IngestSettings):
    secret_key: SecretStr = SecretStr("")
    shipstation_hosts: str = DEFAULT_SHIPSTATION_HOSTS
    shipstation_allow_http: bool = False
    shipstation_requests_per_min: int = Field(default=40, ge=1)
    shipstation_max_wait_s: float = Field(default=120.0, gt=0)
    shipstation_timeout_s: float = Field(default=30.0, gt=0)


def shipstation_settings(settings: IngestSettings) -> ShipstationSettings:
    """``settings`` when they already are ShipStation settings, else ingest's settings with
    the ShipStation fields read from the environment."""
    if isinstance(settings, ShipstationSettings):
        return settings
    return ShipstationSettings.from_env(**settings.model_dump())
