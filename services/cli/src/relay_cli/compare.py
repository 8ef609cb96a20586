"""``relay local-run --compare-to DIR``: what this run changed against an earlier one.

DIR is an earlier local-run's output folder; its ``merged_inventory.csv`` is read before the
run starts (so ``--out`` may be the same folder). The summary is printed as JSON, the same
diff a config preview answers with (:mod:`relay_pricing.domain.feed_diff`), and the full diff
is written to ``diff.csv`` in ``--out`` (changes.csv's format: sku, column, old, new).
"""

from __future__ import annotations

from pathlib import Path

from relay_cli.local_run_output import write_file
from relay_pricing.domain import RunOutputs
from relay_pricing.domain.changes import changes_csv, read_feed_text
from relay_pricing.domain.feed_diff import compare_feeds

MERGED_CSV = "merged_inventory.csv"
DIFF_CSV = "diff.csv"


class NothingToCompareError(ValueError):
    """This run wrote no merged CSV (it failed, or ``output.format`` is json)."""


def compare_outputs(previous: bytes, outputs: RunOutputs, out: Path) -> str:
    """The diff summary as JSON; the full diff written to ``out/diff.csv``."""
    current = outputs.files.get(MERGED_CSV)
    if current is None:
        raise NothingToCompareError(f"--compare-to: this run wrote no {MERGED_CSV}")
    compared = compare_feeds(read_feed_text(previous), read_feed_text(current))
    write_file(out / DIFF_CSV, changes_csv(compared.changes))
    return compared.diff.model_dump_json(indent=2)
