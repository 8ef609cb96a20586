"""A run's two reports, ``errors.json`` and ``run_summary.json``: their models and writers.

Whoever fails or finishes a run (pricing's engine, or :mod:`relay_shared.run_failure` for a
run failed before the engine) writes them through these, so both files have one layout:
UTF-8, keys in the spec's order, a final newline.

- errors.json: ``{"errors": [...], "warnings": [...]}``, one :class:`Finding` a line (the
  order of the items is the writer's caller's: the engine's is by vendor in config order,
  feed-level items first, then by row).
- run_summary.json: two-space indent.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    SerializerFunctionWrapHandler,
    field_serializer,
    model_serializer,
)

from relay_shared.events import VendorCounts
from relay_shared.findings import Finding

# One encoder for every value that is not text, an integer or null: ``json.dumps`` with
# options builds a new encoder per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False)
_encode_text = json.encoder.encode_basestring  # the encoder's own (C) function for text


class ErrorsReport(BaseModel):
    """errors.json."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    errors: list[Finding]
    warnings: list[Finding]

    def to_json_bytes(self) -> bytes:
        """The file: one item a line (tens of thousands of items: text goes straight to the C
        escaper), each written as ``json.dumps(item, ensure_ascii=False)`` would."""
        errors, warnings = _item_lines(self.errors), _item_lines(self.warnings)
        return f'{{\n  "errors": {errors},\n  "warnings": {warnings}\n}}\n'.encode()


def _json(value: str | int | None) -> str:
    """``value`` as the encoder writes it (text and integers without its overhead; a
    subclass of either, e.g. a bool, through the encoder)."""
    if value is None:
        return "null"
    if type(value) is str:
        return _encode_text(value)
    if type(value) is int:
        return int.__repr__(value)
    return _ENCODER.encode(value)


def _item_line(item: Finding) -> str:
    return (
        f'    {{"vendor_id": {_json(item.vendor_id)}, "row": {_json(item.row)}, '
        f'"column": {_json(item.column)}, "code": {_json(item.code)}, '
        f'"message": {_json(item.message)}, "value": {_json(item.value)}}}'
    )


def _item_lines(items: Sequence[Finding]) -> str:
    if not items:
        return "[]"
    return "[\n" + ",\n".join(map(_item_line, items)) + "\n  ]"


#: A vendor's outcome in run_summary.json; ``unchanged``: merged from its feed's earlier
#: normalized rows, its feed's bytes being those of its last normalized feed.
SummaryStatus = Literal["ok", "unchanged", "failed", "skipped"]


class VendorSummary(VendorCounts):
    """A vendor's entry in run_summary.json: its outcome, then its feed's counts (a missing
    feed: zero counts and no sha256)."""

    status: SummaryStatus

    @model_serializer(mode="wrap")
    def _status_first(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if "status" not in data:
            return data
        return {"status": data.pop("status"), **data}

    @classmethod
    def of(cls, status: SummaryStatus, counts: VendorCounts) -> VendorSummary:
        return cls(status=status, **counts.model_dump())

    def counts(self) -> VendorCounts:
        return VendorCounts(**self.model_dump(exclude={"status"}))


class RunSummary(BaseModel):
    """run_summary.json."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: str
    tenant_id: str
    config_version: int | None
    as_of: datetime
    status: Literal["succeeded", "failed"]
    vendors: dict[str, VendorSummary]
    merged_rows: int
    skus_left_out: list[str]
    timings_ms: dict[str, int]

    @field_serializer("as_of")
    def _utc_seconds(self, as_of: datetime) -> str:
        """UTC to the second, ``2026-01-01T00:00:00Z`` (a naive time is UTC)."""
        return format_utc(as_of)

    def to_json_bytes(self) -> bytes:
        document: dict[str, Any] = self.model_dump(mode="json")
        return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def format_utc(moment: datetime) -> str:
    """``moment`` in UTC to the second (fractions dropped); a naive time is taken as UTC."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
