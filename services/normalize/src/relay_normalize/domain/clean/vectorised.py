"""The vectorised path: every row cleaned by the field rules' shapes, in one polars pass.

Each field's value is computed as its shape's value; ``__fast`` is true on the rows whose
every cell has its field's shape, where that is exact. Only a rule that rejects vectorised
(the SKU's) can reject here. The other rows are cleaned again by :mod:`.dirty_rows` and put
back in place (:mod:`.rows`).
"""

from __future__ import annotations

import polars as pl

from relay_normalize.domain.clean.cleaning_config import CleaningConfig
from relay_normalize.domain.clean.field_rule import first_rejection, warned_column
from relay_normalize.domain.clean.fields import FIELD_RULES, fast_mask, field_shapes


def clean_fast(cells: pl.LazyFrame, cleaning: CleaningConfig) -> pl.LazyFrame:
    """``cells`` (the raw cells and the SKU inputs) with every field's cleaned column, the
    warned columns (null), ``__fast`` and the first vectorised rejection (the error
    columns)."""
    shapes = field_shapes(cleaning)
    frame = cells.with_columns(
        fast_mask(shapes).alias("__fast"),
        *(shape.value.alias(name) for name, shape in shapes.items()),
        *(
            pl.lit(None, pl.String).alias(warned_column(rule.name))
            for rule in FIELD_RULES
            if rule.warning is not None
        ),
    )
    rejecting = {  # field → (its vectorised rejection code, its cell)
        name: (shape.rejection, pl.lit(None, pl.String) if shape.cell is None else shape.cell)
        for name, shape in shapes.items()
        if shape.rejection is not None
    }
    frame = frame.with_columns(code.alias(f"e_{name}") for name, (code, _) in rejecting.items())
    return frame.with_columns(
        first_rejection(
            [(pl.col(f"e_{name}"), pl.lit(name), cell) for name, (_, cell) in rejecting.items()]
        )
    )
