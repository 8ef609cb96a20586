"""Request and response bodies of the HTTP API (also the OpenAPI schemas)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

TENANT_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
Channel = Literal["amazon", "ebay", "woot"]
TenantRole = Literal["owner", "operator", "viewer"]
RunStatus = Literal["QUEUED", "RUNNING", "SUCCEEDED", "FAILED"]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Response(BaseModel):
    model_config = ConfigDict(frozen=True)


class ErrorDetail(_Response):
    code: str
    message: str
    details: dict[str, Any]


class ErrorBody(_Response):
    error: ErrorDetail


class Health(_Response):
    status: Literal["ok"]


class Readiness(_Response):
    status: Literal["ok"]
    checks: dict[str, str]


class CreateTenant(_Request):
    tenant_id: str = Field(pattern=TENANT_ID_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    channels: list[Channel] = Field(default_factory=list, max_length=10)


class TenantOut(_Response):
    tenant_id: str
    name: str
    channels: list[str]
    config_version: int | None


class TenantCreated(_Response):
    tenant: TenantOut
    api_key: str


class ConfigSaved(_Response):
    tenant_id: str
    config_version: int


class ConfigOut(_Response):
    config_version: int
    config: dict[str, Any]


class CreateApiKey(_Request):
    roles: list[TenantRole] = Field(min_length=1, max_length=3)


class ApiKeyCreated(_Response):
    key_id: str
    api_key: str


class TokenRequest(_Request):
    sub: str = Field(min_length=1, max_length=200)
    roles: list[TenantRole] = Field(min_length=1, max_length=3)
    channels: list[str] = Field(default_factory=list, max_length=20)
    tenant_id: str | None = Field(default=None, pattern=TENANT_ID_PATTERN)


class TokenOut(_Response):
    token: str
    expires_at: datetime


class Upload(_Response):
    key: str
    sha256: str
    size: int


class SkuMapSaved(_Response):
    key: str
    rows: int


class CreateRun(_Request):
    tenant_id: str | None = Field(default=None, pattern=TENANT_ID_PATTERN)
    run_type: Literal["inventory_sync"] = "inventory_sync"
    vendors: list[str] | None = Field(default=None, min_length=1, max_length=100)
    force: bool = False
    full: bool = False  # a full snapshot even when the tenant's output.mode is delta


class RunAccepted(_Response):
    run_id: str
    status: Literal["QUEUED"]
    config_version: int


class VendorOut(_Response):
    status: str
    rows: int
    accepted: int
    rejected: int
    duplicates: int


class RunCounts(_Response):
    merged_rows: int | None
    skus_left_out: int | None


class RunErrorOut(_Response):
    code: str
    message: str
    report_key: str | None


class StageTimingsOut(_Response):
    """Milliseconds between the pipeline events the gateway saw (None: not reached)."""

    queued_ms: int | None
    ingest_ms: int | None
    normalize_ms: int | None
    merge_ms: int | None


class RunOut(_Response):
    run_id: str
    tenant_id: str
    status: RunStatus
    stage: str
    config_version: int
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    vendors: dict[str, VendorOut]
    counts: RunCounts
    error: RunErrorOut | None
    timings: StageTimingsOut
    attempts: dict[str, int] = Field(
        description="per stage, the most times one of its events was seen (1 = no retry)"
    )


class RunList(_Response):
    runs: list[RunOut]
    next_cursor: str | None


class Artifact(_Response):
    name: str
    key: str
    size: int
    url: str
    expires_at: datetime


class ArtifactList(_Response):
    run_id: str
    artifacts: list[Artifact]


class WebhookAnswer(_Response):
    status: Literal["accepted", "duplicate", "ignored"]
    event_id: str


InsightKind = Literal["out_of_stock", "slow_mover", "aged", "reallocation_candidate"]


class InsightOut(_Response):
    insight_id: str
    channel: str
    sku: str
    kind: InsightKind
    status: Literal["open", "resolved"]
    since: datetime
    detail: dict[str, str | int | None]


class InsightList(_Response):
    tenant_id: str
    insights: list[InsightOut]
    next_cursor: str | None
