"""Validating an uploaded SKU map: CSV ``vendor_sku,sku``; one vendor SKU → one SKU."""

from __future__ import annotations

import csv
import io

from relay_shared.tenant_config import ConfigProblem


class SkuMapInvalidError(ValueError):
    def __init__(self, problems: list[ConfigProblem]) -> None:
        super().__init__("; ".join(str(problem) for problem in problems))
        self.problems = problems


MAX_PROBLEMS = 50


def validate_sku_map(raw: bytes) -> int:
    """The number of mappings in the CSV; :class:`SkuMapInvalidError` lists problems by
    ``rows[i]`` (0-based data rows)."""
    try:
        records = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise SkuMapInvalidError([ConfigProblem("", f"not a UTF-8 CSV: {exc}")]) from exc
    if not records:
        raise SkuMapInvalidError([ConfigProblem("", "the map is empty")])
    header = [cell.strip().lower() for cell in records[0]]
    if "vendor_sku" not in header or "sku" not in header:
        raise SkuMapInvalidError([ConfigProblem("header", "needs the columns vendor_sku,sku")])
    key_at, value_at = header.index("vendor_sku"), header.index("sku")
    entries: dict[str, str] = {}
    problems: list[ConfigProblem] = []
    for index, record in enumerate(records[1:]):
        if not any(cell.strip() for cell in record):
            continue
        key = record[key_at].strip() if key_at < len(record) else ""
        value = record[value_at].strip() if value_at < len(record) else ""
        problem = _row_problem(entries, key, value)
        if problem is not None:
            problems.append(ConfigProblem(f"rows[{index}]", problem))
        else:
            entries[key] = value
    if problems:
        raise SkuMapInvalidError(problems[:MAX_PROBLEMS])
    return len(entries)


def _row_problem(entries: dict[str, str], key: str, value: str) -> str | None:
    if not key or not value:
        return "vendor_sku and sku must not be empty"
    known = entries.get(key)
    if known is not None and known != value:
        return f"vendor_sku {key!r} is mapped to both {known!r} and {value!r}"
    return None
