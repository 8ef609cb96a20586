"""Channels' settings (``APP_*``).

The marketplaces' base URLs are service settings (never tenant config: a tenant cannot point
the service, and its credentials, at another host): ``APP_CHANNELS_AMAZON_ENDPOINT`` (SP-API),
``APP_CHANNELS_AMAZON_AUTH_ENDPOINT`` (Login with Amazon), ``APP_CHANNELS_EBAY_ENDPOINT``.
``APP_SECRET_KEY`` opens the tenants' sealed marketplace credentials
(:mod:`relay_shared.secrets_box`). ``APP_CHANNELS_TIMEOUT_S`` bounds one marketplace call;
``APP_CHANNELS_WORKERS`` is how many insights one replica handles at once (a hanging
marketplace does not hold the others up). Every ``APP_CHANNELS_SWEEP_INTERVAL_S`` a replica
sends again the deferred actions whose day has come (:mod:`relay_channels.sweep`).
"""

from pathlib import Path

from pydantic import Field, SecretStr

from relay_shared.settings import CommonSettings


class ChannelsSettings(CommonSettings):
    service_name: str = "channels"
    secret_key: SecretStr = SecretStr("")
    outbox_interval_s: float = Field(default=2.0, gt=0)
    channels_amazon_endpoint: str = "https://sellingpartnerapi-na.amazon.com"
    channels_amazon_auth_endpoint: str = "https://api.amazon.com"
    channels_ebay_endpoint: str = "https://api.ebay.com"
    channels_timeout_s: float = Field(default=20.0, gt=0)
    channels_workers: int = Field(default=8, ge=1, le=64)
    #: Amazon Listings Items: 5 requests/s, burst 10 (per selling partner, shared by every
    #: replica through channels.rate_buckets)
    channels_amazon_rate_per_s: float = Field(default=5.0, gt=0)
    channels_amazon_burst: int = Field(default=10, ge=1)
    #: the longest a 429's Retry-After is waited in-process before the message is nak'ed
    channels_max_retry_wait_s: float = Field(default=5.0, ge=0)
    #: eBay: revisions of one listing per day
    channels_ebay_daily_revisions: int = Field(default=250, ge=1)
    #: how often deferred actions whose time has come are sent again
    channels_sweep_interval_s: float = Field(default=60.0, gt=0)
    #: TEST/DEMO ONLY: a file holding an offset in seconds added to the service's clock
    #: (relay_shared.clock.OffsetFileClock: eBay's revision day, the deferred sweep); never
    #: set in production
    clock_offset_file: Path | None = None
