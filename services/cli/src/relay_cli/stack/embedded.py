"""Start what the environment does not provide: NATS, Postgres, S3 under one state dir."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import structlog

from relay_cli.stack.endpoints import (
    DEFAULT_S3_BUCKET,
    DEFAULT_S3_REGION,
    ENV_DATABASE_URL,
    ENV_NATS_URL,
    ENV_S3_ACCESS_KEY_ID,
    ENV_S3_BUCKET,
    ENV_S3_ENDPOINT_URL,
    ENV_S3_REGION,
    ENV_S3_SECRET_ACCESS_KEY,
    StackEndpoints,
)
from relay_cli.stack.errors import ProcessExitedError, ServerNotEmbeddedError
from relay_cli.stack.lifetime import HeldByBlock
from relay_cli.stack.nats import NatsServer
from relay_cli.stack.ports import free_port
from relay_cli.stack.postgres import PostgresServer
from relay_cli.stack.postgres_account import cluster_data_dir, postgres_run_as
from relay_cli.stack.s3 import (
    MOTO_ACCESS_KEY_ID,
    MOTO_SECRET_ACCESS_KEY,
    MotoServer,
    create_bucket_if_missing,
    s3_client,
)
from relay_cli.stack.server import EmbeddedServer

_log = structlog.get_logger(__name__)

#: How often a server that lost a race for its free port is moved to another one.
_PORT_RETRIES = 3


def _given(env: Mapping[str, str], key: str) -> str | None:
    value = env.get(key, "").strip()
    return value or None


class EmbeddedStack(HeldByBlock):
    """The servers of one ``relay`` state dir. Use as a context manager or start()/stop().

    A server whose URL is in ``env`` (``APP_NATS_URL``, ``APP_DATABASE_URL``,
    ``APP_S3_ENDPOINT_URL``) is not started; its attribute (``nats``, ``postgres``, ``s3``)
    stays None and its URL is passed through.
    """

    def __init__(
        self, state_dir: Path, env: Mapping[str, str] = os.environ, *, ready_timeout: float = 60.0
    ) -> None:
        self.state_dir = state_dir.resolve()
        self.log_dir = self.state_dir / "logs"
        self.ready_timeout = ready_timeout
        self.timings: dict[str, float] = {}
        self._env = dict(env)
        self.nats: NatsServer | None = None
        self.postgres: PostgresServer | None = None
        self.s3: MotoServer | None = None
        self._endpoints: StackEndpoints | None = None

    @property
    def endpoints(self) -> StackEndpoints:
        if self._endpoints is None:
            raise RuntimeError("the stack is not started")
        return self._endpoints

    def start(self) -> StackEndpoints:
        """Start the missing servers in parallel and wait until each is ready."""
        started = time.monotonic()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._create_servers()
            named: list[tuple[str, EmbeddedServer | None]] = [
                ("s3", self.s3), ("nats", self.nats), ("postgres", self.postgres)
            ]  # fmt: skip
            servers = [(name, server) for name, server in named if server is not None]
            for _, server in servers:  # moto first: its interpreter takes longest to boot
                server.launch()
            client = self._moto_client()  # built while the servers boot
            for name, server in servers:
                self._wait_ready(server)
                self.timings[name] = time.monotonic() - started
            self._endpoints = self._build_endpoints()
            if client is not None and client.meta.endpoint_url != self._endpoints.s3_endpoint_url:
                client.close()  # moto moved to another port after losing a port race
                client = self._moto_client()
            if client is not None:
                try:
                    create_bucket_if_missing(
                        client, self._endpoints.s3_bucket, self._endpoints.s3_region
                    )
                finally:
                    client.close()
        except BaseException:  # any exit, cancellation included: clean up, re-raise
            self.stop()
            raise
        self.timings["total"] = time.monotonic() - started
        _log.info("stack_ready", state_dir=str(self.state_dir), seconds=self.timings["total"])
        return self._endpoints

    def stop(self) -> None:
        """Stop every embedded server: S3, then Postgres (fast shutdown), then NATS."""
        for server in (self.s3, self.postgres, self.nats):
            if server is not None:
                server.stop()

    def _on_enter(self) -> StackEndpoints:
        return self.start()

    def _on_exit(self) -> None:
        self.stop()

    # -- in-place control, for crash and recovery tests ---------------------------------

    def stop_nats(self) -> None:
        self._require_nats().stop()

    def start_nats(self) -> float:
        return self._require_nats().start(self.ready_timeout)

    def restart_nats(self) -> float:
        """Stop NATS and start it again on the same port with the same JetStream store."""
        return self._require_nats().restart(self.ready_timeout)

    def stop_postgres(self) -> None:
        self._require_postgres().stop()

    def start_postgres(self) -> float:
        return self._require_postgres().start(self.ready_timeout)

    def restart_postgres(self) -> float:
        """Fast-shutdown Postgres and start it again on the same port with the same data."""
        return self._require_postgres().restart(self.ready_timeout)

    # -- internals -----------------------------------------------------------------------

    def _create_servers(self) -> None:
        if _given(self._env, ENV_S3_ENDPOINT_URL) is None:
            self.s3 = MotoServer(self.log_dir / "s3.log")
        if _given(self._env, ENV_NATS_URL) is None:
            self.nats = NatsServer(self.state_dir / "nats", self.log_dir / "nats.log")
        if _given(self._env, ENV_DATABASE_URL) is None:
            run_as = postgres_run_as()
            self.postgres = PostgresServer(
                cluster_data_dir(self.state_dir, run_as),
                self.log_dir / "postgres.log",
                run_as=run_as,
            )

    def _moto_client(self) -> Any:
        if self.s3 is None:
            return None
        return s3_client(
            self.s3.endpoint_url,
            region=_given(self._env, ENV_S3_REGION) or DEFAULT_S3_REGION,
            access_key_id=MOTO_ACCESS_KEY_ID,
            secret_access_key=MOTO_SECRET_ACCESS_KEY,
        )

    def _wait_ready(self, server: EmbeddedServer) -> float:
        for attempt in range(1, _PORT_RETRIES + 1):
            try:
                return server.wait_ready(self.ready_timeout)
            except ProcessExitedError as error:
                if attempt == _PORT_RETRIES or "address already in use" not in (
                    error.log_tail.lower()
                ):
                    raise
                _log.warning("port_taken_retrying", server=error.name, port=server.port)
                server.port = free_port()
                server.launch()
        raise AssertionError("unreachable")

    def _build_endpoints(self) -> StackEndpoints:
        env = self._env
        s3_given = self.s3 is None
        return StackEndpoints(
            nats_url=self.nats.url if self.nats else env[ENV_NATS_URL].strip(),
            database_url=self.postgres.url if self.postgres else env[ENV_DATABASE_URL].strip(),
            s3_endpoint_url=self.s3.endpoint_url if self.s3 else env[ENV_S3_ENDPOINT_URL].strip(),
            s3_bucket=_given(env, ENV_S3_BUCKET) or DEFAULT_S3_BUCKET,
            s3_region=_given(env, ENV_S3_REGION) or DEFAULT_S3_REGION,
            s3_access_key_id=(
                env.get(ENV_S3_ACCESS_KEY_ID, "") if s3_given else MOTO_ACCESS_KEY_ID
            ),
            s3_secret_access_key=(
                env.get(ENV_S3_SECRET_ACCESS_KEY, "") if s3_given else MOTO_SECRET_ACCESS_KEY
            ),
        )

    def _require_nats(self) -> NatsServer:
        if self.nats is None:
            raise ServerNotEmbeddedError("NATS", ENV_NATS_URL)
        return self.nats

    def _require_postgres(self) -> PostgresServer:
        if self.postgres is None:
            raise ServerNotEmbeddedError("Postgres", ENV_DATABASE_URL)
        return self.postgres


@contextmanager
def embedded_stack(
    state_dir: Path, env: Mapping[str, str] = os.environ
) -> Iterator[StackEndpoints]:
    """Start what ``env`` does not point at (under ``state_dir``); stop it on exit."""
    with EmbeddedStack(state_dir, env) as stack:
        yield stack.endpoints
