"""A successful run's change artifacts, from its output files and the previous run's feed.

Files (by relative name, as :class:`relay_pricing.domain.run.RunOutputs` holds them):
``changes.csv`` (:mod:`.changes`), ``sku_history.csv`` (the run's rows of the price and
quantity history, money as two-decimal text), and in a delta run (:mod:`.delta`) the delta as
``merged_inventory.csv`` (and ``.json`` with ``output.format: json``) with the full feed kept
as ``full_inventory.csv`` (``.json``). A full-mode run's merged files are left as they are,
byte for byte.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from relay_pricing.domain import merged_output
from relay_pricing.domain.changes import CHANGE_COLUMNS, changes_csv, feed_changes, read_feed_text
from relay_pricing.domain.delta import SnapshotRule, delta_frame, sku_history, writes_full_snapshot
from relay_shared.events import MergeChanges

MAIN, FULL = "merged_inventory", "full_inventory"
CHANGES_FILE, HISTORY_FILE = "changes.csv", "sku_history.csv"
#: A baseline run's changes (see :mod:`.changes`).
NO_CHANGES = pl.DataFrame(schema=dict.fromkeys(CHANGE_COLUMNS, pl.String))
#: The change files that are outputs of the run (the history is a report).
CHANGE_OUTPUT_FILES = frozenset({CHANGES_FILE, f"{FULL}.csv", f"{FULL}.json"})


@dataclass(frozen=True)
class PreviousRun:
    """The tenant's previous successful run as the change history knows it: its full feed's
    CSV (None when it has none, or it is gone) and how many delta runs followed its last
    full snapshot."""

    scope_id: str | None
    feed: bytes | None = field(repr=False)
    deltas_since_full: int = 0


@dataclass(frozen=True)
class ChangeOutputs:
    files: dict[str, bytes]
    history: pl.DataFrame = field(repr=False)
    snapshot: bool

    @property
    def feed_name(self) -> str:
        """The file that holds the run's full feed."""
        return f"{MAIN}.csv" if self.snapshot else f"{FULL}.csv"


def with_changes(
    files: Mapping[str, bytes], previous: PreviousRun, rule: SnapshotRule, *, full_requested: bool
) -> ChangeOutputs:
    """The run's files with its change artifacts added (and, for a delta, its main artifact
    made the delta), its history rows, and whether the main artifact is a full snapshot."""
    if previous.feed is None:  # the baseline: nothing to compare with
        new, changes = None, NO_CHANGES
    else:
        new = read_feed_text(files[f"{MAIN}.csv"])
        changes = feed_changes(read_feed_text(previous.feed), new)
    history = sku_history(changes)
    out = dict(files)
    out[CHANGES_FILE] = changes_csv(changes)
    out[HISTORY_FILE] = history_csv(history)
    snapshot = writes_full_snapshot(
        rule,
        requested=full_requested,
        has_previous=new is not None,
        deltas_since_full=previous.deltas_since_full,
    )
    if new is not None and not snapshot:
        delta = delta_frame(changes, new)
        for ext, write in (("csv", merged_output.merged_csv), ("json", merged_output.merged_json)):
            if f"{MAIN}.{ext}" in files:
                out[f"{FULL}.{ext}"] = files[f"{MAIN}.{ext}"]
                out[f"{MAIN}.{ext}"] = write(delta)
    return ChangeOutputs(out, history, snapshot)


def history_csv(history: pl.DataFrame) -> bytes:
    """The history rows as sku_history.csv: prices as two-decimal text, empty for null."""
    text = history.with_columns(
        merged_output.cents_text(pl.col(name)).alias(name) for name in ("price_old", "price_new")
    )
    buffer = io.BytesIO()
    text.write_csv(
        buffer, include_header=True, line_terminator="\n", quote_style="necessary", null_value=""
    )
    return buffer.getvalue()


def merge_changes(written: Mapping[str, str], as_of: datetime) -> MergeChanges | None:
    """What ``offers.merged`` says of the run's change artifacts (``written``: each file's
    key); None for a run without them."""
    if CHANGES_FILE not in written or HISTORY_FILE not in written:
        return None
    return MergeChanges(
        changes_key=written[CHANGES_FILE],
        history_key=written[HISTORY_FILE],
        as_of=as_of,
        delta=f"{FULL}.csv" in written,
    )


def full_feed_key(written: Mapping[str, str]) -> str:
    """The key of the run's full feed among the ``written`` files."""
    return written.get(f"{FULL}.csv", written[f"{MAIN}.csv"])
