"""Which actions a channel takes, decided from its config alone (pure).

- ``out_of_stock`` opened → ``pause`` or ``delist`` (``actions.out_of_stock``); resolved (the
  listing is back in stock) → ``unpause`` when the channel pauses (a delisted listing stays
  delisted).
- ``slow_mover`` opened → ``reprice`` (``actions.slow_mover``), and ``push`` with
  ``actions.reallocation: push``; ``aged`` opened → ``push``.
- a reallocation entry opened that the channel may take (another channel's stock, aimed at
  it or at any channel) → ``pull`` with ``actions.reallocation: pull``.

A channel acts only when it is enabled, subscribes to the kind (``insights``: pull needs
``reallocation_candidate``) and its plugin supports the kind and the action. Ids are
deterministic: one action per (tenant, channel, insight or entry, action).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from relay_shared.channel_config import ChannelConfig, ChannelSections
from relay_shared.channel_plugins import ActionName, PluginSpec
from relay_shared.events import InsightGenerated, ReallocationChanged

_ACTION_NAMESPACE = uuid.UUID("0b6c1f8e-5d3a-4e7b-9c21-7a4d2e9f1b35")


@dataclass(frozen=True)
class PlannedAction:
    """An action a channel's plugin is to take about an insight (or reallocation entry)."""

    action_id: str
    tenant_id: str
    channel: str
    plugin: str
    insight_id: str
    sku: str
    action: ActionName
    dry_run: bool


def action_id(tenant_id: str, channel: str, insight_id: str, action: str) -> str:
    return str(uuid.uuid5(_ACTION_NAMESPACE, "\x1f".join((tenant_id, channel, insight_id, action))))


def insight_actions(event: InsightGenerated, sections: ChannelSections) -> list[PlannedAction]:
    """The actions the insight's channel takes about it (none for kind ``summary``)."""
    if event.kind == "summary":
        return []
    config = sections.channels.get(event.channel)
    if config is None or not config.enabled or event.kind not in config.insights:
        return []
    spec = config.plugin_for(event.channel)
    if spec is None or event.kind not in spec.kinds:
        return []
    wanted = _wanted(event, config)
    return [
        _plan(event.tenant_id, event.channel, config, spec, event.insight_id, event.sku, name)
        for name in wanted
        if name in spec.actions
    ]


def _wanted(event: InsightGenerated, config: ChannelConfig) -> list[ActionName]:
    actions = config.actions
    push: list[ActionName] = ["push"] if actions.reallocation == "push" else []
    if event.kind == "out_of_stock":
        if event.status == "resolved":
            restocked = _int(event.detail.get("quantity_now")) > 0
            return ["unpause"] if actions.out_of_stock == "pause" and restocked else []
        return [] if actions.out_of_stock == "none" else [actions.out_of_stock]
    if event.status != "open":
        return []
    if event.kind == "slow_mover":
        reprice: list[ActionName] = [] if actions.slow_mover is None else ["reprice"]
        return reprice + push
    if event.kind == "aged":
        return push
    return []


def pull_actions(event: ReallocationChanged, sections: ChannelSections) -> list[PlannedAction]:
    """The channels that pull an entry just opened: enabled, subscribed to
    ``reallocation_candidate``, configured to pull, not its origin, and its target (or any
    channel, when it has none)."""
    if event.state != "open":
        return []
    found: list[PlannedAction] = []
    for name, config in sections.enabled_channels().items():
        spec = config.plugin_for(name)
        if (
            spec is None
            or config.actions.reallocation != "pull"
            or "pull" not in spec.actions
            or "reallocation_candidate" not in config.insights
            or name == event.origin
            or event.target not in (None, name)
        ):
            continue
        found.append(_plan(event.tenant_id, name, config, spec, event.entry_id, event.sku, "pull"))
    return found


def _plan(
    tenant_id: str,
    channel: str,
    config: ChannelConfig,
    spec: PluginSpec,
    ref: str,
    sku: str,
    action: ActionName,
) -> PlannedAction:
    return PlannedAction(
        action_id=action_id(tenant_id, channel, ref, action),
        tenant_id=tenant_id,
        channel=channel,
        plugin=spec.name,
        insight_id=ref,
        sku=sku,
        action=action,
        dry_run=config.dry_run,
    )


def _int(value: object) -> int:
    """A detail value as an int (0 when absent or not a number)."""
    try:
        return int(str(value))
    except ValueError:
        return 0
