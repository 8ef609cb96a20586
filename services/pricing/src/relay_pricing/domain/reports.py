"""``errors.json`` and ``run_summary.json`` of a run.

errors.json: ``{"errors": [...], "warnings": [...]}``, items ``{vendor_id, row, column, code,
message, value}``, by vendor in config order, feed-level items (``row: null``) first, then by
row, one item per line. run_summary.json: two-space indent. Keys in the spec's order, UTF-8,
a final newline.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

VALUE_LIMIT = 200
# One encoder for every item: ``json.dumps`` with options builds a new encoder per call.
_ITEM_ENCODER = json.JSONEncoder(ensure_ascii=False)
_encode_text = json.encoder.encode_basestring  # the encoder's own (C) function for text
ITEM_KEYS = ("vendor_id", "row", "column", "code", "message", "value")
STAT_KEYS = ("rows", "accepted", "rejected", "duplicates", "warnings", "sha256")


def item(vendor_id: str, code: str, message: str, *, value: str | None = None) -> dict[str, Any]:
    """A feed-level finding."""
    return {
        "vendor_id": vendor_id,
        "row": None,
        "column": None,
        "code": code,
        "message": message,
        "value": None if value is None else value[:VALUE_LIMIT],
    }


def in_report_order(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Feed-level items first, then by row (stable within a row)."""
    ordered = sorted(items, key=lambda entry: (entry["row"] is not None, entry["row"] or 0))
    return [_shape(entry) for entry in ordered]


def _shape(entry: Mapping[str, Any]) -> dict[str, Any]:
    value = entry.get("value")
    return {
        "vendor_id": entry["vendor_id"],
        "row": entry.get("row"),
        "column": entry.get("column"),
        "code": entry["code"],
        "message": entry["message"],
        "value": value[:VALUE_LIMIT] if isinstance(value, str) else value,
    }


def to_json_bytes(document: Any) -> bytes:
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _json(value: Any) -> str:
    """``value`` as the item encoder writes it (text and integers without its overhead)."""
    if value is None:
        return "null"
    kind = type(value)
    if kind is str:
        return _encode_text(value)
    if kind is int:
        return int.__repr__(value)
    return _ITEM_ENCODER.encode(value)


def _item_line(entry: Mapping[str, Any]) -> str:
    """One item as the item encoder writes it (spelled out for the spec's keys in order)."""
    if tuple(entry) != ITEM_KEYS:
        return "    " + _ITEM_ENCODER.encode(entry)
    return (
        f'    {{"vendor_id": {_json(entry["vendor_id"])}, "row": {_json(entry["row"])}, '
        f'"column": {_json(entry["column"])}, "code": {_json(entry["code"])}, '
        f'"message": {_json(entry["message"])}, "value": {_json(entry["value"])}}}'
    )


def _item_lines(items: Sequence[Mapping[str, Any]]) -> str:
    if not items:
        return "[]"
    return "[\n" + ",\n".join(map(_item_line, items)) + "\n  ]"


def errors_document(
    errors: Sequence[Mapping[str, Any]], warnings: Sequence[Mapping[str, Any]]
) -> bytes:
    """One item per line (tens of thousands of items: text goes straight to the C escaper)."""
    text = f'{{\n  "errors": {_item_lines(errors)},\n  "warnings": {_item_lines(warnings)}\n}}\n'
    return text.encode("utf-8")


def summary_document(
    *,
    run_id: str,
    tenant_id: str,
    config_version: int | None,
    as_of: str,
    status: str,
    vendors: Mapping[str, Mapping[str, Any]],
    merged_rows: int,
    skus_left_out: Sequence[str],
    timings_ms: Mapping[str, int],
) -> bytes:
    return to_json_bytes(
        {
            "run_id": run_id,
            "tenant_id": tenant_id,
            "config_version": config_version,
            "as_of": as_of,
            "status": status,
            "vendors": {vendor_id: dict(entry) for vendor_id, entry in vendors.items()},
            "merged_rows": merged_rows,
            "skus_left_out": list(skus_left_out),
            "timings_ms": dict(timings_ms),
        }
    )


def vendor_entry(status: str, stats: Mapping[str, Any] | None) -> dict[str, Any]:
    """A vendor's line in the summary; a missing feed has zero counts and no sha256."""
    entry: dict[str, Any] = {"status": status}
    for key in STAT_KEYS:
        entry[key] = (stats or {}).get(key, None if key == "sha256" else 0)
    return entry
