"""Reading a service's metrics registry as ``/metrics`` shows it, in-process."""

from __future__ import annotations

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from relay_shared.metrics import ServiceMetrics


def sample_value(metrics: ServiceMetrics, name: str, **labels: str) -> float:
    """The value of the first sample ``name`` whose labels include ``labels`` (0 if none)."""
    text = generate_latest(metrics.registry).decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0
