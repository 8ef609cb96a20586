"""What each channel plugin can do: the insight kinds it acts on, the actions it performs, and
the account fields and credentials it needs (spec: insights-and-channels.md, "Channel
plugins").

The channels service implements the plugins (``services/channels``); the declarations live
here so the gateway can refuse, at ``PUT …/config``, a config that names a plugin that does
not exist or asks one for an action or kind it does not support.

- ``push`` and ``pull`` (reallocation) go through the bus and are offered by every plugin
  that declares them; ``push`` acts on ``slow_mover`` and ``aged``, ``pull`` on the
  reallocation list (a channel subscribed to ``reallocation_candidate``).
- ``unpause`` is the resolution of an ``out_of_stock`` paused with ``pause``; a delisted
  listing stays delisted (relisting is the merchant's call).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

ActionName = Literal["pause", "unpause", "delist", "reprice", "push", "pull"]
KindName = Literal["out_of_stock", "slow_mover", "aged", "reallocation_candidate"]


@dataclass(frozen=True)
class PluginSpec:
    """A plugin's declared capabilities."""

    name: str
    kinds: frozenset[KindName]
    actions: frozenset[ActionName]
    #: ``channels.<name>.account`` fields every action needs (they appear in requests)
    account_fields: tuple[str, ...] = ()
    #: ``channels.<name>.credentials`` fields real calls need (sealed at rest)
    credential_fields: tuple[str, ...] = ()


_ALL_KINDS: frozenset[KindName] = frozenset(
    {"out_of_stock", "slow_mover", "aged", "reallocation_candidate"}
)

PLUGINS: Final[dict[str, PluginSpec]] = {
    "amazon": PluginSpec(
        name="amazon",
        kinds=_ALL_KINDS,
        actions=frozenset({"pause", "unpause", "delist", "reprice", "push", "pull"}),
        account_fields=("seller_id", "marketplace_id"),
        credential_fields=("lwa_client_id", "lwa_client_secret", "refresh_token"),
    ),
    "ebay": PluginSpec(
        name="ebay",
        kinds=_ALL_KINDS,
        actions=frozenset({"pause", "unpause", "delist", "reprice", "push", "pull"}),
        credential_fields=("client_id", "client_secret", "refresh_token"),
    ),
    "woot": PluginSpec(
        name="woot",
        kinds=frozenset({"out_of_stock", "slow_mover", "aged"}),
        actions=frozenset({"pause", "unpause", "reprice", "push"}),
    ),
}


def plugin_spec(name: str) -> PluginSpec | None:
    return PLUGINS.get(name)
