"""The ``channels``, ``insights`` and ``sheets`` sections of a tenant config (spec:
insights-and-channels.md, "Tenant config sections").

:class:`~relay_shared.tenant_config.TenantConfig` keeps these sections as plain mappings (other
specs own them); :func:`parse_channel_sections` validates them into typed models, listing every
problem by its full path (``channels.amazon.allocation.share_pct: ...``).

Decisions where the spec is silent:
- A channel name is lower-case letters, digits, ``_`` and ``-`` (it names folders and files).
- ``allocation`` defaults to the whole merged quantity (``share_pct: 100, buffer: 0``).
- ``insights`` (a channel's subscriptions) defaults to none; ``actions`` to doing nothing.
- ``sheets.backend: google`` needs ``sheets.google``.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from relay_shared.tenant_config import (
    ConfigError,
    ConfigProblem,
    TenantConfig,
    validation_problems,
)

InsightKind = Literal["out_of_stock", "slow_mover", "aged", "reallocation_candidate"]
INSIGHT_KINDS: tuple[InsightKind, ...] = (
    "out_of_stock",
    "slow_mover",
    "aged",
    "reallocation_candidate",
)
CHANNEL_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
_DAILY_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AllocationConfig(_Model):
    """How much of the merged quantity a channel offers."""

    share_pct: Decimal = Field(default=Decimal(100), ge=0, le=100)
    buffer: int = Field(default=0, ge=0)
    max_qty: int | None = Field(default=None, ge=0)

    def channel_quantity(self, merged_qty: int) -> int:
        """``min(max_qty, max(0, floor(merged_qty × share_pct / 100) − buffer))``."""
        shared = math.floor(Decimal(max(merged_qty, 0)) * self.share_pct / 100)
        quantity = max(0, shared - self.buffer)
        return quantity if self.max_qty is None else min(self.max_qty, quantity)


class SlowMoverAction(_Model):
    reprice_pct: Decimal = Field(le=0, ge=-100)
    floor: Literal["map", "min_price"] = "map"


class ChannelActions(_Model):
    out_of_stock: Literal["pause", "delist", "none"] = "none"
    slow_mover: SlowMoverAction | None = None
    reallocation: Literal["push", "pull", "none"] = "none"


class ChannelConfig(_Model):
    enabled: bool = True
    allocation: AllocationConfig = Field(default_factory=AllocationConfig)
    insights: list[InsightKind] = Field(default_factory=list)
    actions: ChannelActions = Field(default_factory=ChannelActions)
    dry_run: bool = True

    @field_validator("insights")
    @classmethod
    def _no_repeats(cls, value: list[InsightKind]) -> list[InsightKind]:
        if len(set(value)) != len(value):
            raise ValueError("a kind must not be listed twice")
        return value


class InsightsConfig(_Model):
    slow_after_days: int = Field(default=30, ge=1)
    aged_after_days: int = Field(default=180, ge=1)
    purge_resolved_after_days: int = Field(default=90, ge=1)
    max_new_per_channel_per_day: int = Field(default=50, ge=0)
    evaluate_daily_at: str = "06:00"

    @field_validator("evaluate_daily_at")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        if not _DAILY_TIME.match(value):
            raise ValueError("must be a time of day HH:MM (24-hour)")
        return value


class GoogleSheetsConfig(_Model):
    shared_drive_id: str = Field(min_length=1)
    share_with: list[str] = Field(default_factory=list)


class SheetsConfig(_Model):
    backend: Literal["xlsx", "google"] = "xlsx"
    google: GoogleSheetsConfig | None = None


class ChannelSections(_Model):
    """The typed ``channels``, ``insights`` and ``sheets`` sections of one tenant config."""

    channels: dict[str, ChannelConfig] = Field(default_factory=dict)
    insights: InsightsConfig = Field(default_factory=InsightsConfig)
    sheets: SheetsConfig = Field(default_factory=SheetsConfig)

    def enabled_channels(self) -> dict[str, ChannelConfig]:
        """The enabled channels, by name, in name order."""
        return {
            name: self.channels[name]
            for name in sorted(self.channels)
            if self.channels[name].enabled
        }


def parse_channel_sections(config: TenantConfig) -> ChannelSections:
    """Validate the config's ``channels``, ``insights`` and ``sheets`` sections.

    Raises :class:`~relay_shared.tenant_config.ConfigError` listing every problem by path.
    """
    data: dict[str, Any] = {
        "channels": config.channels or {},
        "insights": config.insights or {},
        "sheets": config.sheets or {},
    }
    try:
        sections = ChannelSections.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(validation_problems(exc.errors())) from exc
    problems = _cross_field_problems(sections)
    if problems:
        raise ConfigError(problems)
    return sections


def _cross_field_problems(sections: ChannelSections) -> list[ConfigProblem]:
    problems = [
        ConfigProblem(f"channels.{name}", "a channel name is a-z, 0-9, _ or - (starting a-z)")
        for name in sections.channels
        if not CHANNEL_NAME.match(name)
    ]
    if sections.sheets.backend == "google" and sections.sheets.google is None:
        problems.append(ConfigProblem("sheets.google", "is required for the google backend"))
    return problems
