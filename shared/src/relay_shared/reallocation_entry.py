"""One entry of a tenant's reallocation list: what insights keeps (its schema owns the list)
and what the gateway shows from ``reallocation.changed`` (``GET …/reallocation``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from relay_shared.events import ReallocationState


class ReallocationEntry(BaseModel):
    """``target`` is None for stock a channel pushed (offered to any channel);
    ``claimed_by`` is the channel whose pull claimed it."""

    model_config = ConfigDict(frozen=True)

    entry_id: str
    origin: str
    target: str | None
    sku: str
    quantity: int
    reason: str
    state: ReallocationState
    claimed_by: str | None
    changed_at: datetime
