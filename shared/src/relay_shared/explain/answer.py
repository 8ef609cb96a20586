"""One SKU's explain answer from its rows of the run's explain index (pure).

Every number comes from the index, i.e. from the run itself: the winner is the one the merge
chose and each step's output is the column the vectorised pricing computed. Only the
``reason`` is derived here, from the recorded key values: the first decision key (in the
merge's order: ascending, nulls last) on which the winner is strictly ahead of every other
eligible offer still tied with it.

Steps, in the run's order (spec "Price"): ``shipping`` (cost → landed), ``base_margin``
(landed → raw), ``min_price`` (raw → clamped to the floor, max(min_price, MAP) when MAP is
enforced, and to max_price), ``rounding`` (clamped → rounded), ``map_floor`` (rounded → the
price: a result below the floor becomes the floor rounded up).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from relay_shared.explain.index_format import (
    KEY_PREFIX,
    ExplainManifest,
    PriceRuleOut,
)
from relay_shared.explain.source_format import SourceHit, first_accepted
from relay_shared.findings import Finding

_FIXED = ("sku", "vendor_id", "eligible", "shipping_cents", "landed", "winner")


class SourceRow(BaseModel):
    """The offer as read: its row number in the vendor's file and its raw cells by header."""

    model_config = ConfigDict(extra="forbid")

    row: int
    cells: dict[str, str | None]


class OfferOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vendor_id: str
    as_read: SourceRow | None
    as_normalized: dict[str, int | str | None]
    eligible: bool
    landed_cents: int | None
    keys: dict[str, int | None]
    winner: bool


class MergeOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    strategy: str
    decision_keys: list[str]
    winner: str | None
    decided_by: str | None
    reason: str
    quantity_policy: str
    quantity_available: int | None
    lead_time_days: int | None


class StepOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    step: Literal["shipping", "base_margin", "min_price", "rounding", "map_floor"]
    input_cents: int | None
    output_cents: int | None
    detail: dict[str, int | str | bool | None]


class ExplainOut(BaseModel):
    """``GET /v1/runs/{run_id}/skus/{sku}/explain``: why this SKU has this price."""

    model_config = ConfigDict(extra="forbid")

    run_id: str
    tenant_id: str
    config_version: int | None
    sku: str
    status: Literal["merged", "left_out"]
    offers: list[OfferOut]
    merge: MergeOut
    steps: list[StepOut]
    price_cents: int | None
    rule: PriceRuleOut


class NotInRunOut(BaseModel):
    """The 404 of a SKU without an offer in the run: rejected (with its findings) or absent."""

    model_config = ConfigDict(extra="forbid")

    sku: str
    status: Literal["rejected", "never_present"]
    message: str
    findings: list[Finding]


def explain(rows: Sequence[dict[str, Any]], manifest: ExplainManifest) -> ExplainOut:
    """The answer for one SKU from its index rows (one per vendor offer, at least one)."""
    keys = manifest.decision_keys
    offers = [_offer(row, manifest) for row in rows]
    winner = next((row for row in rows if row["winner"]), None)
    decided_by, reason = _reason(winner, rows, keys)
    merge = MergeOut(
        strategy=manifest.strategy,
        decision_keys=keys,
        winner=None if winner is None else winner["vendor_id"],
        decided_by=decided_by,
        reason=reason,
        quantity_policy=manifest.quantity_policy,
        quantity_available=None if winner is None else winner["m_quantity_available"],
        lead_time_days=None if winner is None else winner["m_lead_time_days"],
    )
    return ExplainOut(
        run_id=manifest.run_id,
        tenant_id=manifest.tenant_id,
        config_version=manifest.config_version,
        sku=rows[0]["sku"],
        status="left_out" if winner is None else "merged",
        offers=offers,
        merge=merge,
        steps=[] if winner is None else _steps(winner, manifest.rule),
        price_cents=None if winner is None else winner["s_price"],
        rule=manifest.rule,
    )


def _offer(row: dict[str, Any], manifest: ExplainManifest) -> OfferOut:
    raw = row.get("source_row")
    cells = row.get("source_cells")
    return OfferOut(
        vendor_id=row["vendor_id"],
        as_read=None if raw is None else SourceRow(row=raw, cells=cells or {}),
        as_normalized={name: row[name] for name in manifest.normalized_columns},
        eligible=row["eligible"],
        landed_cents=row["landed"],
        keys={name: row[KEY_PREFIX + name] for name in manifest.decision_keys},
        winner=row["winner"],
    )


def _order(value: int | None) -> tuple[int, int]:
    """The merge's order of a key value: ascending, nulls last."""
    return (1, 0) if value is None else (0, value)


