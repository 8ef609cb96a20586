"""``relay local-run --explain SKU``: the SKU's explain answer, printed as JSON.

The same answer as ``GET /v1/runs/{run_id}/skus/{sku}/explain``
(:mod:`relay_shared.explain.answer`), from the run's explain index held in memory. Local-run
also has the feeds at hand, so each offer's ``as_read`` (row number and raw cells) is filled
by reading the feeds again with normalize's own reader and field rules
(:func:`relay_normalize.domain.source_rows.sku_rows`), and a SKU normalize rejected on any
column is reported ``rejected`` with the findings of its rows.
"""

from __future__ import annotations

from relay_cli.local_run_args import LocalRun
from relay_normalize.domain.source_rows import SourceRow as FeedRow
from relay_normalize.domain.source_rows import sku_rows
from relay_pricing.domain import RunOutputs
from relay_shared.explain.answer import ExplainOut, NotInRunOut, SourceRow, explain, rejected
from relay_shared.explain.index_format import as_dicts, rows_of


def _feed_rows(run: LocalRun, sku: str) -> dict[str, list[FeedRow]]:
    return {
        vendor_id: sku_rows(
            path,
            sku,
            config=run.config,
            vendor_id=vendor_id,
            as_of=run.as_of,
            sku_map=run.sku_maps.get(vendor_id),
        )
        for vendor_id, path in run.feeds.items()
    }


def explain_sku(run: LocalRun, outputs: RunOutputs, sku: str) -> ExplainOut | NotInRunOut:
    """The SKU's answer in this run (a failed run has no offers: ``never_present``)."""
    found = _feed_rows(run, sku)
    index = outputs.explain
    rows = [] if index is None else as_dicts(rows_of(index, sku))
    if index is None or not rows:
        rejected_rows = {
            (vendor_id, row.row) for vendor_id, hits in found.items() for row in hits if row.error
        }
        findings = [
            item for item in outputs.errors.errors if (item.vendor_id, item.row) in rejected_rows
        ]
        return rejected(sku, findings)
    answer = explain(rows, index.manifest)
    offers = []
    for offer in answer.offers:
        kept = next((row for row in found.get(offer.vendor_id, []) if row.error is None), None)
        as_read = None if kept is None else SourceRow(row=kept.row, cells=kept.cells)
        offers.append(offer.model_copy(update={"as_read": as_read}))
    return answer.model_copy(update={"offers": offers})


def explain_text(run: LocalRun, outputs: RunOutputs, sku: str) -> str:
    """The answer as indented JSON."""
    return explain_sku(run, outputs, sku).model_dump_json(indent=2)
