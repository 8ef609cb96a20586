"""How many runs are in each status (schema ``gateway``), for the ``relay_runs`` gauge."""

from __future__ import annotations

import asyncpg

from relay_shared.metrics import GatewayMetrics
from relay_shared.run_states import STATUSES


class RunStatusCounts:
    """The runs table counted by status."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def by_status(self) -> dict[str, int]:
        rows = await self._pool.fetch("SELECT status, count(*) AS n FROM runs GROUP BY status")
        counts = dict.fromkeys(STATUSES, 0)  # every status is reported, zero included
        counts.update({row["status"]: int(row["n"]) for row in rows})
        return counts

    async def refresh(self, metrics: GatewayMetrics) -> None:
        """Set ``relay_runs{status}`` from the table (called before each scrape)."""
        for status, count in (await self.by_status()).items():
            metrics.runs.labels(status).set(count)
