"""Settings read once from ``APP_*`` environment variables (pydantic-settings).

This module is the only place that reads the environment. Each service defines its own small
settings class by subclassing :class:`CommonSettings` and adding fields. :meth:`from_env
<CommonSettings.from_env>` reads every field ``foo`` from, highest precedence first:

1. the keyword overrides given to ``from_env`` (tests, ``relay up``);
2. ``APP_FOO``, or the text (stripped) of the file that ``APP_FOO_FILE`` names, for secrets
   kept out of the environment; setting both is an error. A class that declares a field
   ``foo_file`` itself reads ``APP_FOO_FILE`` as that field instead (the gateway's
   ``APP_WEBHOOK_SECRETS_FILE``, a file of extra secrets, one a line);
3. the file ``APP_FOO`` in the directory ``APP_SECRETS_DIR`` (a Docker or Kubernetes secrets
   mount), when that variable is set;
4. the field's default.

Empty variables count as unset; variable names match case-insensitively. Building a settings
class directly (``GatewaySettings(http_port=0)``) reads nothing but its arguments, so default
settings (e.g. for the AsyncAPI document) never depend on the machine.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self

from pydantic import AliasChoices, Field
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.sources.utils import parse_env_vars

from relay_shared.bus.delivery import DeliverySettings
from relay_shared.outbox import RETENTION_DAYS

ENV_PREFIX = "APP_"
FILE_SUFFIX = "_FILE"
SECRETS_DIR_VARIABLE = f"{ENV_PREFIX}SECRETS_DIR"


class SettingsSourceError(ValueError):
    """A source of settings cannot be read: a ``*_FILE`` that cannot be opened, a value given
    both directly and by file, or an ``APP_SECRETS_DIR`` that is no directory."""

    code = "settings_source_invalid"

    def __init__(self, message: str, *, variable: str, path: str | None = None) -> None:
        super().__init__(message)
        self.variable = variable
        self.path = path


class EnvironSource(EnvSettingsSource):
    """pydantic-settings' environment source (prefix, empty values ignored, parsing) over a
    given mapping instead of ``os.environ``."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(
            self._environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str
        )

    def variable(self, name: str) -> str:
        """How the field ``name``'s variable (with a suffix) is keyed in ``env_vars``."""
        full = f"{self.env_prefix}{name}"
        return full if self.case_sensitive else full.lower()


class FileReferenceSource(EnvironSource):
    """``APP_FOO_FILE=/path``: field ``foo`` is that file's text, stripped (validated like
    the text of ``APP_FOO``)."""

    def __call__(self) -> dict[str, Any]:
        # Not the base class's loop, which would wrap a SettingsSourceError in its own.
        values: dict[str, Any] = {}
        for field_name, field in self.settings_cls.model_fields.items():
            value, key, _ = self.get_field_value(field, field_name)
            if value is not None:
                values[key] = value
        return values

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        is_complex = self.field_is_complex(field)
        if f"{field_name}{FILE_SUFFIX.lower()}" in self.settings_cls.model_fields:
            return None, field_name, is_complex  # ``APP_FOO_FILE`` is a field of its own
        reference = self.env_vars.get(self.variable(field_name + FILE_SUFFIX.lower()))
        if not reference:
            return None, field_name, is_complex
        variable = f"{ENV_PREFIX}{field_name.upper()}"
        if self.env_vars.get(self.variable(field_name)):
            raise SettingsSourceError(
                f"{variable} and {variable}{FILE_SUFFIX} are both set; set one",
                variable=variable,
            )
        try:
            text = Path(reference).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingsSourceError(
                f"{variable}{FILE_SUFFIX} names a file that cannot be read: {exc}",
                variable=variable + FILE_SUFFIX,
                path=reference,
            ) from exc
        return text.strip(), field_name, is_complex


def secrets_dir(environ: Mapping[str, str]) -> Path | None:
    """The directory ``APP_SECRETS_DIR`` names (None when unset)."""
    raw = environ.get(SECRETS_DIR_VARIABLE)
    if not raw:
        return None
    path = Path(raw)
    if not path.is_dir():
        raise SettingsSourceError(
            f"{SECRETS_DIR_VARIABLE} is not a directory: {raw}",
            variable=SECRETS_DIR_VARIABLE,
            path=raw,
        )
    return path


class CommonSettings(BaseSettings, DeliverySettings):
    """What every service needs: where the bus, the database and the bucket are, how its
    consumers redeliver (:class:`~relay_shared.bus.delivery.DeliverySettings`), and how often
    its outbox is drained and how long published rows stay (:mod:`relay_shared.outbox`)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_ignore_empty=True, frozen=True, extra="ignore"
    )

    service_name: str = "relay"
    nats_url: str = "nats://127.0.0.1:4222"
    nats_stream: str = "RELAY"
    #: How long a starting service waits for NATS before it reports it unreachable and exits
    #: (the broker itself reconnects forever once connected).
    nats_start_timeout_s: float = Field(default=15.0, gt=0)
    stream_max_age_days: float = Field(default=14.0, gt=0)
    stream_max_bytes: int = Field(default=2 * 1024**3, gt=0)
    duplicate_window_s: float = Field(default=300.0, gt=0)
    database_url: str = "postgresql://postgres@127.0.0.1:5432/relay"
    s3_endpoint_url: str | None = None
    s3_bucket: str = "relay"
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    state_dir: Path = Path(".relay")
    log_level: str = "INFO"
    outbox_interval_s: float = Field(default=2.0, gt=0)
    outbox_retention_days: float = Field(default=RETENTION_DAYS, gt=0)
    #: A worker's ``/metrics``, ``/healthz`` and ``/readyz`` port (0: not served; the gateway
    #: serves them on its HTTP port). Its Prometheus metrics are collected only when served.
    metrics_port: int = Field(default=0, ge=0, le=65535)
    metrics_host: str = "0.0.0.0"  # a container's probes and scrapes come from outside
    #: Where spans go by OTLP/HTTP, read under the standard name ``OTEL_EXPORTER_OTLP_ENDPOINT``
    #: (unset: tracing off; :mod:`relay_shared.tracing`).
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices("otel_exporter_otlp_endpoint", "OTEL_EXPORTER_OTLP_ENDPOINT"),
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Building the class reads only its arguments; :meth:`from_env` reads the rest."""
        return (init_settings,)

    @classmethod
    def environment_sources(cls, environ: Mapping[str, str]) -> list[PydanticBaseSettingsSource]:
        """The sources :meth:`from_env` reads, lowest precedence first."""
        return [
            SecretsSettingsSource(cls, secrets_dir=secrets_dir(environ)),
            FileReferenceSource(cls, environ),
            EnvironSource(cls, environ),
        ]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Self:
        """Build the settings from the ``APP_*`` variables of ``environ`` (default: this
        process's environment), their files and the secrets directory; ``overrides`` win."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for source in cls.environment_sources(env):
            values.update(source())
        values.update(overrides)
        return cls(**values)
