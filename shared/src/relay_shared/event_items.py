"""What an event reports that a read model shows again: the fields an event and the gateway's
API item share, declared once. The event (:mod:`relay_shared.events`) adds its envelope; the
gateway's item adds what its read model knows (when it was reported or acted)."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

ChannelActionName = Literal["pause", "unpause", "delist", "reprice", "push", "pull"]
ActionOutcome = Literal["dry_run", "succeeded", "failed", "deferred", "timed_out"]
#: ``removed``: the config no longer pulls the vendor (its last report).
PullStatus = Literal["pending", "ok", "unchanged", "retrying", "failed", "removed"]


class ChannelActionItem(BaseModel):
    """Which action a channel's plugin took on which insight's SKU, and how it ended."""

    model_config = ConfigDict(frozen=True)

    action_id: str
    insight_id: str
    channel: str
    sku: str
    action: ChannelActionName
    outcome: ActionOutcome
    dry_run: bool


class VendorPullItem(BaseModel):
    """A pulled vendor's state: its last attempt, outcome, error and next scheduled time."""

    model_config = ConfigDict(frozen=True)

    vendor_id: str = Field(min_length=1, max_length=64)
    kind: Literal["https", "sftp"]
    status: PullStatus
    error_code: str | None = Field(default=None, max_length=64)
    error: str | None = Field(default=None, max_length=1000)
    attempts: int = Field(default=0, ge=0)
    last_attempt_at: AwareDatetime | None = None
    last_success_at: AwareDatetime | None = None
    next_due_at: AwareDatetime | None = None
