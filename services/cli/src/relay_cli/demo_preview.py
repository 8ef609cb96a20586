"""``relay demo``'s config preview: the example config with a margin five points higher,
previewed through the gateway (``POST …/config/preview``, then ``GET …/previews/{id}``), and
its diff against the demo's run shown in a few lines. The config itself is not changed."""

from __future__ import annotations

import asyncio
import copy
from decimal import Decimal
from typing import Any

from relay_cli.demo_output import say
from relay_cli.gateway_client import GatewayClient

MARGIN_STEP = Decimal("0.05")


def dearer(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` with ``pricing.base_margin_pct`` five points higher."""
    proposed = copy.deepcopy(config)
    margin = Decimal(str(proposed["pricing"]["base_margin_pct"])) + MARGIN_STEP
    proposed["pricing"]["base_margin_pct"] = str(margin)
    return proposed


def preview_lines(answer: dict[str, Any], margin: str) -> list[str]:
    """The preview's diff in short lines."""
    diff = answer["diff"]
    lines = [
        f"preview {answer['preview_id']} (base_margin_pct {margin}, config version"
        f" {answer['config_version']}, against run {answer['base_run_id']}): {answer['status']}",
        f"  rows {diff['rows_before']} -> {diff['rows_after']}: {diff['changed']} changed,"
        f" {diff['added']} added, {diff['removed']} removed",
    ]
    cents, pct = diff["price_changes"]["cents"], diff["price_changes"]["pct"]
    if cents is not None:
        lines.append(
            f"  price changes: {diff['price_changes']['count']} SKUs, cents min {cents['min']}"
            f" p50 {cents['p50']} p95 {cents['p95']} max {cents['max']}"
            + ("" if pct is None else f"; % p50 {pct['p50']} max {pct['max']}")
        )
    lines.append(
        f"  out of stock: {diff['to_out_of_stock']} new, {diff['back_in_stock']} back in stock"
    )
    for change in diff["largest"][:3]:
        lines.append(
            f"  {change['sku']}: {change['old_price']} -> {change['new_price']}"
            f" ({change['change_cents']:+d} cents)"
        )
    return lines


async def show_preview(owner: GatewayClient, tenant_id: str, config: dict[str, Any]) -> None:
    proposed = dearer(config)
    posted = await owner.request(
        "POST", f"/v1/tenants/{tenant_id}/config/preview", json_body=proposed, expect=(202,)
    )
    preview_id = posted.body["preview_id"]
    async with asyncio.timeout(120):  # a preview is a run: followed like one
        await owner.wait_for_run(preview_id)
    path = f"/v1/tenants/{tenant_id}/previews/{preview_id}"
    answer: dict[str, Any] = (await owner.request("GET", path)).body
    if answer["status"] != "SUCCEEDED":
        say(f"preview {answer['preview_id']} {answer['status']}: {answer['error']}")
        return
    for line in preview_lines(answer, proposed["pricing"]["base_margin_pct"]):
        say(line)
