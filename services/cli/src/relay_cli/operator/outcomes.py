"""Exit codes of the operator commands, and the one line each failure prints.

| code | meaning |
|---|---|
| 0 | done; for ``runs watch`` / ``runs start --watch``: the run SUCCEEDED |
| 1 | the run FAILED (the summary names its error code and report) |
| 2 | usage: a missing URL or key, a bad URL, an unreadable file (argparse's own code too) |
| 3 | the gateway refused the request (400, 404, 409, 413, 415, 422: each problem by path) |
| 4 | the gateway refused the credentials (401) or the key lacks the role (403) |
| 5 | the gateway cannot be reached, or answered 5xx or not as the API documents |
| 6 | ``--timeout`` passed before the run ended (the run goes on) |
| 130 | interrupted (Ctrl-C); the run goes on |
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from enum import IntEnum

from relay_cli.operator.client import GatewayAnswerError, GatewayUnreachableError, InvalidUrlError
from relay_cli.operator.models import RunSnapshot, UnexpectedAnswerError
from relay_cli.operator.render import refusal_lines
from relay_cli.operator.watching import WatchTimeoutError
from relay_shared.run_states import SUCCEEDED


class ExitCode(IntEnum):
    OK = 0
    RUN_FAILED = 1
    USAGE = 2
    REFUSED = 3
    NOT_ALLOWED = 4
    UNREACHABLE = 5
    WATCH_TIMEOUT = 6
    INTERRUPTED = 130


class UsageError(ValueError):
    """The command cannot be sent as given (no URL, no key, no such file)."""


def run_outcome(run: RunSnapshot) -> ExitCode:
    return ExitCode.OK if run.status == SUCCEEDED else ExitCode.RUN_FAILED


def _say(label: str, lines: list[str]) -> None:
    sys.stderr.write(f"relay {label}: " + "\n".join(lines) + "\n")


def answer_code(label: str, error: GatewayAnswerError) -> ExitCode:
    """Print the refusal (one line, or the problems by path under it); its exit code."""
    if error.status == 401:
        _say(
            label,
            [f"the gateway refused the API key ({error.status} {error.code}: {error.message})"],
        )
        return ExitCode.NOT_ALLOWED
    if error.status == 403:
        _say(label, [f"the API key may not do this ({error.status} {error.code}: {error.message})"])
        return ExitCode.NOT_ALLOWED
    if error.status >= 500:
        _say(label, [f"the gateway failed: {error}"])
        return ExitCode.UNREACHABLE
    _say(label, refusal_lines(error))
    return ExitCode.REFUSED


def guarded(label: str, action: Callable[[], Awaitable[int]]) -> int:
    """Run ``action``; each known failure becomes one line on stderr and its exit code."""
    try:
        return asyncio.run(_awaited(action))
    except (UsageError, InvalidUrlError) as exc:
        _say(label, [str(exc)])
        return ExitCode.USAGE
    except GatewayUnreachableError as exc:
        _say(label, [str(exc)])
        return ExitCode.UNREACHABLE
    except UnexpectedAnswerError as exc:
        _say(label, [f"the answer is not the gateway API's: {exc}"])
        return ExitCode.UNREACHABLE
    except GatewayAnswerError as exc:
        return answer_code(label, exc)
    except WatchTimeoutError as exc:
        _say(label, [f"{exc} (stopped watching; the run goes on)"])
        return ExitCode.WATCH_TIMEOUT
    except KeyboardInterrupt:
        _say(label, ["interrupted (a run goes on without the watch)"])
        return ExitCode.INTERRUPTED


async def _awaited(action: Callable[[], Awaitable[int]]) -> int:
    return await action()
