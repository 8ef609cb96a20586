"""Errors raised while running the embedded stack. Each carries a stable ``code``."""

from __future__ import annotations


class StackError(RuntimeError):
    """Base class for embedded-stack failures."""

    code = "stack_error"


class BinaryNotFoundError(StackError):
    """A server binary (nats-server, initdb, postgres...) could not be located."""

    code = "binary_not_found"

    def __init__(self, what: str, searched: list[str]) -> None:
        super().__init__(f"{what} not found; searched: {', '.join(searched) or 'nothing'}")
        self.what = what
        self.searched = searched


class ProcessExitedError(StackError):
    """A managed process exited while it was expected to be running."""

    code = "process_exited"

    def __init__(self, name: str, returncode: int, log_tail: str) -> None:
        super().__init__(f"{name} exited with code {returncode}; last log lines:\n{log_tail}")
        self.name = name
        self.returncode = returncode
        self.log_tail = log_tail


class ReadinessTimeoutError(StackError):
    """Something did not become ready before its deadline."""

    code = "readiness_timeout"

    def __init__(self, what: str, timeout: float, last_error: str | None = None) -> None:
        detail = f" (last error: {last_error})" if last_error else ""
        super().__init__(f"{what} not ready after {timeout:.1f}s{detail}")
        self.what = what
        self.timeout = timeout
        self.last_error = last_error


class ServerNotEmbeddedError(StackError):
    """A restart/stop helper was called for a server that was given by URL."""

    code = "server_not_embedded"

    def __init__(self, server: str, env_var: str) -> None:
        super().__init__(f"{server} is not embedded ({env_var} is set); cannot control it")
        self.server = server
        self.env_var = env_var


class CommandFailedError(StackError):
    """A helper command (initdb, psql, createdb...) failed."""

    code = "command_failed"

    def __init__(self, argv: list[str], returncode: int, output: str) -> None:
        super().__init__(f"{argv[0]} failed with code {returncode}: {output.strip()}")
        self.argv = argv
        self.returncode = returncode
        self.output = output
