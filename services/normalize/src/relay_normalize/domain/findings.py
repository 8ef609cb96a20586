"""The codes and messages of the findings a feed produces (errors and warnings).

A finding is the shared :class:`relay_shared.findings.Finding` (``{vendor_id, row, column,
code, message, value}``): ``column`` is the canonical field name; feed-level findings have
``row`` ``None``; ``value`` is cut to 200 characters. Whether one is an error or a warning is
the list it is in.
"""

from __future__ import annotations

from relay_shared.findings import Finding

MESSAGES: dict[str, str] = {
    # row rejections
    "missing_sku": "the SKU is empty",
    "unmapped_sku": "the vendor SKU is not in the SKU map",
    "mangled_sku": "the SKU looks like a number reformatted by a spreadsheet",
    "invalid_quantity": "the quantity is not a whole number",
    "currency_mismatch": "the amount is in another currency than the vendor's",
    "invalid_money": "the amount is not a non-negative number",
    "invalid_lead_time": "the lead time is not a whole number of days or weeks",
    "invalid_condition": "the condition is not new, used or refurb",
    # row warnings
    "negative_quantity": "a negative quantity was read as 0",
    "invalid_timestamp": "the timestamp is not ISO-8601; the run's as-of time is used",
    "duplicate_sku": "the SKU appeared earlier in the feed; this row is dropped",
    "missing_cost": "the offer has no cost and cannot be priced",
    # feed failures
    "missing_column": "a mapped column is not in the header",
    "unparseable_file": "the file cannot be read",
    "sku_map_conflict": "the SKU map maps one vendor SKU to two SKUs",
    "sku_map_unavailable": "the SKU map cannot be read",
    "too_many_invalid_rows": "too many rows were rejected",
    # feed refusals: the feed's encoding, or one of its bounds (relay_normalize.domain.limits)
    "unsupported_encoding": "the configured encoding is not a text encoding",
    "feed_too_large": "the feed is too large",
    "too_many_rows": "the feed has too many rows",
    "too_many_columns": "the feed has too many columns",
    "cell_too_large": "a cell is too large",
    "line_too_long": "a JSONL line is too long",
    "nesting_too_deep": "the JSON is nested too deep",
}


def finding(
    vendor_id: str,
    code: str,
    *,
    row: int | None = None,
    column: str | None = None,
    value: str | None = None,
    detail: str | None = None,
) -> Finding:
    """A finding with the standard message of ``code`` (plus ``detail`` when given)."""
    message = MESSAGES[code] if detail is None else f"{MESSAGES[code]}: {detail}"
    return Finding(vendor_id, row, column, code, message, value).cut()


class FeedFailure(Exception):
    """The whole feed cannot be used; carries the feed-level findings (errors)."""

    def __init__(self, code: str, findings: list[Finding]) -> None:
        super().__init__(code)
        self.code = code
        self.findings = findings


def feed_failure(
    vendor_id: str, code: str, *, detail: str | None = None, value: str | None = None
) -> FeedFailure:
    """A failure of the feed with its one feed-level finding."""
    return FeedFailure(code, [finding(vendor_id, code, detail=detail, value=value)])
