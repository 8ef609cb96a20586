"""The pipeline tests' system: the gateway and the pipeline services (ingest, normalize,
pricing) in-process on the module's own NATS, with the suite's Postgres and S3."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from relay_cli.stack import StackEndpoints
from tests.gateway.conftest import serving_gateway
from tests.gateway.harness import STREAM, Gateway
from tests.support.running import running_pipeline


@pytest.fixture(scope="module")
async def system(
    isolated_bus: StackEndpoints, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Gateway]:
    """The gateway and the pipeline services on the module's own NATS."""
    async with (
        serving_gateway(isolated_bus, tmp_path_factory.mktemp("gateway")) as gateway,
        running_pipeline(isolated_bus, STREAM),
    ):
        yield gateway
