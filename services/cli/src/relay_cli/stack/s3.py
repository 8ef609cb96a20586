"""The embedded S3: moto's server mode, run as a subprocess (in-memory, dies with the stack)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import structlog
from botocore.exceptions import ClientError
from botocore.session import get_session

from relay_cli.stack.child_process import ChildProcess
from relay_cli.stack.ports import LOCALHOST, accepts_connections
from relay_cli.stack.server import EmbeddedServer

_log = structlog.get_logger(__name__)

#: moto accepts any credentials; these are the conventional ones.
MOTO_ACCESS_KEY_ID = "testing"
MOTO_SECRET_ACCESS_KEY = "testing"
_ALREADY_THERE = {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}
#: moto keeps an object in memory up to this size and spools a larger one to a temporary file
#: (its default: 5 MiB, so every feed and artifact went through the disk: writing the spool
#: and reading it back were about a fifth of moto's CPU on the service bench). The stack's
#: data is in memory only, as its docstring says, for objects up to 512 MiB.
KEY_BUFFER_BYTES = 512 * 1024 * 1024


def s3_client(endpoint_url: str, *, region: str, access_key_id: str, secret_access_key: str) -> Any:
    """A synchronous botocore S3 client (building one takes ~0.4s: do it early)."""
    return get_session().create_client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
    )


def create_bucket_if_missing(client: Any, bucket: str, region: str) -> None:
    """Create ``bucket`` with ``client`` unless it exists (idempotent)."""
    kwargs: dict[str, object] = {"Bucket": bucket}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        client.create_bucket(**kwargs)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in _ALREADY_THERE:
            raise
    _log.info("s3_bucket_ready", bucket=bucket)


def ensure_bucket(
    endpoint_url: str, bucket: str, *, region: str, access_key_id: str, secret_access_key: str
) -> None:
    """Create ``bucket`` on ``endpoint_url`` unless it exists (idempotent)."""
    client = s3_client(
        endpoint_url,
        region=region,
        access_key_id=access_key_id,
        secret_access_key=secret_access_key,
    )
    try:
        create_bucket_if_missing(client, bucket, region)
    finally:
        client.close()


class MotoServer(EmbeddedServer):
    """``python -m moto.server`` on ``host:port``. Its data lives in memory only."""

    process_name = "moto"
    log_name = "s3"

    def __init__(self, log_path: Path, *, port: int | None = None, host: str = LOCALHOST) -> None:
        super().__init__(log_path, port=port, host=host)

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def launch(self) -> None:
        argv = [sys.executable, "-m", "moto.server", "-H", self.host, "-p", str(self.port)]
        env = {**os.environ, "MOTO_S3_DEFAULT_KEY_BUFFER_SIZE": str(KEY_BUFFER_BYTES)}
        self._process = ChildProcess(self.process_name, argv, self._log_path, env=env)
        self._process.start()

    def _answers(self) -> bool:
        return accepts_connections(self.host, self.port)

    def _describe(self) -> str:
        return f"S3 (moto) on {self.endpoint_url}"

    def _log_fields(self) -> dict[str, str]:
        return {"endpoint_url": self.endpoint_url}
