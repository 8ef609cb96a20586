"""The embedded stack: local NATS (JetStream), Postgres and S3 (moto), and the service
processes on top of them. Used by ``relay up`` and by tests.

    with EmbeddedStack(state_dir, env={}) as stack:
        stack.endpoints.as_env()      # APP_NATS_URL, APP_DATABASE_URL, APP_S3_* ...
        stack.restart_nats()          # same port, same JetStream store
        with ServiceProcesses.for_stack(stack.endpoints, state_dir) as services:
            services.start_all()
            services.kill("ingest"); services.start("ingest")
"""

from relay_cli.stack.embedded import EmbeddedStack, embedded_stack
from relay_cli.stack.endpoints import StackEndpoints
from relay_cli.stack.environment import DEFAULT_HTTP_PORT, service_env
from relay_cli.stack.errors import (
    BinaryNotFoundError,
    CommandFailedError,
    ProcessExitedError,
    ReadinessTimeoutError,
    ServerNotEmbeddedError,
    StackError,
)
from relay_cli.stack.health import http_ok, wait_for_http_ok
from relay_cli.stack.nats import NatsServer, find_nats_server_binary
from relay_cli.stack.ports import free_port
from relay_cli.stack.postgres import PostgresServer, find_postgres_bin_dir
from relay_cli.stack.processes import ServiceCommand, ServiceProcesses, serve_command
from relay_cli.stack.s3 import MotoServer, ensure_bucket

__all__ = [
    "DEFAULT_HTTP_PORT",
    "BinaryNotFoundError",
    "CommandFailedError",
    "EmbeddedStack",
    "MotoServer",
    "NatsServer",
    "PostgresServer",
    "ProcessExitedError",
    "ReadinessTimeoutError",
    "ServerNotEmbeddedError",
    "ServiceCommand",
    "ServiceProcesses",
    "StackEndpoints",
    "StackError",
    "embedded_stack",
    "ensure_bucket",
    "find_nats_server_binary",
    "find_postgres_bin_dir",
    "free_port",
    "http_ok",
    "restart_nats",
    "restart_postgres",
    "serve_command",
    "service_env",
    "wait_for_http_ok",
]


def restart_nats(stack: EmbeddedStack) -> float:
    """Restart the stack's NATS in place (same port, same store); seconds until ready."""
    return stack.restart_nats()


def restart_postgres(stack: EmbeddedStack) -> float:
    """Restart the stack's Postgres in place (same port, same data); seconds until ready."""
    return stack.restart_postgres()
