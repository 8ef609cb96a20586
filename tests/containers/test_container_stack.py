"""``RELAY_TEST_STACK=containers``: the suite on NATS, Postgres and MinIO containers
(testcontainers) where a Docker engine answers, else on the embedded stack with the container
tests skipped and the reason said. The selection is checked here without an engine; the
containers' own test runs where one is reachable."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest

from relay_cli.stack import StackEndpoints
from relay_shared.storage import S3Settings, open_object_store
from tests.support.container_stack import (
    MINIO_IMAGE,
    NATS_IMAGE,
    POSTGRES_IMAGE,
    ContainerAddresses,
    StackChoice,
    UnknownTestStackError,
    choose_stack,
    container_endpoints,
    docker_problem,
)
from tests.support.jetstream import nats_client

ROOT = Path(__file__).resolve().parents[2]
NO_ENGINE = "unix:///nonexistent/relay-test/docker.sock"


def _engine_down() -> str:
    return "Error while fetching server API version: connection refused"


def _engine_up() -> None:
    return None


@pytest.mark.parametrize(
    ("env", "probe", "expected"),
    [
        ({}, _engine_up, StackChoice("embedded", "RELAY_TEST_STACK is not 'containers'")),
        (
            {"RELAY_TEST_STACK": "embedded"},
            _engine_up,
            StackChoice("embedded", "RELAY_TEST_STACK is not 'containers'"),
        ),
        ({"RELAY_TEST_STACK": " Containers "}, _engine_up, StackChoice("containers", None)),
        (
            {"RELAY_TEST_STACK": "containers"},
            _engine_down,
            StackChoice(
                "embedded",
                "RELAY_TEST_STACK=containers but no Docker engine is reachable: "
                "Error while fetching server API version: connection refused",
            ),
        ),
    ],
)
def test_the_stack_is_chosen_from_the_environment_and_the_engine(
    env: dict[str, str], probe: object, expected: StackChoice
) -> None:
    assert choose_stack(env, probe) == expected  # type: ignore[arg-type]


def test_the_engine_is_asked_only_for_containers() -> None:
    def never() -> str | None:
        raise AssertionError("the Docker engine was probed")

    assert choose_stack({"RELAY_TEST_STACK": "embedded"}, never).kind == "embedded"


def test_an_unknown_stack_name_is_refused() -> None:
    with pytest.raises(UnknownTestStackError, match="RELAY_TEST_STACK='kind': expected"):
        choose_stack({"RELAY_TEST_STACK": "kind"}, _engine_up)


def test_an_unreachable_engine_is_reported_with_its_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOCKER_HOST", NO_ENGINE)
    problem = docker_problem(timeout_s=2)
    assert problem is not None
    assert "Error while fetching server API version" in problem


def test_the_endpoints_point_at_the_containers() -> None:
    addresses = ContainerAddresses(
        nats=("localhost", 32768), postgres=("localhost", 32769), minio=("127.0.0.1", 32770)
    )
    endpoints = container_endpoints(
        addresses,
        postgres_credentials=("test", "pw", "relay"),
        minio_credentials=("minioadmin", "miniosecret"),
    )
    assert endpoints.as_env() == {
        "APP_NATS_URL": "nats://localhost:32768",
        "APP_DATABASE_URL": "postgresql://test:pw@localhost:32769/relay",
        "APP_S3_ENDPOINT_URL": "http://127.0.0.1:32770",
        "APP_S3_BUCKET": "relay",
        "APP_S3_REGION": "us-east-1",
        "APP_S3_ACCESS_KEY_ID": "minioadmin",
        "APP_S3_SECRET_ACCESS_KEY": "miniosecret",
    }


def test_the_images_are_pinned_releases() -> None:
    for image in (NATS_IMAGE, POSTGRES_IMAGE, MINIO_IMAGE):
        assert re.fullmatch(r"[a-z0-9./-]+:[A-Za-z0-9._-]*\d[A-Za-z0-9._-]*", image), image


async def _exercise(endpoints: StackEndpoints) -> None:
    """JetStream stores and returns a message, Postgres answers with the suite's settings,
    S3 keeps an object: what every stack test needs of the three."""
    name = f"PROBE_{uuid.uuid4().hex[:8].upper()}"
    async with nats_client(endpoints.nats_url) as client:
        js = client.jetstream()
        await js.add_stream(name=name, subjects=[f"{name.lower()}.>"])
        ack = await js.publish(f"{name.lower()}.one", b"stored")
        message = await js.get_msg(name, ack.seq)
        await js.delete_stream(name)
    assert message.data == b"stored"
    connection = await asyncpg.connect(endpoints.database_url)
    try:
        assert await connection.fetchval("SHOW max_connections") == "300"
    finally:
        await connection.close()
    settings = S3Settings(
        bucket=endpoints.s3_bucket,
        region=endpoints.s3_region,
        endpoint_url=endpoints.s3_endpoint_url,
        access_key_id=endpoints.s3_access_key_id or None,
        secret_access_key=endpoints.s3_secret_access_key or None,
    )
    key = f"probe/{name}.txt"
    async with open_object_store(settings) as store:
        await store.put_bytes(key, b"kept", content_type="text/plain")
        assert await store.get_bytes(key) == b"kept"


@pytest.mark.stack
async def test_the_containers_serve_nats_postgres_and_minio(containers: StackEndpoints) -> None:
    await _exercise(containers)


@pytest.mark.stack
async def test_the_suite_stack_serves_nats_postgres_and_s3(
    stack: StackEndpoints, stack_choice: StackChoice
) -> None:
    await _exercise(stack)
    if stack_choice.kind == "containers":
        assert stack.s3_access_key_id == "minioadmin"  # MinIO is the S3 backend
    else:
        assert stack.s3_access_key_id != "minioadmin"


@pytest.mark.stack
def test_without_an_engine_the_container_tests_skip_and_the_embedded_stack_runs() -> None:
    """The suite itself, asked for containers where no engine answers: the header names the
    fallback, the container test is skipped with the reason, the stack test passes."""
    env = {**os.environ, "RELAY_TEST_STACK": "containers", "DOCKER_HOST": NO_ENGINE}
    for key in ("APP_NATS_URL", "APP_DATABASE_URL", "APP_S3_ENDPOINT_URL"):
        env.pop(key, None)
    selected = "test_the_containers_serve or test_the_suite_stack_serves"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", __file__, "-k", selected, "-rs", "-p", "no:cacheprovider"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    output = done.stdout
    assert done.returncode == 0, output[-3000:] + done.stderr[-2000:]
    reason = "RELAY_TEST_STACK=containers but no Docker engine is reachable: "
    assert f"relay test stack: embedded ({reason}" in output
    skipped = [line for line in output.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped) == 1, output[-3000:]
    assert reason in skipped[0]
    assert "test_container_stack.py" in skipped[0]
    assert "1 passed, 1 skipped" in output
