"""``relay local-run --explain SKU``: the SKU's explain answer, printed as JSON.

The same answer as ``GET /v1/runs/{run_id}/skus/{sku}/explain``
(:mod:`relay_shared.explain.answer`), from the run's explain index held in memory. The
services find each offer's row as read in the index normalize stored of each feed's rows;
local-run has the feeds at hand, so it reads them again with normalize's own reader and field
rules (:func:`relay_normalize.domain.source_rows.sku_rows`) for the SKU's rows. Both then go
through the same functions: ``as_read`` is the vendor's first accepted row
(:func:`~relay_shared.explain.answer.with_as_read`), and a SKU without offers is ``rejected``
with the findings of its rejected rows, else ``never_present``
(:func:`~relay_shared.explain.answer.rejected_in`).
"""

from __future__ import annotations

from relay_cli.local_run_args import LocalRun
from relay_normalize.domain.source_rows import sku_rows
from relay_pricing.domain import RunOutputs
from relay_shared.explain.answer import (
    ExplainOut,
    NotInRunOut,
    explain,
    rejected_in,
    with_as_read,
)
from relay_shared.explain.index_format import as_dicts, rows_of
from relay_shared.explain.source_format import SourceHit


def _feed_rows(run: LocalRun, sku: str) -> dict[str, list[SourceHit]]:
    return {
        vendor_id: [
            SourceHit(row=found.row, error=found.error, cells=found.cells)
            for found in sku_rows(
                path,
                sku,
                config=run.config,
                vendor_id=vendor_id,
                as_of=run.as_of,
                sku_map=run.sku_maps.get(vendor_id),
            )
        ]
        for vendor_id, path in run.feeds.items()
    }


def explain_sku(run: LocalRun, outputs: RunOutputs, sku: str) -> ExplainOut | NotInRunOut:
    """The SKU's answer in this run (a failed run has no offers: ``never_present``, or
    ``rejected`` when its rows were)."""
    found = _feed_rows(run, sku)
    index = outputs.explain
    rows = [] if index is None else as_dicts(rows_of(index, sku))
    if index is None or not rows:
        return rejected_in(sku, outputs.errors.errors, found)
    return with_as_read(explain(rows, index.manifest), found)


def explain_text(run: LocalRun, outputs: RunOutputs, sku: str) -> str:
    """The answer as indented JSON."""
    return explain_sku(run, outputs, sku).model_dump_json(indent=2)
