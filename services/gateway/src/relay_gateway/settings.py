"""The gateway's settings (``APP_*``), read once at start.

``APP_SECRET_KEY`` may come from a file (``APP_SECRET_KEY_FILE``, see
:mod:`relay_shared.settings`); ``APP_WEBHOOK_SECRETS_FILE`` names a file of webhook secrets
(one a line, ``#`` comments), used together with ``APP_WEBHOOK_SECRETS``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr

from relay_shared.settings import CommonSettings
from relay_shared.shipstation_urls import DEFAULT_SHIPSTATION_HOSTS


class GatewaySettings(CommonSettings):
    service_name: str = "gateway"
    http_host: str = "0.0.0.0"
    http_port: int = Field(default=8080, ge=0, le=65535)
    secret_key: SecretStr = SecretStr("")
    bootstrap_admin_key: SecretStr | None = None
    webhook_secrets: str = ""
    webhook_secrets_file: Path | None = None
    max_payload: int = Field(default=1024, ge=1)
    max_upload_bytes: int = Field(default=512 * 1024**2, ge=1)
    max_sku_map_bytes: int = Field(default=16 * 1024**2, ge=1)
    body_read_timeout_s: float = Field(default=30.0, gt=0)
    token_ttl_s: int = Field(default=24 * 3600, ge=60)
    presign_ttl_s: int = Field(default=900, ge=1, le=900)
    idempotency_ttl_s: int = Field(default=24 * 3600, ge=1)
    run_concurrency_cap: int = Field(default=2, ge=1)
    dispatch_interval_s: float = Field(default=5.0, gt=0)
    run_stuck_after_s: float = Field(default=900.0, gt=0)
    run_stuck_sweep_s: float = Field(default=30.0, gt=0)
    webhook_rate_per_s: int = Field(default=100, ge=1)
    shipstation_hosts: str = DEFAULT_SHIPSTATION_HOSTS
    shipstation_allow_http: bool = False
