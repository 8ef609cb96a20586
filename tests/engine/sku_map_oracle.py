"""The SKU map read record by record through Python's ``csv`` reader: the reference the
column-wise reading (:func:`relay_normalize.domain.clean.sku_map.parse_sku_map`) must equal.
It returns the map, or the first problem as ``(code, detail, value)``."""

from __future__ import annotations

import csv
import io

from relay_normalize.domain.text_cells import trim

Problem = tuple[str, str, str | None]


def read_sku_map(raw: bytes) -> dict[str, str] | Problem:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return ("sku_map_unavailable", "the map is not UTF-8", None)
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        return ("sku_map_unavailable", f"the map is not valid CSV: {exc}", None)
    if not records:
        return ("sku_map_unavailable", "the map is empty", None)
    header = [trim(cell).lower() for cell in records[0]]
    if "vendor_sku" not in header or "sku" not in header:
        return ("sku_map_unavailable", "the map needs the headers vendor_sku,sku", None)
    key_at, value_at = header.index("vendor_sku"), header.index("sku")
    entries: dict[str, str] = {}
    for number, record in enumerate(records[1:], start=2):
        if not any(trim(cell) for cell in record):
            continue
        key = trim(record[key_at]) if key_at < len(record) else ""
        value = trim(record[value_at]) if value_at < len(record) else ""
        if not key or not value:
            return ("sku_map_unavailable", f"line {number} has an empty cell", None)
        known = entries.setdefault(key, value)
        if known != value:
            return ("sku_map_conflict", f"{key!r} maps to {known!r} and {value!r}", key)
    return entries
