"""The per-row oracle: the spec's rules applied to one whole row in plain Python.

Production cleans whole columns (the vectorised shapes of the field rules, and their per-cell
rules for the cells outside them); the property test checks that this gives exactly what
production gives. It runs each field's per-cell rule on every cell, and states the rules that
production only vectorises (the SKU's, the texts') itself. A row reports only its first
rejection, in the spec's field order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from relay_normalize.domain.clean.cells import with_default
from relay_normalize.domain.clean.cleaning_config import CleaningConfig
from relay_normalize.domain.clean.fields import FIELD_RULES
from relay_normalize.domain.clean.sku import MANGLED_SKU
from relay_normalize.domain.text_cells import collapse, trim


def clean_row(cells: Mapping[str, str | None], cleaning: CleaningConfig) -> dict[str, Any]:
    """One row: ``cells`` maps canonical field → raw cell (absent field = empty).

    The result has each field's clean value, ``__error`` (the first rejection code, else
    None) and, for a warned field, ``w_<field>`` (its cell)."""
    out: dict[str, Any] = {"__error": None}

    def cell(name: str) -> str:
        return with_default(cells.get(name), cleaning.defaults.get(name))

    key = cell(cleaning.key_field)
    out["vendor_sku"] = key or None
    out["sku"], out["__error"] = _sku(
        key, (cell("sku") if cleaning.has_fallback else "") or key, cleaning
    )
    if out["__error"] is not None:
        return out
    for rule in FIELD_RULES:
        if rule.cell is None:
            continue
        text = cell(rule.name)
        outcome = rule.cell(cleaning)(text)
        if outcome.rejection is not None:
            out["__error"] = outcome.rejection
            return out
        out[rule.name] = outcome.value
        if outcome.warned:
            out[f"w_{rule.name}"] = text
    out["brand"] = collapse(cell("brand"))
    out["title"] = collapse(cell("title"))
    return out


def _sku(key: str, fallback: str, cleaning: CleaningConfig) -> tuple[str | None, str | None]:
    """``(sku, rejection)``: the spec's ``sku`` rule."""
    sku_map = cleaning.sku_map
    if sku_map is not None and trim(key) in sku_map:
        sku = sku_map[trim(key)]
    else:
        sku = trim(fallback)
        if not sku:
            return None, "missing_sku"
        if sku_map is not None and cleaning.reject_unmapped:
            return None, "unmapped_sku"
    if cleaning.upper:
        sku = sku.upper()
    if not sku:
        return None, "missing_sku"
    if re.search(MANGLED_SKU, sku):
        return None, "mangled_sku"
    return sku, None