def _reason(
    winner: dict[str, Any] | None, rows: Sequence[dict[str, Any]], keys: Sequence[str]
) -> tuple[str | None, str]:
    if winner is None:
        return None, "no offer has a cost: the SKU is left out of the merged feed"
    tied = [row for row in rows if row["eligible"] and row is not winner]
    if not tied:
        return None, "the only offer with a cost"
    for name in keys:
        column = KEY_PREFIX + name
        mine = _order(winner[column])
        if all(_order(row[column]) > mine for row in tied):
            others = ", ".join(f"{row['vendor_id']}={row[column]}" for row in tied)
            return name, f"first on {name}: {winner[column]} against {others}"
        tied = [row for row in tied if _order(row[column]) == mine]
    return None, "tied on every key"


def _steps(winner: dict[str, Any], rule: PriceRuleOut) -> list[StepOut]:
    cost, landed, raw = winner["cost"], winner["landed"], winner["s_raw"]
    floor, clamped, rounded = winner["s_floor"], winner["s_clamped"], winner["s_rounded"]
    return [
        StepOut(
            step="shipping",
            input_cents=cost,
            output_cents=landed,
            detail={
                "shipping_handling_cents": winner["shipping_cents"],
                "included": rule.include_shipping_handling,
            },
        ),
        StepOut(
            step="base_margin",
            input_cents=landed,
            output_cents=raw,
            detail={"basis": rule.margin_basis, "pct": rule.base_margin_pct, "factor": rule.factor},
        ),
        StepOut(
            step="min_price",
            input_cents=raw,
            output_cents=clamped,
            detail={
                "floor_cents": floor,
                "min_price_cents": rule.min_price_cents,
                "map_price_cents": winner["map_price"],
                "enforce_map": rule.enforce_map,
                "max_price_cents": rule.max_price_cents,
            },
        ),
        StepOut(
            step="rounding",
            input_cents=clamped,
            output_cents=rounded,
            detail={"mode": rule.rounding_mode, "ending_cents": rule.rounding_ending_cents},
        ),
        StepOut(
            step="map_floor",
            input_cents=rounded,
            output_cents=winner["s_price"],
            detail={"floor_cents": floor, "raised": winner["s_price"] != rounded},
        ),
    ]


def with_as_read(answer: ExplainOut, found: Mapping[str, Sequence[SourceHit]]) -> ExplainOut:
    """``answer`` with each offer's row as read: its vendor's first accepted row of the SKU
    in ``found`` (the row the offer came from: normalize keeps the first of a repeated SKU),
    when its cells were read."""
    offers = []
    for offer in answer.offers:
        kept = first_accepted(found.get(offer.vendor_id, ()))
        if kept is not None and kept.cells is not None:
            offer = offer.model_copy(update={"as_read": SourceRow(row=kept.row, cells=kept.cells)})
        offers.append(offer)
    return answer.model_copy(update={"offers": offers})


def rejected_in(
    sku: str, findings: Sequence[Finding], found: Mapping[str, Sequence[SourceHit]]
) -> NotInRunOut:
    """The 404 body of a SKU without an offer: ``rejected`` with the run's findings of the
    SKU's rejected rows (``found``: each vendor's rows of the SKU as read, matched by vendor
    and row number), else ``never_present``. For a vendor not in ``found`` (its feed has no
    index of its rows) only the findings on the ``sku`` column whose value is the SKU can be
    traced to it (:func:`not_in_run`)."""
    rows = {(vendor, hit.row) for vendor, hits in found.items() for hit in hits if hit.error}
    return rejected(
        sku,
        [
            item
            for item in findings
            if (item.vendor_id, item.row) in rows
            or (item.vendor_id not in found and item.column == "sku" and item.value == sku)
        ],
    )


def not_in_run(sku: str, findings: Sequence[Finding]) -> NotInRunOut:
    """The 404 body from a run's errors: ``rejected`` with the findings on the ``sku`` column
    whose value is the SKU, else ``never_present``."""
    return rejected(sku, [item for item in findings if item.column == "sku" and item.value == sku])


def rejected(sku: str, findings: Sequence[Finding]) -> NotInRunOut:
    """``rejected`` with ``findings`` (the rows of the SKU normalize rejected), or
    ``never_present`` when there are none."""
    if findings:
        return NotInRunOut(
            sku=sku,
            status="rejected",
            message=f"SKU {sku} was rejected by normalize: {findings[0].code}",
            findings=list(findings),
        )
    return NotInRunOut(
        sku=sku,
        status="never_present",
        message=f"SKU {sku} is in no vendor's offers of this run",
        findings=[],
    )
