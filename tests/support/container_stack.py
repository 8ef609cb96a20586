"""Which stack the suite runs on, and the container one (``RELAY_TEST_STACK=containers``).

``RELAY_TEST_STACK`` unset or ``embedded``: the embedded NATS, Postgres and moto of
``relay up`` (tests/conftest.py). ``containers``: NATS (JetStream), Postgres and MinIO (the S3
backend) in Docker containers started by testcontainers' own modules, when a Docker engine
answers; when none does, the embedded stack is used and the tests that need the containers are
skipped with the reason. Images are pinned to a release (``RELAY_TEST_*_IMAGE`` override them).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from relay_cli.stack import StackEndpoints
from relay_cli.stack.endpoints import DEFAULT_S3_BUCKET, DEFAULT_S3_REGION
from relay_cli.stack.s3 import create_bucket_if_missing, s3_client

ENV_TEST_STACK = "RELAY_TEST_STACK"
NATS_IMAGE = "nats:2.10.22-alpine"
POSTGRES_IMAGE = "postgres:16.4-alpine"
MINIO_IMAGE = "minio/minio:RELEASE.2024-10-13T13-34-11Z"
#: the embedded Postgres' own settings that matter to the suite (many pools at once)
POSTGRES_COMMAND = "postgres -c max_connections=300 -c fsync=off -c synchronous_commit=off"

StackKind = Literal["embedded", "containers"]


class UnknownTestStackError(ValueError):
    """``RELAY_TEST_STACK`` names no stack."""


@dataclass(frozen=True)
class StackChoice:
    kind: StackKind
    #: why the containers are not used (None when they are)
    reason: str | None

    def describe(self) -> str:
        return self.kind if self.reason is None else f"{self.kind} ({self.reason})"


def choose_stack(env: Mapping[str, str], docker_problem: Callable[[], str | None]) -> StackChoice:
    """The stack ``env`` asks for; ``docker_problem`` (asked only for ``containers``) says
    why no Docker engine is usable, or None when one answers."""
    asked = env.get(ENV_TEST_STACK, "").strip().lower() or "embedded"
    if asked == "embedded":
        return StackChoice("embedded", f"{ENV_TEST_STACK} is not 'containers'")
    if asked != "containers":
        raise UnknownTestStackError(
            f"{ENV_TEST_STACK}={asked!r}: expected 'embedded' or 'containers'"
        )
    problem = docker_problem()
    if problem is None:
        return StackChoice("containers", None)
    return StackChoice(
        "embedded", f"{ENV_TEST_STACK}=containers but no Docker engine is reachable: {problem}"
    )


def docker_problem(timeout_s: int = 5) -> str | None:
    """Why testcontainers cannot reach a Docker engine (its own host resolution: ``DOCKER_HOST``,
    ``~/.testcontainers.properties``, the docker context), or None when one answers a ping."""
    from docker.errors import DockerException  # type: ignore[import-untyped]
    from requests.exceptions import RequestException
    from testcontainers.core.docker_client import DockerClient

    try:
        client = DockerClient(timeout=timeout_s).client
        client.ping()
        client.close()
    except (DockerException, RequestException, OSError) as error:
        return " ".join(str(error).split()) or type(error).__name__
    return None


def _image(env: Mapping[str, str], name: str, default: str) -> str:
    return env.get(f"RELAY_TEST_{name}_IMAGE", "").strip() or default


@dataclass(frozen=True)
class ContainerAddresses:
    """Where the started containers answer on the host."""

    nats: tuple[str, int]
    postgres: tuple[str, int]
    minio: tuple[str, int]


def container_endpoints(
    addresses: ContainerAddresses,
    *,
    postgres_credentials: tuple[str, str, str],
    minio_credentials: tuple[str, str],
    bucket: str = DEFAULT_S3_BUCKET,
    region: str = DEFAULT_S3_REGION,
) -> StackEndpoints:
    """The suite's endpoints on the containers (``postgres_credentials``: user, password,
    database; ``minio_credentials``: access key, secret key)."""
    user, password, database = postgres_credentials
    (nats_host, nats_port), (pg_host, pg_port), (s3_host, s3_port) = (
        addresses.nats, addresses.postgres, addresses.minio
    )  # fmt: skip
    return StackEndpoints(
        nats_url=f"nats://{nats_host}:{nats_port}",
        database_url=f"postgresql://{user}:{password}@{pg_host}:{pg_port}/{database}",
        s3_endpoint_url=f"http://{s3_host}:{s3_port}",
        s3_bucket=bucket,
        s3_region=region,
        s3_access_key_id=minio_credentials[0],
        s3_secret_access_key=minio_credentials[1],
    )


@contextmanager
def nats_container(env: Mapping[str, str] = os.environ) -> Iterator[str]:
    """A NATS server with JetStream in a container; yields its URL."""
    from testcontainers.community.nats import NatsContainer

    with NatsContainer(_image(env, "NATS", NATS_IMAGE), jetstream=True) as nats:
        host, port = nats.nats_host_and_port()
        yield f"nats://{host}:{port}"


def _minio(env: Mapping[str, str], region: str) -> Any:
    """The MinIO container, configured (not started)."""
    from testcontainers.community.minio import MinioContainer

    minio = MinioContainer(_image(env, "MINIO", MINIO_IMAGE))
    # the module sets the pre-2021 credential variables; newer releases read these
    for name, value in (
        ("MINIO_ROOT_USER", minio.access_key),
        ("MINIO_ROOT_PASSWORD", minio.secret_key),
        ("MINIO_SITE_REGION", region),
        ("MINIO_REGION", region),
    ):
        minio.with_env(name, value)
    return minio


def _make_bucket(endpoints: StackEndpoints) -> None:
    client = s3_client(
        endpoints.s3_endpoint_url,
        region=endpoints.s3_region,
        access_key_id=endpoints.s3_access_key_id,
        secret_access_key=endpoints.s3_secret_access_key,
    )
    try:
        create_bucket_if_missing(client, endpoints.s3_bucket, endpoints.s3_region)
    finally:
        client.close()


@contextmanager
def container_stack(env: Mapping[str, str] = os.environ) -> Iterator[StackEndpoints]:
    """NATS, Postgres and MinIO containers (stopped and removed on exit), the bucket made."""
    from testcontainers.community.nats import NatsContainer
    from testcontainers.community.postgres import PostgresContainer

    region = env.get("APP_S3_REGION", "").strip() or DEFAULT_S3_REGION
    with ExitStack() as started:
        nats = started.enter_context(NatsContainer(_image(env, "NATS", NATS_IMAGE), jetstream=True))
        postgres = PostgresContainer(_image(env, "POSTGRES", POSTGRES_IMAGE), driver=None)
        started.enter_context(postgres.with_command(POSTGRES_COMMAND))
        minio = started.enter_context(_minio(env, region))
        addresses = ContainerAddresses(
            nats=nats.nats_host_and_port(),
            postgres=(postgres.get_container_host_ip(), int(postgres.get_exposed_port(5432))),
            minio=(minio.get_container_host_ip(), int(minio.get_exposed_port(minio.port))),
        )
        endpoints = container_endpoints(
            addresses,
            postgres_credentials=(postgres.username, postgres.password, postgres.dbname),
            minio_credentials=(minio.access_key, minio.secret_key),
            bucket=env.get("APP_S3_BUCKET", "").strip() or DEFAULT_S3_BUCKET,
            region=region,
        )
        _make_bucket(endpoints)
        yield endpoints
