"""Where the stack's servers are, as the ``APP_*`` variables the services read."""

from __future__ import annotations

from dataclasses import dataclass

ENV_NATS_URL = "APP_NATS_URL"
ENV_DATABASE_URL = "APP_DATABASE_URL"
ENV_S3_ENDPOINT_URL = "APP_S3_ENDPOINT_URL"
ENV_S3_BUCKET = "APP_S3_BUCKET"
ENV_S3_REGION = "APP_S3_REGION"
ENV_S3_ACCESS_KEY_ID = "APP_S3_ACCESS_KEY_ID"
ENV_S3_SECRET_ACCESS_KEY = "APP_S3_SECRET_ACCESS_KEY"
ENV_STATE_DIR = "APP_STATE_DIR"
ENV_HTTP_PORT = "APP_HTTP_PORT"

DEFAULT_S3_BUCKET = "relay"
DEFAULT_S3_REGION = "us-east-1"


@dataclass(frozen=True)
class StackEndpoints:
    """Connection settings for NATS, Postgres and S3 (embedded or given by URL)."""

    nats_url: str
    database_url: str
    s3_endpoint_url: str
    s3_bucket: str
    s3_region: str
    s3_access_key_id: str
    s3_secret_access_key: str

    def as_env(self) -> dict[str, str]:
        """The ``APP_*`` variables. Empty S3 credentials (external S3 without keys given)
        are left out so a service falls back to its default credential chain."""
        env = {
            ENV_NATS_URL: self.nats_url,
            ENV_DATABASE_URL: self.database_url,
            ENV_S3_ENDPOINT_URL: self.s3_endpoint_url,
            ENV_S3_BUCKET: self.s3_bucket,
            ENV_S3_REGION: self.s3_region,
            ENV_S3_ACCESS_KEY_ID: self.s3_access_key_id,
            ENV_S3_SECRET_ACCESS_KEY: self.s3_secret_access_key,
        }
        return {key: value for key, value in env.items() if value}
