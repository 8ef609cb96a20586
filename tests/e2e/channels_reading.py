"""Reading what the live system did for the channels end-to-end test: insights and audit rows
through the gateway, products and channel state in Postgres, workbooks and channel files on
disk; each wait polls with a deadline (none of these announce themselves to a test)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
from openpyxl import load_workbook

from relay_cli.gateway_client import GatewayClient
from relay_sheets.adapters.xlsx_backend import XlsxBackend
from relay_sheets.domain.layout import channel_spreadsheet
from tests.support.polling import eventually, eventually_async

WAIT_S = 60.0


async def insights(owner: GatewayClient, tenant: str, status: str) -> list[dict[str, Any]]:
    """The tenant's insights of ``status``, ``since`` as a datetime, by channel, sku, kind."""
    path = f"/v1/tenants/{tenant}/insights?status={status}&limit=100"
    body = (await owner.request("GET", path)).body
    assert body["next_cursor"] is None
    found = [
        {**item, "since": datetime.fromisoformat(item["since"].replace("Z", "+00:00"))}
        for item in body["insights"]
    ]
    return sorted(found, key=lambda i: (i["channel"], i["sku"], i["kind"]))


def _shape(found: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    return [(i["channel"], i["sku"], i["kind"], i["status"]) for i in found]


async def until_insights(
    owner: GatewayClient,
    tenant: str,
    expected: tuple[list[dict[str, Any]], list[dict[str, Any]]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(open, resolved) once the gateway shows the (channel, sku, kind, status) of
    ``expected`` (two reads: an insight resolved between them shows in both, so the shape
    is waited for, not a count)."""
    wanted = (_shape(expected[0]), _shape(expected[1]))

    async def shown() -> tuple[list[dict[str, Any]], list[dict[str, Any]]] | None:
        opened = await insights(owner, tenant, "open")
        resolved = await insights(owner, tenant, "resolved")
        return (opened, resolved) if (_shape(opened), _shape(resolved)) == wanted else None

    return await eventually_async(shown, timeout=WAIT_S, what=f"insights {wanted}")


async def actions(owner: GatewayClient, tenant: str, channel: str) -> list[dict[str, Any]]:
    """The channel's audit rows by sku and action, without their time and duration (checked
    to be there)."""
    path = f"/v1/tenants/{tenant}/channels/{channel}/actions?limit=100"
    body = (await owner.request("GET", path)).body
    assert (body["tenant_id"], body["channel"], body["next_cursor"]) == (tenant, channel, None)
    rows = []
    for row in body["actions"]:
        row = dict(row)
        assert isinstance(row.pop("duration_ms"), int)
        assert isinstance(row.pop("acted_at"), str)
        rows.append(row)
    return sorted(rows, key=lambda r: (r["sku"], r["action"]))


async def until_actions(
    owner: GatewayClient, tenant: str, counts: Mapping[str, int], outcome: str
) -> dict[str, list[dict[str, Any]]]:
    """Every channel's audit rows once each has ``counts[channel]`` rows, none pending and
    the last ones of ``outcome``."""

    async def audited() -> dict[str, list[dict[str, Any]]] | None:
        found = {channel: await actions(owner, tenant, channel) for channel in counts}
        if any(len(found[c]) != n for c, n in counts.items()):
            return None
        outcomes = {row["outcome"] for rows in found.values() for row in rows}
        return found if outcome in outcomes else None

    return await eventually_async(audited, timeout=WAIT_S, what=f"audit rows {dict(counts)}")


async def products(db: asyncpg.Connection, tenant: str) -> dict[tuple[str, str], tuple[Any, ...]]:
    rows = await db.fetch(
        "SELECT channel, sku, quantity, status FROM insights.products WHERE tenant_id = $1",
        tenant,
    )
    return {(r["channel"], r["sku"]): (r["quantity"], r["status"]) for r in rows}


async def until_products(
    db: asyncpg.Connection, tenant: str, expected: Mapping[tuple[str, str], tuple[Any, ...]]
) -> None:
    async def matching() -> bool | None:
        return True if await products(db, tenant) == expected else None

    await eventually_async(matching, timeout=WAIT_S, what="insights' products")


async def until_insights_applied(db: asyncpg.Connection, tenant: str, run_id: str) -> None:
    """Until insights has taken the tenant's products from ``run_id``'s merged feed."""

    async def applied() -> bool | None:
        found = await db.fetchval(
            "SELECT run_id FROM insights.tenants WHERE tenant_id = $1", tenant
        )
        return True if found == run_id else None

    await eventually_async(applied, timeout=WAIT_S, what=f"insights applying {run_id}")


async def until_channels_know(db: asyncpg.Connection, tenant: str, config_version: int) -> str:
    """The merged feed key channels holds once it has taken in ``config_version``."""

    async def known() -> str | None:
        row = await db.fetchrow(
            "SELECT config_version, merged_key FROM channels.tenants WHERE tenant_id = $1",
            tenant,
        )
        if row is None or row["config_version"] != config_version or row["merged_key"] is None:
            return None
        return str(row["merged_key"])

    return await eventually_async(known, timeout=WAIT_S, what=f"channels at v{config_version}")


async def daily_as_of(db: asyncpg.Connection, tenant: str) -> tuple[Any, datetime]:
    """The tenant's one daily evaluation: (local day, as of)."""

    async def evaluated() -> tuple[Any, datetime] | None:
        rows = await db.fetch(
            "SELECT local_day, as_of FROM insights.daily_evaluations WHERE tenant_id = $1",
            tenant,
        )
        return (rows[0]["local_day"], rows[0]["as_of"]) if len(rows) == 1 else None

    return await eventually_async(evaluated, timeout=WAIT_S, what="the daily evaluation")


def workbook_path(sheets_dir: Path, tenant: str, channel: str) -> Path:
    return XlsxBackend(sheets_dir).path_for(channel_spreadsheet(tenant, channel))


def read_workbook(path: Path) -> dict[str, list[list[Any]]]:
    workbook = load_workbook(path, read_only=True)
    try:
        return {
            name: [list(r) for r in workbook[name].iter_rows(values_only=True)]
            for name in ("Listings", "Orders", "Insights")
        }
    finally:
        workbook.close()


async def until_workbook(
    sheets_dir: Path, tenant: str, channel: str, ready: Any
) -> dict[str, list[list[Any]]]:
    """The channel's workbook once ``ready(sheets)`` holds."""
    path = workbook_path(sheets_dir, tenant, channel)

    def written() -> dict[str, list[list[Any]]] | None:
        if not path.exists():
            return None
        try:
            sheets = read_workbook(path)
        except (OSError, KeyError, ValueError):  # replaced while read, or not laid out yet
            return None
        return sheets if ready(sheets) else None

    return await eventually(written, timeout=WAIT_S, what=f"the {channel} workbook")


async def until_file(path: Path) -> str:
    def present() -> str | None:
        return path.read_text("utf-8") if path.exists() else None

    return await eventually(present, timeout=WAIT_S, what=str(path))
