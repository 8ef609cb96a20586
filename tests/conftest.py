"""Fixtures shared by the whole suite.

The stack is the same embedded NATS (JetStream), Postgres and S3 (moto) that ``relay up``
starts, once per test session; when ``APP_NATS_URL`` / ``APP_DATABASE_URL`` /
``APP_S3_ENDPOINT_URL`` are set, those servers are used instead. Tests isolate themselves by
unique ids (tenant, run, stream names), never by order.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from relay_cli.stack import EmbeddedStack, StackEndpoints
from relay_shared.storage import ObjectStore, S3Settings, open_object_store


@pytest.fixture(scope="session")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    with EmbeddedStack(tmp_path_factory.mktemp("stack"), env=os.environ) as stack:
        yield stack


@pytest.fixture(scope="session")
def stack(embedded: EmbeddedStack) -> StackEndpoints:
    return embedded.endpoints


@pytest.fixture(scope="module")
def isolated_bus(
    stack: StackEndpoints, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StackEndpoints]:
    """The session's Postgres and S3 with a NATS server of the module's own, so its streams,
    durable consumers and backlog start empty (a stream's subjects cannot overlap another's,
    so isolation by stream name is impossible). NATS starts in milliseconds."""
    env = {k: v for k, v in stack.as_env().items() if k != "APP_NATS_URL"}
    with EmbeddedStack(tmp_path_factory.mktemp("nats"), env=env) as own:
        yield own.endpoints


@pytest.fixture
def unique_id() -> str:
    """A fresh id for tenants, runs and events of one test."""
    return uuid.uuid4().hex[:12]


@pytest.fixture(scope="session")
async def object_store(stack: StackEndpoints) -> AsyncIterator[ObjectStore]:
    settings = S3Settings(
        bucket=stack.s3_bucket,
        region=stack.s3_region,
        endpoint_url=stack.s3_endpoint_url,
        access_key_id=stack.s3_access_key_id or None,
        secret_access_key=stack.s3_secret_access_key or None,
    )
    async with open_object_store(settings) as store:
        await store.ensure_bucket()
        yield store
