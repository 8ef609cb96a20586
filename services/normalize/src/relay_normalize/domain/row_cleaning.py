"""The per-row reference: the spec's rules applied to one whole row in plain Python.

Production cleans whole columns (:mod:`fast_rows` for clean shapes, :mod:`slow_rows` for the
rest); the property test in tests/engine checks that both give exactly what this gives. It
also names the columns of the cleaned frame. A row reports only its first rejection, in the
spec's field order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from relay_normalize.domain import cleaning
from relay_normalize.domain.cleaning import CellRejected
from relay_normalize.domain.rules import CleaningRules
from relay_normalize.domain.text_cells import collapse, trim
from relay_shared.tenant_config.models import MONEY_FIELDS, NORMALIZED_COLUMNS

# The normalized columns a cleaned row has (vendor_id is the feed's, added when written).
CLEAN_COLUMNS = tuple(name for name in NORMALIZED_COLUMNS if name != "vendor_id")
# __w_quantity / __w_timestamp: the cell of a negative_quantity / invalid_timestamp warning.
EXTRA_COLUMNS = ("__error", "__error_column", "__error_value", "__w_quantity", "__w_timestamp")


def with_default(cell: str | None, name: str, rules: CleaningRules) -> str:
    """The trimmed cell, or the config default when it is empty."""
    text = trim(cell)
    return text if text else trim(rules.defaults.get(name))


def _checks(rules: CleaningRules) -> list[tuple[str, Callable[[str], Any]]]:
    def money(cell: str) -> int | None:
        return cleaning.parse_money_cents(
            cell, currency=rules.currency, decimal_separator=rules.decimal_separator
        )

    def quantity(cell: str) -> tuple[int, str | None]:
        return cleaning.parse_quantity(
            cell, words=rules.quantity_words, decimal_separator=rules.decimal_separator
        )

    return [
        ("quantity_available", quantity),
        *[(name, money) for name in MONEY_FIELDS],
        ("lead_time_days", cleaning.parse_lead_time),
        (
            "condition",
            lambda cell: cleaning.parse_condition(cell, condition_map=rules.condition_map),
        ),
    ]


def clean_row(
    cells: Mapping[str, str | None], rules: CleaningRules, *, key_field: str, has_fallback: bool
) -> dict[str, Any]:
    """One row: ``cells`` maps canonical field → raw cell (absent field = empty)."""
    out: dict[str, Any] = dict.fromkeys((*CLEAN_COLUMNS, *EXTRA_COLUMNS))
    key = with_default(cells.get(key_field), key_field, rules)
    out["vendor_sku"] = key or None
    fallback = (with_default(cells.get("sku"), "sku", rules) if has_fallback else "") or key
    try:
        out["sku"] = cleaning.resolve_sku(
            key,
            fallback,
            sku_map=rules.sku_map,
            reject_unmapped=rules.reject_unmapped,
            upper=rules.upper,
        )
    except CellRejected as rejected:
        return _rejected(out, rejected.code, "sku", key)
    for name, parse in _checks(rules):
        text = with_default(cells.get(name), name, rules)
        try:
            result = parse(text)
        except CellRejected as rejected:
            return _rejected(out, rejected.code, name, text)
        if name == "quantity_available":
            out[name], warned = result
            out["__w_quantity"] = text if warned else None
        else:
            out[name] = result
    stamp, invalid = cleaning.parse_timestamp(
        with_default(cells.get("updated_at"), "updated_at", rules),
        zone=rules.zone,
        as_of=rules.as_of,
    )
    out["updated_at"] = stamp
    if invalid:
        out["__w_timestamp"] = trim(cells.get("updated_at"))
    out["brand"] = collapse(with_default(cells.get("brand"), "brand", rules))
    out["title"] = collapse(with_default(cells.get("title"), "title", rules))
    return out


def _rejected(out: dict[str, Any], code: str, column: str, text: str) -> dict[str, Any]:
    out["__error"] = code
    out["__error_column"] = column
    out["__error_value"] = text or None
    return out
