"""The SKU history read model (schema ``gateway``, table ``sku_history``), fed by
``offers.merged``: the rows of the run's ``sku_history.csv`` (its ``changes.history_key``),
which pricing writes from the change history it owns. Kept 400 days, like pricing's."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

import asyncpg
import structlog

from relay_shared import keys
from relay_shared.errors import NotFoundError
from relay_shared.events import OffersMerged
from relay_shared.keys import ForeignKeyError
from relay_shared.sku_history import CHANGES, HISTORY_COLUMNS, RETENTION_DAYS
from relay_shared.storage import ObjectStore

HISTORY_HEADER = list(HISTORY_COLUMNS)
log = structlog.get_logger(__name__)

HistoryRow = tuple[str, str, int | None, int | None, int | None, int | None]


@dataclass(frozen=True)
class SkuChangeView:
    run_id: str
    as_of: datetime
    change: str
    price_old: int | None
    price_new: int | None
    quantity_old: int | None
    quantity_new: int | None


class HistoryFileError(ValueError):
    """A sku_history.csv that is not what pricing writes."""


def history_rows(data: bytes) -> Iterator[HistoryRow]:
    """The rows of a sku_history.csv: prices as integer cents, empty cells None."""
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    if next(reader, None) != HISTORY_HEADER:
        raise HistoryFileError("the history file's header is not " + ",".join(HISTORY_HEADER))
    for number, cells in enumerate(reader, start=2):
        if len(cells) != len(HISTORY_HEADER) or cells[1] not in CHANGES:
            raise HistoryFileError(f"row {number} is not a history row")
        try:
            yield (
                cells[0],
                cells[1],
                _cents(cells[2]),
                _cents(cells[3]),
                _whole(cells[4]),
                _whole(cells[5]),
            )
        except (InvalidOperation, ValueError) as exc:
            raise HistoryFileError(f"row {number}: a price or quantity is not a number") from exc


def _cents(text: str) -> int | None:
    return None if text == "" else int(Decimal(text).scaleb(2).to_integral_exact())


def _whole(text: str) -> int | None:
    return None if text == "" else int(text)


class SkuHistoryRepository:
    def __init__(self, pool: asyncpg.Pool, store: ObjectStore) -> None:
        self._pool = pool
        self._store = store

    async def record(self, event: OffersMerged) -> None:
        """Copy the run's history rows (a re-sent event rewrites the same rows) and purge the
        tenant's rows older than :data:`RETENTION_DAYS`, in one transaction. A history file
        that is gone or not a history file is logged and skipped: run tracking goes on."""
        if event.changes is None:
            return
        try:
            key = keys.tenant_key(event.tenant_id, event.changes.history_key)
            await self._copy(event, event.changes.as_of, await self._store.get_bytes(key))
        except (NotFoundError, ForeignKeyError, HistoryFileError, UnicodeDecodeError) as exc:
            log.warning("gateway.sku_history_skipped", run_id=event.run_id, error=str(exc))

    async def _copy(self, event: OffersMerged, as_of: datetime, data: bytes) -> None:
        """The rows streamed from ``data`` into the table (a bad row rolls it all back)."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "DELETE FROM sku_history WHERE tenant_id = $1 AND run_id = $2",
                event.tenant_id,
                event.run_id,
            )
            await conn.copy_records_to_table(
                "sku_history",
                records=(
                    (event.tenant_id, row[0], event.run_id, as_of, *row[1:])
                    for row in history_rows(data)
                ),
                columns=["tenant_id", "sku", "run_id", "as_of", *HISTORY_HEADER[1:]],
            )
            await conn.execute(
                "DELETE FROM sku_history WHERE tenant_id = $1"
                " AND as_of < now() - make_interval(days => $2)",
                event.tenant_id,
                RETENTION_DAYS,
            )

    async def of_sku(self, tenant_id: str, sku: str, since: datetime | None) -> list[SkuChangeView]:
        """The SKU's changes since ``since`` (all when None), oldest first."""
        rows = await self._pool.fetch(
            "SELECT * FROM sku_history WHERE tenant_id = $1 AND sku = $2"
            " AND ($3::timestamptz IS NULL OR as_of >= $3) ORDER BY as_of, run_id",
            tenant_id,
            sku,
            since,
        )
        return [
            SkuChangeView(
                run_id=row["run_id"],
                as_of=row["as_of"],
                change=row["change"],
                price_old=row["price_old"],
                price_new=row["price_new"],
                quantity_old=row["quantity_old"],
                quantity_new=row["quantity_new"],
            )
            for row in rows
        ]


class HistoryNotOpenError(RuntimeError):
    """An event or a request arrived before the gateway's resources opened."""


class SkuHistory:
    """The repository once the gateway's resources are open (the consumer and the route are
    wired before they are)."""

    def __init__(self) -> None:
        self._repository: SkuHistoryRepository | None = None

    def open(self, pool: asyncpg.Pool, store: ObjectStore) -> None:
        self._repository = SkuHistoryRepository(pool, store)

    @property
    def repository(self) -> SkuHistoryRepository:
        if self._repository is None:
            raise HistoryNotOpenError("the SKU history read model is not open")
        return self._repository

    async def record(self, event: OffersMerged) -> None:
        await self.repository.record(event)
