"""A gateway per test module, in-process on the real stack (NATS, Postgres, S3)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from relay_cli.stack import StackEndpoints
from relay_gateway.app import create_app
from relay_gateway.settings import GatewaySettings
from tests.gateway.harness import ADMIN_KEY, SECRET_KEY, WEBHOOK_SECRETS, Gateway

MAX_UPLOAD = 256 * 1024


def gateway_settings(
    stack: StackEndpoints, state_dir: Path, **overrides: object
) -> GatewaySettings:
    secrets_file = state_dir / "webhook_secrets"
    secrets_file.write_text(f"# rotated in\n{WEBHOOK_SECRETS[1]}\n")
    values: dict[str, object] = {
        "nats_url": stack.nats_url,
        "database_url": stack.database_url,
        "s3_endpoint_url": stack.s3_endpoint_url,
        "s3_bucket": stack.s3_bucket,
        "s3_region": stack.s3_region,
        "s3_access_key_id": stack.s3_access_key_id or None,
        "s3_secret_access_key": stack.s3_secret_access_key or None,
        "state_dir": state_dir,
        "secret_key": SecretStr(SECRET_KEY),
        "bootstrap_admin_key": SecretStr(ADMIN_KEY),
        "webhook_secrets": WEBHOOK_SECRETS[0],
        "webhook_secrets_file": secrets_file,
        "max_upload_bytes": MAX_UPLOAD,
        "dispatch_interval_s": 0.5,
        "shipstation_hosts": r"^ssapi\d*\.shipstation\.com$",
        **overrides,
    }
    return GatewaySettings.model_validate(values)


@asynccontextmanager
async def serving_gateway(
    stack: StackEndpoints, state_dir: Path, **overrides: object
) -> AsyncIterator[Gateway]:
    """A gateway in-process with ``gateway_settings(stack, state_dir, **overrides)``."""
    app = create_app(gateway_settings(stack, state_dir, **overrides))
    client = TestClient(TestServer(app.web))
    await client.start_server()
    try:
        yield Gateway(client=client, app=app, nats_url=stack.nats_url)
    finally:
        await client.close()


@pytest.fixture(scope="module")
async def gateway(
    stack: StackEndpoints, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Gateway]:
    async with serving_gateway(stack, tmp_path_factory.mktemp("gateway")) as served:
        yield served
