"""Settings read once from ``APP_*`` environment variables.

This module is the only place that reads the environment. Each service defines its own small
settings class by subclassing :class:`CommonSettings` and adding fields; every field ``foo``
is read from ``APP_FOO``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field

ENV_PREFIX = "APP_"


class CommonSettings(BaseModel):
    """What every service needs: where the bus, the database and the bucket are."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    service_name: str = "relay"
    nats_url: str = "nats://127.0.0.1:4222"
    nats_stream: str = "RELAY"
    stream_max_age_days: float = Field(default=14.0, gt=0)
    stream_max_bytes: int = Field(default=2 * 1024**3, gt=0)
    duplicate_window_s: float = Field(default=300.0, gt=0)
    max_deliver: int = Field(default=8, ge=1)
    database_url: str = "postgresql://postgres@127.0.0.1:5432/relay"
    s3_endpoint_url: str | None = None
    s3_bucket: str = "relay"
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    state_dir: Path = Path(".relay")
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Self:
        """Build the settings from ``APP_*`` variables (``environ`` defaults to os.environ)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            raw = env.get(ENV_PREFIX + name.upper())
            if raw is not None and raw != "":
                values[name] = raw
        values.update(overrides)
        return cls.model_validate(values)
