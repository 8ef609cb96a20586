"""The channels service's marketplace metrics, in the service's Prometheus registry (served
on ``/metrics`` with :mod:`relay_shared.metrics`' own):

- ``relay_marketplace_calls_total{channel,operation,outcome}``: every HTTP exchange with a
  marketplace (each attempt, token exchanges included); ``channel`` is the plugin
  (``amazon``, ``ebay``), ``outcome`` one of :data:`OUTCOMES`;
- ``relay_marketplace_throttled_total{channel}``: the 429s received.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from prometheus_client import CollectorRegistry, Counter

CallOutcome = Literal["ok", "throttled", "rejected", "unavailable", "unreachable", "timed_out"]
OUTCOMES: tuple[CallOutcome, ...] = (
    "ok",
    "throttled",
    "rejected",
    "unavailable",
    "unreachable",
    "timed_out",
)
#: what a call reports its outcome to
Observe = Callable[[CallOutcome], None]


class MarketplaceMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        registry = registry if registry is not None else CollectorRegistry()
        self.calls = Counter(
            "relay_marketplace_calls",
            "HTTP exchanges with a marketplace, by plugin, operation and outcome",
            ["channel", "operation", "outcome"],
            registry=registry,
        )
        self.throttled = Counter(
            "relay_marketplace_throttled",
            "429 answers received from a marketplace",
            ["channel"],
            registry=registry,
        )

    def observer(self, channel: str, operation: str) -> Observe:
        """What one call of ``operation`` reports to."""

        def observe(outcome: CallOutcome) -> None:
            self.calls.labels(channel, operation, outcome).inc()
            if outcome == "throttled":
                self.throttled.labels(channel).inc()

        return observe
