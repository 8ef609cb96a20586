"""The embedded S3: moto's server mode, run as a subprocess (in-memory, dies with the stack)."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Any

import structlog
from botocore.exceptions import ClientError
from botocore.session import get_session

from relay_cli.stack.child_process import ChildProcess
from relay_cli.stack.ports import LOCALHOST, accepts_connections, free_port
from relay_cli.stack.readiness import wait_until

_log = structlog.get_logger(__name__)

#: moto accepts any credentials; these are the conventional ones.
MOTO_ACCESS_KEY_ID = "testing"
MOTO_SECRET_ACCESS_KEY = "testing"
_ALREADY_THERE = {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}


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


class MotoServer:
    """``python -m moto.server`` on ``host:port``. Its data lives in memory only."""

    def __init__(self, log_path: Path, *, port: int | None = None, host: str = LOCALHOST) -> None:
        self.host = host
        self.port = port if port is not None else free_port(host)
        self._log_path = log_path
        self._process: ChildProcess | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def process(self) -> ChildProcess | None:
        return self._process

    def launch(self) -> None:
        argv = [sys.executable, "-m", "moto.server", "-H", self.host, "-p", str(self.port)]
        self._process = ChildProcess("moto", argv, self._log_path)
        self._process.start()

    def wait_ready(self, timeout: float = 60.0) -> float:
        if self._process is None:
            raise RuntimeError("moto was not launched")
        took = wait_until(
            lambda: accepts_connections(self.host, self.port),
            what=f"S3 (moto) on {self.endpoint_url}",
            timeout=timeout,
            alive=self._process.check_alive,
        )
        _log.info("s3_ready", endpoint_url=self.endpoint_url, seconds=took)
        return took

    def start(self, timeout: float = 60.0) -> float:
        self.launch()
        return self.wait_ready(timeout)

    def stop(self, grace: float = 10.0) -> None:
        if self._process is not None:
            self._process.stop(signal.SIGTERM, grace)
            _log.info("s3_stopped", endpoint_url=self.endpoint_url)

    def is_running(self) -> bool:
        return self._process is not None and self._process.is_running()
