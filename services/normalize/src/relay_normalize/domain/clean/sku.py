"""The SKU rule, vectorised for every row (clean and dirty alike).

The map is a join, so :func:`with_sku_inputs` first adds the row's key (the ``vendor_sku``
cell, else the ``sku`` cell; trimmed, or the config default when empty), the fallback and
the map's SKU for the key; the ``sku`` and ``vendor_sku`` rules of the table read them.
Without a map, every SKU is unmapped (the map's terms drop out of the expressions).

Decisions where the spec is silent:
- with both ``sku`` and ``vendor_sku`` mapped, a vendor SKU missing from the map takes the
  sku cell, or the vendor SKU itself when that cell is empty.
- ``mangled_sku`` also matches a decimal comma (``1,23E+11``): that is how a spreadsheet in a
  decimal-comma locale writes the number.
"""

from __future__ import annotations

import polars as pl

from relay_normalize.domain.clean.cleaning_config import CleaningConfig
from relay_normalize.domain.clean.field_rule import FieldShape, raw
from relay_normalize.domain.text_cells import trim

# A SKU a spreadsheet turned into a number (``1.23E+11``); the same in Python's re and polars.
MANGLED_SKU = r"(?i)^[0-9]+([.,][0-9]+)?E\+[0-9]+$"
SKU_REJECTIONS = ("missing_sku", "unmapped_sku", "mangled_sku")


def with_sku_inputs(frame: pl.LazyFrame, cleaning: CleaningConfig) -> pl.LazyFrame:
    """Adds ``__key``, ``__fallback`` (the SKU when the key is not in the map: the sku cell,
    else the key) and, with a map, ``__mapped`` (the map's SKU for the key, exact match)."""
    frame = frame.with_columns(_key(cleaning.key_field, cleaning).alias("__key"))
    frame = frame.with_columns(_fallback(cleaning).alias("__fallback"))
    if cleaning.sku_map is None:
        return frame
    lookup = cleaning.sku_map.frame.lazy()  # columns __key and __mapped, one row per key
    return frame.join(lookup, on="__key", how="left", maintain_order="left")


def sku_shape(cleaning: CleaningConfig, name: str) -> FieldShape:
    """The map's SKU, else the fallback; upper-cased with ``case: upper``; rejected
    ``missing_sku``, ``unmapped_sku`` (``on_missing: reject``) or ``mangled_sku``, the first
    that holds."""
    fallback = pl.col("__fallback")
    value: pl.Expr = pl.when(fallback != "").then(fallback)
    unmapped: pl.Expr = pl.lit(True)
    if cleaning.sku_map is not None:
        value = pl.coalesce(pl.col("__mapped"), value)
        unmapped = pl.col("__mapped").is_null()
    if cleaning.upper:
        value = value.str.to_uppercase()
    checks = [(unmapped & (fallback == ""), "missing_sku")]
    if cleaning.sku_map is not None and cleaning.reject_unmapped:
        checks.append((unmapped, "unmapped_sku"))
    checks.append((pl.col(name).str.contains(MANGLED_SKU), "mangled_sku"))
    code: pl.Expr = pl.lit(None, pl.String)
    for condition, rejection in reversed(checks):
        code = pl.when(condition).then(pl.lit(rejection)).otherwise(code)
    return FieldShape(value, rejection=code, cell=pl.col("__key"))


def vendor_sku_shape(cleaning: CleaningConfig, name: str) -> FieldShape:
    """The key: the vendor's SKU cell, trimmed (never read as a number); empty → null."""
    return FieldShape(pl.when(pl.col("__key") != "").then(pl.col("__key")))


def _key(field: str, cleaning: CleaningConfig) -> pl.Expr:
    stripped = raw(field).str.strip_chars()
    default = trim(cleaning.defaults.get(field))
    if not default:  # an empty cell stays empty
        return stripped
    return pl.when(stripped == "").then(pl.lit(default)).otherwise(stripped)


def _fallback(cleaning: CleaningConfig) -> pl.Expr:
    if not cleaning.has_fallback:
        return pl.col("__key")
    cell = _key("sku", cleaning)
    return pl.when(cell != "").then(cell).otherwise(pl.col("__key"))
