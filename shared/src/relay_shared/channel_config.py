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

Channel plugins (:mod:`relay_shared.channel_plugins`):
- A channel names its plugin with ``plugin:``; without it the plugin is the one named like
  the channel (``amazon``, ``ebay``, ``woot``), if any. A channel without a plugin may exist
  (its products and insights are kept) but may configure no action and no credentials.
- Configuring an action (``actions``), or subscribing (``insights``) to a kind, that the
  plugin does not support is a problem at that path; so is ``plugin:`` naming no plugin.
- ``account`` holds the plugin's non-secret account fields (Amazon: ``seller_id``,
  ``marketplace_id``; they appear in the audited requests) and ``currency`` (default: the
  tenant's ``default_currency``). A dry-run without them records the request with
  ``{seller_id}``-style placeholders; once ``dry_run`` is false they are required.
- ``credentials`` holds the plugin's secrets (Amazon: ``lwa_client_id``,
  ``lwa_client_secret``, ``refresh_token``; eBay: ``client_id``, ``client_secret``,
  ``refresh_token``). Every value is sealed at rest (:mod:`relay_shared.secrets_box`); they
  are required once ``dry_run`` is false and the channel has an action.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from relay_shared.channel_plugins import ActionName, PluginSpec, plugin_spec
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

    def configured(self) -> frozenset[ActionName]:
        """The plugin actions this configuration asks for (``pause`` implies ``unpause``)."""
        found: set[ActionName] = set()
        if self.out_of_stock == "pause":
            found |= {"pause", "unpause"}
        elif self.out_of_stock == "delist":
            found.add("delist")
        if self.slow_mover is not None:
            found.add("reprice")
        if self.reallocation != "none":
            found.add(self.reallocation)
        return frozenset(found)


class AccountConfig(_Model):
    """A channel's marketplace account: not secret (the values appear in requests)."""

    seller_id: str | None = Field(default=None, min_length=1, max_length=64)
    marketplace_id: str | None = Field(default=None, min_length=1, max_length=64)
    #: the listing's currency; default: the tenant's ``default_currency``
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")


CredentialName = Annotated[str, StringConstraints(min_length=1, max_length=64)]
CredentialValue = Annotated[str, StringConstraints(min_length=1, max_length=8192)]


class ChannelConfig(_Model):
    enabled: bool = True
    plugin: str | None = Field(default=None, min_length=1, max_length=40)
    allocation: AllocationConfig = Field(default_factory=AllocationConfig)
    insights: list[InsightKind] = Field(default_factory=list)
    actions: ChannelActions = Field(default_factory=ChannelActions)
    account: AccountConfig = Field(default_factory=AccountConfig)
    credentials: dict[CredentialName, CredentialValue] = Field(default_factory=dict)
    dry_run: bool = True

    def plugin_name(self, channel: str) -> str:
        """The plugin this channel uses: ``plugin:`` or the channel's own name."""
        return self.plugin or channel

    def plugin_for(self, channel: str) -> PluginSpec | None:
        return plugin_spec(self.plugin_name(channel))

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
    for name, channel in sections.channels.items():
        problems.extend(plugin_problems(name, channel))
    return problems


def plugin_problems(name: str, channel: ChannelConfig) -> list[ConfigProblem]:
    """What the channel's plugin cannot do of what the channel configures."""
    path = f"channels.{name}"
    spec = channel.plugin_for(name)
    wanted = channel.actions.configured()
    if spec is None:
        if channel.plugin is not None:
            return [ConfigProblem(f"{path}.plugin", _no_plugin(channel.plugin))]
        problems = []
        if wanted:
            problems.append(ConfigProblem(f"{path}.actions", _no_plugin(name)))
        if channel.credentials:
            problems.append(ConfigProblem(f"{path}.credentials", _no_plugin(name)))
        return problems
    problems = [
        ConfigProblem(f"{path}.insights[{index}]", f"plugin {spec.name} does not act on {kind}")
        for index, kind in enumerate(channel.insights)
        if kind not in spec.kinds
    ]
    problems.extend(_action_problems(path, channel.actions, spec))
    problems.extend(_account_problems(path, channel, spec, needed=bool(wanted)))
    return problems


def _no_plugin(name: str) -> str:
    return f"no channel plugin is named {name!r} (amazon, ebay, woot); name one with plugin:"


def _action_problems(path: str, actions: ChannelActions, spec: PluginSpec) -> list[ConfigProblem]:
    checks: list[tuple[str, ActionName | None]] = [
        ("out_of_stock", None if actions.out_of_stock == "none" else actions.out_of_stock),
        ("slow_mover", None if actions.slow_mover is None else "reprice"),
        ("reallocation", None if actions.reallocation == "none" else actions.reallocation),
    ]
    return [
        ConfigProblem(f"{path}.actions.{key}", f"plugin {spec.name} does not support {action}")
        for key, action in checks
        if action is not None and action not in spec.actions
    ]


def _account_problems(
    path: str, channel: ChannelConfig, spec: PluginSpec, *, needed: bool
) -> list[ConfigProblem]:
    """Unknown credentials; with actions configured and ``dry_run`` false, the account
    fields and credentials the plugin needs."""
    account = channel.account.model_dump()
    problems = [
        ConfigProblem(f"{path}.account.{field}", f"is required by plugin {spec.name}")
        for field in spec.account_fields
        if needed and not channel.dry_run and account.get(field) is None
    ]
    problems.extend(
        ConfigProblem(
            f"{path}.credentials.{key}",
            f"is not a credential of plugin {spec.name}"
            f" ({', '.join(spec.credential_fields) or 'it takes none'})",
        )
        for key in sorted(channel.credentials)
        if key not in spec.credential_fields
    )
    if needed and not channel.dry_run:
        problems.extend(
            ConfigProblem(f"{path}.credentials.{field}", "is required when dry_run is false")
            for field in spec.credential_fields
            if field not in channel.credentials
        )
    return problems
