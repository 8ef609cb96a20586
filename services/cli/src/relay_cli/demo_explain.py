"""``relay demo``'s explain: why a SKU of the merged feed has its price, asked of the gateway
(``GET /v1/runs/{run_id}/skus/{sku}/explain``) and shown in a few lines."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from relay_cli.demo_output import say
from relay_cli.gateway_client import GatewayClient

_TRIED = 20


def explain_lines(answer: dict[str, Any]) -> list[str]:
    """The answer in short lines: each offer, the decision, each step in cents."""
    lines = [f"explain {answer['sku']} (run {answer['run_id']}): {answer['status']}"]
    for offer in answer["offers"]:
        mark = "*" if offer["winner"] else " "
        keys = ", ".join(f"{name}={value}" for name, value in offer["keys"].items())
        lines.append(f"  {mark} {offer['vendor_id']}: landed {offer['landed_cents']} ({keys})")
    lines.append(f"  winner {answer['merge']['winner']}: {answer['merge']['reason']}")
    for step in answer["steps"]:
        lines.append(f"  {step['step']:<12} {step['input_cents']} -> {step['output_cents']}")
    lines.append(f"  price {answer['price_cents']} cents")
    return lines


async def show_explain(owner: GatewayClient, run_id: str, merged_csv: bytes) -> None:
    """Explains the first SKU of the merged feed that more than one vendor offered (else its
    first SKU; nothing when the feed is empty), looking at up to :data:`_TRIED` SKUs."""
    skus = [line.split(",", 1)[0].strip('"') for line in merged_csv.decode("utf-8").splitlines()]
    chosen: dict[str, Any] | None = None
    for sku in skus[1 : 1 + _TRIED]:
        path = f"/v1/runs/{run_id}/skus/{quote(sku, safe='')}/explain"
        answer: dict[str, Any] = (await owner.request("GET", path)).body
        chosen = chosen or answer
        if len(answer["offers"]) > 1:
            chosen = answer
            break
    for line in [] if chosen is None else explain_lines(chosen):
        say(line)
