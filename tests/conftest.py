"""Fixtures shared by the whole suite.

The stack is the same embedded NATS (JetStream), Postgres and S3 (moto) that ``relay up``
starts, once per test session (once per pytest-xdist worker: ``make test`` runs one a core);
when ``APP_NATS_URL`` / ``APP_DATABASE_URL`` / ``APP_S3_ENDPOINT_URL`` are set, those
servers are used instead. With
``RELAY_TEST_STACK=containers`` and a reachable Docker engine, NATS, Postgres and MinIO
containers (testcontainers) are the stack instead; with no engine, the embedded stack is used
and the tests that need the containers are skipped with that reason (tests/support/
container_stack.py). Tests isolate themselves by unique ids (tenant, run, stream names), never
by order.
"""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from relay_cli.stack import EmbeddedStack, StackEndpoints
from relay_shared.storage import ObjectStore, S3Settings, open_object_store
from tests.support.container_stack import (
    StackChoice,
    choose_stack,
    container_stack,
    docker_problem,
    nats_container,
)


def pytest_report_header(config: pytest.Config) -> str:
    return f"relay test stack: {_stack_choice(config).describe()}"


def _stack_choice(config: pytest.Config) -> StackChoice:
    """Chosen once per session (the Docker probe is asked at most once)."""
    choice: StackChoice | None = getattr(config, "_relay_stack_choice", None)
    if choice is None:
        choice = choose_stack(os.environ, docker_problem)
        config._relay_stack_choice = choice  # type: ignore[attr-defined]
    return choice


@pytest.fixture(scope="session")
def stack_choice(pytestconfig: pytest.Config) -> StackChoice:
    return _stack_choice(pytestconfig)


@pytest.fixture(scope="session")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    with EmbeddedStack(tmp_path_factory.mktemp("stack"), env=os.environ) as stack:
        yield stack


@pytest.fixture(scope="session")
def containers(stack_choice: StackChoice) -> Iterator[StackEndpoints]:
    """NATS, Postgres and MinIO containers; skipped (with the reason) unless chosen."""
    if stack_choice.kind != "containers":
        pytest.skip(stack_choice.reason or "the container stack is not chosen")
    with container_stack(os.environ) as endpoints:
        yield endpoints


@pytest.fixture(scope="session")
def stack(request: pytest.FixtureRequest, stack_choice: StackChoice) -> StackEndpoints:
    """The chosen stack's endpoints: the containers', else the embedded stack's."""
    if stack_choice.kind == "containers":
        endpoints: StackEndpoints = request.getfixturevalue("containers")
        return endpoints
    embedded: EmbeddedStack = request.getfixturevalue("embedded")
    return embedded.endpoints


@pytest.fixture(scope="module")
def isolated_bus(
    stack: StackEndpoints, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[StackEndpoints]:
    """The session's Postgres and S3 with a NATS server of the module's own, so its streams,
    durable consumers and backlog start empty (a stream's subjects cannot overlap another's,
    so isolation by stream name is impossible). NATS starts in milliseconds (a NATS container
    of its own on the container stack)."""
    if _stack_choice(request.config).kind == "containers":
        with nats_container(os.environ) as nats_url:
            yield dataclasses.replace(stack, nats_url=nats_url)
        return
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
