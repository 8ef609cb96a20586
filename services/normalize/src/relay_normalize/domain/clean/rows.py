"""From a raw table to typed rows: every row cleaned vectorised (:mod:`.vectorised`), the
dirty rows again by distinct cell (:mod:`.dirty_rows`), then the first rejection per row,
the warnings and the duplicates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from relay_normalize.domain.clean.cleaning_config import CleaningConfig
from relay_normalize.domain.clean.dirty_rows import clean_dirty, dirty_inputs
from relay_normalize.domain.clean.field_rule import ERROR_COLUMNS, warned_column
from relay_normalize.domain.clean.fields import FIELD_RULES, field_shapes
from relay_normalize.domain.clean.sku import with_sku_inputs
from relay_normalize.domain.clean.vectorised import clean_fast
from relay_normalize.domain.findings import finding
from relay_normalize.domain.limits import MEMORY, MemoryBudget
from relay_normalize.domain.read.raw_table import ROW, RawTable
from relay_shared.findings import Finding

# The columns of every cleaned row: its number, each field's value, the error columns and
# the warned columns.
_SCHEMA: dict[str, pl.DataType] = {
    ROW: pl.Int64(),
    **{rule.name: rule.dtype for rule in FIELD_RULES},
    **dict.fromkeys(ERROR_COLUMNS, pl.String()),
    **{warned_column(rule.name): pl.String() for rule in FIELD_RULES if rule.warning},
}


@dataclass(frozen=True, slots=True)
class CleanRows:
    """Accepted, non-duplicate rows (typed columns, file order) and the row findings."""

    rows: pl.DataFrame
    errors: list[Finding]
    warnings: list[Finding]
    data_rows: int
    rejected: int
    duplicates: int
    #: every row's cleaned ``sku`` and ``__error`` (its rejection's code), in the raw
    #: table's order (explain's index of the rows as read)
    keys: pl.DataFrame | None = None


def _raw_cells(table: RawTable, columns: Mapping[str, str]) -> pl.LazyFrame:
    """``r_<field>`` for every canonical field: the cell, ``""`` when empty or unmapped
    (a column without nulls is taken as it is)."""

    def cell(name: str) -> pl.Expr:
        if name not in columns:
            return pl.lit("")
        if table.frame.get_column(columns[name]).null_count() == 0:
            return pl.col(columns[name])
        return pl.col(columns[name]).fill_null("")

    cells = [cell(rule.name).alias(f"r_{rule.name}") for rule in FIELD_RULES]
    return table.frame.lazy().select(pl.col(ROW), *cells)


def _clean_frame(
    table: RawTable,
    columns: Mapping[str, str],
    cleaning: CleaningConfig,
    budget: MemoryBudget | None,
) -> pl.DataFrame:
    """Every row cleaned, in file order, with the ``_SCHEMA`` columns.

    One vectorised pass cleans every row; the few rows outside the fast shapes are cleaned
    again by the per-cell rules and their columns scattered back into place (no re-sort).
    Those rows are charged to ``budget`` first (the per-cell rules hold Python objects).
    """
    cells = with_sku_inputs(_raw_cells(table, columns), cleaning)
    frame = clean_fast(cells, cleaning).collect()
    fast = frame.get_column("__fast")
    if fast.all():
        return frame.select(list(_SCHEMA))
    if budget is not None:
        count = frame.height - int(fast.sum())
        budget.charge(count, MEMORY.per_dirty_row, f"cleaning {count} rows cell by cell")
    shapes = field_shapes(cleaning)
    dirty = frame.select(dirty_inputs(shapes)).filter(~fast)
    decided = clean_dirty(dirty, cleaning, shapes)
    positions = (~fast).arg_true()
    return frame.with_columns(
        frame.get_column(name)
        .clone()
        .scatter(positions, decided.get_column(name).cast(_SCHEMA[name]))
        for name in decided.columns
    ).select(list(_SCHEMA))


def clean_table(
    table: RawTable,
    columns: Mapping[str, str],
    cleaning: CleaningConfig,
    budget: MemoryBudget | None = None,
) -> CleanRows:
    """Cleans every row, keeps the first rejection of each row, then drops duplicates.

    A rejected row's SKU is set aside (null) before the first-distinct test, so duplicates
    are counted among accepted rows only. Two filters: the kept rows, and the few rows with a
    finding. With a ``budget``, the findings are charged to it before they are built
    (``FeedTooLarge`` when they would not fit).
    """
    frame = _clean_frame(table, columns, cleaning, budget)
    accepted = pl.col("__error").is_null()
    frame = frame.with_columns((accepted & ~_first_accepted_sku(frame)).alias("__duplicate"))
    kept = ~pl.col("__duplicate") & accepted
    noted = pl.any_horizontal(
        ~accepted, pl.col("__duplicate"), *(check.when for check in _WARNING_CHECKS)
    )
    rows, notes = pl.collect_all([frame.lazy().filter(kept), frame.lazy().filter(noted)])
    rejected = notes.filter(~accepted)
    duplicates = notes.filter(pl.col("__duplicate"))
    if budget is not None:
        count = rejected.height + duplicates.height + _warning_count(notes.filter(kept))
        budget.charge(count, MEMORY.per_finding, f"reporting {count} findings")
    return CleanRows(
        rows=rows,
        errors=_rejections(rejected, cleaning.vendor_id),
        warnings=_warnings(notes.filter(kept), duplicates, cleaning.vendor_id),
        data_rows=frame.height,
        rejected=rejected.height,
        duplicates=duplicates.height,
        keys=frame.select("sku", "__error"),
    )


@dataclass(frozen=True, slots=True)
class _WarningCheck:
    """A warning of an accepted row: where ``when`` holds, ``code`` on ``column`` with
    ``value`` (empty → null)."""

    column: str
    code: str
    when: pl.Expr
    value: pl.Expr


def _warning_checks() -> list[_WarningCheck]:
    """The warnings of an accepted row in the table's field order: each field rule's warning
    (its warned column holds the cell) and ``missing_cost`` (the offer cannot be priced)."""
    checks = [
        _WarningCheck(
            rule.name,
            rule.warning,
            pl.col(warned_column(rule.name)).is_not_null(),
            pl.col(warned_column(rule.name)),
        )
        for rule in FIELD_RULES
        if rule.warning is not None
    ]
    checks.append(
        _WarningCheck("cost", "missing_cost", pl.col("cost").is_null(), pl.lit(None, pl.String))
    )
    order = [rule.name for rule in FIELD_RULES]
    return sorted(checks, key=lambda check: order.index(check.column))


_WARNING_CHECKS = _warning_checks()


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
    """How many warnings the kept rows with a finding have."""
    if unique.height == 0:
        return 0
    counts = unique.select(pl.sum_horizontal(check.when.sum() for check in _WARNING_CHECKS))
    return int(counts.item())


def _rejections(rejected: pl.DataFrame, vendor_id: str) -> list[Finding]:
    """One error per rejected row: its first failing field in the table's order."""
    return [
        finding(vendor_id, code, row=row, column=column, value=value)
        for row, code, column, value in rejected.select(ROW, *ERROR_COLUMNS).iter_rows()
    ]


def _warnings(unique: pl.DataFrame, duplicates: pl.DataFrame, vendor_id: str) -> list[Finding]:
    """Warnings of accepted rows by row (a duplicate gets only ``duplicate_sku``)."""
    found: list[tuple[int, int, Finding]] = []
    for order, check in enumerate(_WARNING_CHECKS):
        hits = unique.filter(check.when).select(ROW, check.value.alias("__value"))
        for row, value in hits.iter_rows():
            item = finding(vendor_id, check.code, row=row, column=check.column, value=value or None)
            found.append((row, order, item))
    for row, sku in duplicates.select(ROW, "sku").iter_rows():
        item = finding(vendor_id, "duplicate_sku", row=row, column="sku", value=sku)
        found.append((row, len(_WARNING_CHECKS), item))
    found.sort(key=lambda entry: (entry[0], entry[1]))
    return [item for _, _, item in found]
