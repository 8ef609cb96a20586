"""The per-vendor report normalize writes and pricing reads: the contract between them.

Stored as JSON at ``keys.findings_key(...)``; the normalized rows themselves are the CSV at
``keys.normalized_key(...)``. Its items are :class:`~relay_shared.findings.Finding`\\ s, the
``errors.json`` items.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from relay_shared.events import VendorCounts
from relay_shared.findings import Finding


class VendorReport(BaseModel):
    """What happened to one vendor's feed under a run (or a runless update)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    vendor_id: str
    status: Literal["ok", "failed", "missing"]
    failure_code: str | None = None
    stats: VendorCounts
    errors: list[Finding]
    warnings: list[Finding]

    def to_json_bytes(self) -> bytes:
        return self.model_dump_json(indent=2).encode() + b"\n"
