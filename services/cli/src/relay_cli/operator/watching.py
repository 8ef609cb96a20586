"""Following a run until it ends: GET /v1/runs/{id} every ``interval`` seconds.

On a terminal the view (:func:`relay_cli.operator.render.watch_view`) is redrawn in place
(rich ``Live``); otherwise (a pipe, a CI log) each change is printed as a line with the
seconds since the watch began, then the final view once. Either way the watch ends with the
summary and the run's artifact links (GET /v1/runs/{id}/artifacts)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from rich.console import Console
from rich.live import Live

from relay_cli.operator.client import OperatorClient
from relay_cli.operator.models import RunSnapshot
from relay_cli.operator.render import as_text, change_lines, summary_lines, watch_view


class WatchTimeoutError(TimeoutError):
    """The run had not ended when the watch's time limit passed."""

    def __init__(self, run: RunSnapshot, seconds: float) -> None:
        super().__init__(
            f"run {run.run_id} is still {run.status} at stage {run.stage} after {seconds:g}s"
        )
        self.run = run


async def watch(
    client: OperatorClient,
    run_id: str,
    console: Console,
    *,
    interval: float,
    timeout: float | None,
    expected_vendors: Sequence[str] = (),
) -> RunSnapshot:
    """Follow the run to its end, show the summary and links; the final snapshot.
    WatchTimeoutError after ``timeout`` seconds (None: no limit)."""
    if console.is_terminal:
        run = await _follow_live(client, run_id, console, interval, timeout, expected_vendors)
    else:
        run = await _follow_lines(client, run_id, console, interval, timeout)
        view = watch_view(run, datetime.now(UTC), expected_vendors, plain=True)
        console.out(as_text(view), end="")
    artifacts = await client.artifacts(run_id)
    for line in summary_lines(run, artifacts):
        console.out(line, highlight=False)
    return run


async def _follow_live(
    client: OperatorClient,
    run_id: str,
    console: Console,
    interval: float,
    timeout: float | None,
    expected_vendors: Sequence[str],
) -> RunSnapshot:
    run = await client.get_run(run_id)
    deadline = None if timeout is None else time.monotonic() + timeout
    with Live(
        watch_view(run, datetime.now(UTC), expected_vendors),
        console=console,
        refresh_per_second=4,
    ) as live:
        while not run.is_terminal:
            _check_deadline(run, deadline, timeout)
            await asyncio.sleep(interval)
            run = await client.get_run(run_id)
            live.update(watch_view(run, datetime.now(UTC), expected_vendors))
    return run


async def _follow_lines(
    client: OperatorClient,
    run_id: str,
    console: Console,
    interval: float,
    timeout: float | None,
) -> RunSnapshot:
    started = time.monotonic()
    deadline = None if timeout is None else started + timeout
    previous: RunSnapshot | None = None
    while True:
        run = await client.get_run(run_id)
        for line in change_lines(previous, run):
            console.out(f"[{time.monotonic() - started:6.2f}s] {line}", highlight=False)
        if run.is_terminal:
            return run
        previous = run
        _check_deadline(run, deadline, timeout)
        await asyncio.sleep(interval)


def _check_deadline(run: RunSnapshot, deadline: float | None, timeout: float | None) -> None:
    if deadline is not None and time.monotonic() >= deadline:
        raise WatchTimeoutError(run, timeout or 0.0)
