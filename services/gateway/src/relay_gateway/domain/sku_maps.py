"""Validating an uploaded SKU map by the shared rule (:mod:`relay_shared.sku_map_rule`, the
one normalize applies): every problem is listed, by ``rows[i]`` (0-based data records)."""

from __future__ import annotations

from relay_shared.sku_map_rule import (
    EmptyCell,
    MapProblem,
    SkuMapUnreadableError,
    csv_records,
    header_columns,
    read_mappings,
)
from relay_shared.tenant_config import ConfigProblem


class SkuMapInvalidError(ValueError):
    def __init__(self, problems: list[ConfigProblem]) -> None:
        super().__init__("; ".join(str(problem) for problem in problems))
        self.problems = problems


MAX_PROBLEMS = 50


def validate_sku_map(raw: bytes) -> int:
    """The number of mappings in the CSV; :class:`SkuMapInvalidError` lists its problems."""
    try:
        records = csv_records(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise SkuMapInvalidError([ConfigProblem("", f"not a UTF-8 CSV: {exc}")]) from exc
    except SkuMapUnreadableError as exc:
        raise SkuMapInvalidError([ConfigProblem("", str(exc))]) from exc
    try:
        key_at, value_at = header_columns(records[0])
    except SkuMapUnreadableError as exc:
        raise SkuMapInvalidError([ConfigProblem("header", str(exc))]) from exc
    entries, problems = read_mappings(records[1:], key_at, value_at, max_problems=MAX_PROBLEMS)
    if problems:
        raise SkuMapInvalidError([_config_problem(problem) for problem in problems])
    return len(entries)


def _config_problem(problem: MapProblem) -> ConfigProblem:
    where = f"rows[{problem.index}]"
    if isinstance(problem, EmptyCell):
        return ConfigProblem(where, "vendor_sku and sku must not be empty")
    both = f"{problem.known!r} and {problem.value!r}"
    return ConfigProblem(where, f"vendor_sku {problem.key!r} is mapped to both {both}")
