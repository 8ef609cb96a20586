"""Ingest's settings (``APP_*``), read once: the common ones (with how its consumers
redeliver, :mod:`relay_shared.bus.delivery`) and those of its ShipStation fetch.

``APP_SECRET_KEY`` (or ``APP_SECRET_KEY_FILE``) opens the tenant's sealed ShipStation API key
and secret (see :mod:`relay_shared.secrets_box`); ``APP_SHIPSTATION_HOSTS`` (a regex) and
``APP_SHIPSTATION_ALLOW_HTTP`` say where those credentials may be sent, exactly as the gateway
checks a notification's ``resource_url``; ``APP_SHIPSTATION_REQUESTS_PER_MIN``,
``APP_SHIPSTATION_MAX_WAIT_S`` and ``APP_SHIPSTATION_TIMEOUT_S`` bound its calls.

Bucket drops (:mod:`relay_ingest.drop_wiring`): ``APP_INBOUND_POLL_S`` is the poll's interval
(0: no poll), ``APP_INBOUND_POLL_CONCURRENCY`` how many tenants it lists at once,
``APP_BUCKET_EVENTS_SUBJECT`` the NATS subject MinIO publishes its bucket
notifications to (empty: none). ``APP_SCHEDULE_TICK_S``: how often scheduled runs are looked
for (0: never); ``APP_CLOCK_OFFSET_FILE`` moves the time they run by (tests and demos only,
:mod:`relay_shared.clock`).

Vendor pulls (:mod:`relay_ingest.pull_wiring`, ``inbound.type`` https or sftp):
``APP_PULL_TICK_S`` how often due pulls are looked for (0: never), ``APP_PULL_CONCURRENCY``
how many run at once per replica, ``APP_PULL_TIMEOUT_S`` the longest one transfer may take,
``APP_PULL_RETRY_BASE_S`` and ``APP_PULL_MAX_ATTEMPTS`` the backoff of a transient failure,
``APP_PULL_CA_FILE`` extra CA certificates (PEM) to trust for https pulls,
``APP_PULL_ALLOW_PRIVATE`` whether a vendor URL may name a private or loopback address (an
on-premises vendor, tests; a redirect to another private host is refused even then), and
``APP_MAX_UPLOAD_BYTES`` (the gateway's upload limit) the largest feed a pull stores.
"""

from pathlib import Path

from pydantic import Field, SecretStr

from relay_shared.settings import CommonSettings
from relay_shared.shipstation_urls import DEFAULT_SHIPSTATION_HOSTS


class IngestSettings(CommonSettings):
    service_name: str = "ingest"
    secret_key: SecretStr = SecretStr("")
    shipstation_hosts: str = DEFAULT_SHIPSTATION_HOSTS
    shipstation_allow_http: bool = False
    shipstation_requests_per_min: int = Field(default=40, ge=1)
    shipstation_max_wait_s: float = Field(default=120.0, gt=0)
    shipstation_timeout_s: float = Field(default=30.0, gt=0)
    inbound_poll_s: float = Field(default=15.0, ge=0)
    inbound_poll_concurrency: int = Field(default=16, ge=1, le=256)
    bucket_events_subject: str = ""
    schedule_tick_s: float = Field(default=15.0, ge=0)
    clock_offset_file: Path | None = None
    pull_tick_s: float = Field(default=15.0, ge=0)
    pull_concurrency: int = Field(default=8, ge=1, le=256)
    pull_timeout_s: float = Field(default=900.0, gt=0)
    pull_retry_base_s: float = Field(default=30.0, gt=0)
    pull_max_attempts: int = Field(default=4, ge=1, le=20)
    pull_ca_file: str = ""
    pull_allow_private: bool = False
    max_upload_bytes: int = Field(default=512 * 1024**2, ge=1)
