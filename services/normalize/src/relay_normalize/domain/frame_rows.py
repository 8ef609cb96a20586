"""From a raw table to typed rows: clean rows vectorised (:mod:`fast_rows`), dirty rows by
distinct cell (:mod:`slow_rows`), then the first rejection per row, warnings and duplicates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from relay_normalize.domain import fast_rows
from relay_normalize.domain.findings import Finding, finding
from relay_normalize.domain.limits import MEMORY, MemoryBudget
from relay_normalize.domain.raw_table import ROW, RawTable
from relay_normalize.domain.row_cleaning import CLEAN_COLUMNS, EXTRA_COLUMNS
from relay_normalize.domain.rules import CleaningRules
from relay_normalize.domain.slow_rows import clean_slow

_FIELDS = (*CLEAN_COLUMNS[:1], *CLEAN_COLUMNS[2:])  # canonical fields (vendor_sku aside)
_SCHEMA: dict[str, pl.DataType] = {
    ROW: pl.Int64(),
    **{name: pl.String() for name in CLEAN_COLUMNS},
    **{
        name: pl.Int64()
        for name in ("quantity_available", "lead_time_days", "cost", "map_price", "msrp")
    },
    **{name: pl.String() for name in EXTRA_COLUMNS},
}


# The columns the per-cell rules decide for a dirty row: all but the SKU's and the texts',
# which are vectorised for every row.
_VECTORISED_FOR_ALL = ("sku", "vendor_sku", "brand", "title")
_SLOW_COLUMNS = (
    *(name for name in CLEAN_COLUMNS if name not in _VECTORISED_FOR_ALL),
    *EXTRA_COLUMNS,
)


@dataclass(frozen=True, slots=True)
class CleanRows:
    """Accepted, non-duplicate rows (typed columns, file order) and the row findings."""

    rows: pl.DataFrame
    errors: list[Finding]
    warnings: list[Finding]
    data_rows: int
    rejected: int
    duplicates: int


@dataclass(frozen=True, slots=True)
class _Layout:
    key_field: str
    has_fallback: bool
    has_timestamps: bool


def _raw_cells(table: RawTable, columns: Mapping[str, str]) -> pl.LazyFrame:
    """``r_<field>`` for every canonical field: the cell, ``""`` when empty or unmapped
    (a column without nulls is taken as it is)."""

    def cell(name: str) -> pl.Expr:
        if name not in columns:
            return pl.lit("")
        if table.frame.get_column(columns[name]).null_count() == 0:
            return pl.col(columns[name])
        return pl.col(columns[name]).fill_null("")

    cells = [cell(name).alias(f"r_{name}") for name in (*_FIELDS, "vendor_sku")]
    return table.frame.lazy().select(pl.col(ROW), *cells)


def _clean_frame(
    table: RawTable,
    columns: Mapping[str, str],
    rules: CleaningRules,
    budget: MemoryBudget | None,
) -> pl.DataFrame:
    """Every row cleaned, in file order, with the ``_SCHEMA`` columns.

    One vectorised pass cleans every row; the few rows outside the fast shapes are cleaned
    again by the per-cell rules and their columns scattered back into place (no re-sort).
    Those rows are charged to ``budget`` first (the per-cell rules hold Python objects).
    """
    layout = _Layout(
        key_field="vendor_sku" if "vendor_sku" in columns else "sku",
        has_fallback="sku" in columns and "vendor_sku" in columns,
        has_timestamps="updated_at" in columns or "updated_at" in rules.defaults,
    )
    cells = fast_rows.with_sku(
        _raw_cells(table, columns),
        rules,
        key_field=layout.key_field,
        has_fallback=layout.has_fallback,
    )
    frame = fast_rows.clean_fast(cells, rules, has_timestamps=layout.has_timestamps).collect()
    fast = frame.get_column("__fast")
    if fast.all():
        return frame.select(list(_SCHEMA))
    if budget is not None:
        count = frame.height - int(fast.sum())
        budget.charge(count, MEMORY.per_dirty_row, f"cleaning {count} rows cell by cell")
    dirty = frame.select(cells.collect_schema().names()).filter(~fast)
    slow = clean_slow(dirty, rules, shapes=fast_rows.field_shapes(rules, layout.has_timestamps))
    positions = (~fast).arg_true()
    return frame.with_columns(
        frame.get_column(name).clone().scatter(positions, slow.get_column(name).cast(_SCHEMA[name]))
        for name in _SLOW_COLUMNS
    ).select(list(_SCHEMA))


def clean_table(
    table: RawTable,
    columns: Mapping[str, str],
    rules: CleaningRules,
    budget: MemoryBudget | None = None,
) -> CleanRows:
    """Cleans every row, keeps the first rejection of each row, then drops duplicates.

    A rejected row's SKU is set aside (null) before the first-distinct test, so duplicates
    are counted among accepted rows only. Two filters: the kept rows, and the few rows with a
    finding. With a ``budget``, the findings are charged to it before they are built
    (``FeedTooLarge`` when they would not fit).
    """
    frame = _clean_frame(table, columns, rules, budget)
    accepted = pl.col("__error").is_null()
    frame = frame.with_columns((accepted & ~_first_accepted_sku(frame)).alias("__duplicate"))
    kept = ~pl.col("__duplicate") & accepted
    noted = (
        ~accepted
        | pl.col("__duplicate")
        | pl.col("__w_quantity").is_not_null()
        | pl.col("__w_timestamp").is_not_null()
        | pl.col("cost").is_null()
    )
    rows, notes = pl.collect_all([frame.lazy().filter(kept), frame.lazy().filter(noted)])
    rejected = notes.filter(~accepted)
    duplicates = notes.filter(pl.col("__duplicate"))
    if budget is not None:
        count = rejected.height + duplicates.height + _warning_count(notes.filter(kept))
        budget.charge(count, MEMORY.per_finding, f"reporting {count} findings")
    return CleanRows(
        rows=rows,
        errors=_rejections(rejected, rules.vendor_id),
        warnings=_warnings(notes.filter(kept), duplicates, rules.vendor_id),
        data_rows=frame.height,
        rejected=rejected.height,
        duplicates=duplicates.height,
    )


# Above this many rows the first-of-each-SKU test runs as a streaming group-by: slower on a
# small feed, twice as fast at a million rows (is_first_distinct is single-threaded and slows
# sharply once its hash set outgrows the CPU caches; measured crossover 300-400k rows).
GROUPED_FIRSTS_ROWS = 300_000


def _first_accepted_sku(frame: pl.DataFrame) -> pl.Series:
    """True on each accepted row (no ``__error``) whose SKU no earlier accepted row has."""
    sku = pl.when(pl.col("__error").is_null()).then(pl.col("sku"))
    if frame.height <= GROUPED_FIRSTS_ROWS:
        return frame.select(sku.is_first_distinct()).to_series()
    firsts = (
        frame.lazy()
        .select(pl.int_range(0, pl.len(), dtype=pl.Int64).alias("__i"), sku.alias("__sku"))
        .filter(pl.col("__sku").is_not_null())
        .group_by("__sku")
        .agg(pl.col("__i").min())
        .collect(engine="streaming")
    )
    return pl.repeat(False, frame.height, eager=True).scatter(firsts.get_column("__i"), True)


def _warning_count(unique: pl.DataFrame) -> int:
    """How many warnings the kept rows with a finding have (at most three a row)."""
    if unique.height == 0:
        return 0
    counts = unique.select(
        pl.col("__w_quantity").is_not_null().sum()
        + pl.col("cost").is_null().sum()
        + pl.col("__w_timestamp").is_not_null().sum()
    )
    return int(counts.item())


def _rejections(rejected: pl.DataFrame, vendor_id: str) -> list[Finding]:
    """One error per rejected row: its first failing field in the spec's order."""
    return [
        finding("error", vendor_id, code, row=row, column=column, value=value)
        for row, code, column, value in rejected.select(
            ROW, "__error", "__error_column", "__error_value"
        ).iter_rows()
    ]


