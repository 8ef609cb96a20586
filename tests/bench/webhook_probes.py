"""What ``bench_webhook.py`` reads besides the answers: a process's CPU time from
``/proc/<pid>/stat``, the whole machine's from ``/proc/stat``, and a durable consumer's
backlog from JetStream."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from nats.aio.client import Client
from nats.js.errors import NotFoundError

_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def cpu_times(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of process ``pid`` so far (``utime`` and ``stime``, fields
    14 and 15 of ``/proc/<pid>/stat``; the command name may hold spaces, so split after it)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) / _TICKS_PER_S, int(fields[12]) / _TICKS_PER_S


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far."""
    return sum(cpu_times(pid))


def machine_busy_seconds() -> float:
    """CPU seconds every core of the machine spent busy so far: the first line of
    ``/proc/stat`` (user, nice, system, idle, iowait, irq, softirq, steal, in ticks) less
    idle and iowait."""
    ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / _TICKS_PER_S


@dataclass(frozen=True)
class Backlog:
    """A durable consumer's backlog: not yet delivered, and delivered but not yet acked."""

    pending: int
    ack_pending: int

    @property
    def total(self) -> int:
        return self.pending + self.ack_pending


async def backlog(client: Client, stream: str, durable: str) -> Backlog:
    """The consumer's backlog (none while it does not exist yet)."""
    try:
        info = await client.jetstream().consumer_info(stream, durable)
    except NotFoundError:
        return Backlog(0, 0)
    return Backlog(info.num_pending or 0, info.num_ack_pending)


@dataclass
class LagWatch:
    """Samples the consumers' backlogs while the load runs, keeping each one's largest."""

    client: Client
    stream: str
    durables: list[str]
    largest: dict[str, Backlog] = field(default_factory=dict)

    async def watch(self, every_s: float = 0.5) -> None:
        """Sample until cancelled."""
        while True:
            for durable in self.durables:
                now = await backlog(self.client, self.stream, durable)
                if now.total >= self.largest.get(durable, Backlog(0, 0)).total:
                    self.largest[durable] = now
            await asyncio.sleep(every_s)

    async def drained(self, timeout_s: float) -> Drain:
        """Poll until every consumer's backlog is empty, or ``timeout_s`` passed."""
        started = time.monotonic()
        first = {d: await backlog(self.client, self.stream, d) for d in self.durables}
        last = first
        while time.monotonic() - started < timeout_s:
            last = {d: await backlog(self.client, self.stream, d) for d in self.durables}
            if all(b.total == 0 for b in last.values()):
                return Drain(first, last, time.monotonic() - started, caught_up=True)
            await asyncio.sleep(0.05)
        return Drain(first, last, time.monotonic() - started, caught_up=False)


@dataclass(frozen=True)
class Drain:
    """The backlogs when the load ended and when polling stopped, and how long it took."""

    at_end: dict[str, Backlog]
    at_stop: dict[str, Backlog]
    seconds: float
    caught_up: bool

    def rates(self) -> dict[str, float]:
        """Messages each consumer worked off per second while draining."""
        return {
            durable: (end.total - self.at_stop[durable].total) / max(self.seconds, 1e-9)
            for durable, end in self.at_end.items()
        }