def _warnings(unique: pl.DataFrame, duplicates: pl.DataFrame, vendor_id: str) -> list[Finding]:
    """Warnings of accepted rows by row (a duplicate gets only ``duplicate_sku``)."""
    found: list[tuple[int, int, Finding]] = []
    checks = (  # column, code, when, the finding's value
        ("quantity_available", "negative_quantity", pl.col("__w_quantity").is_not_null(),
         pl.col("__w_quantity")),
        ("cost", "missing_cost", pl.col("cost").is_null(), pl.lit(None, pl.String)),
        ("updated_at", "invalid_timestamp", pl.col("__w_timestamp").is_not_null(),
         pl.col("__w_timestamp")),
    )  # fmt: skip
    for order, (column, code, when, cell) in enumerate(checks):
        hits = unique.filter(when).select(ROW, cell.alias("__value"))
        for row, value in hits.iter_rows():
            item = finding("warning", vendor_id, code, row=row, column=column, value=value or None)
            found.append((row, order, item))
    for row, sku in duplicates.select(ROW, "sku").iter_rows():
        item = finding("warning", vendor_id, "duplicate_sku", row=row, column="sku", value=sku)
        found.append((row, len(checks), item))
    found.sort(key=lambda entry: (entry[0], entry[1]))
    return [item for _, _, item in found]
