"""How many messages each consumer takes per pull: a consumer with several workers takes up to
``MAX_FETCH`` (256), never more than it has workers; a one-worker consumer takes one. Each pull
is a round trip to the server, and at 32 a pull, insights took about 300 of 400 orders/s under
``tests/bench/bench_webhook.py`` with its 256 workers mostly idle."""

from __future__ import annotations

import pytest

from relay_shared.bus.registration import MAX_FETCH
from tests.unit.test_consumer_delivery_policy import app_from_env


def pulls(service: str) -> dict[str, tuple[int, int]]:
    """Each durable consumer's messages per pull and the ack-pending cap."""
    app = app_from_env(service, {})
    return {
        sub.config.durable_name: (sub.pull_sub.batch_size, sub.config.max_ack_pending)
        for sub in app.broker.subscribers
        if sub.pull_sub.batch_size > 1
    }


def test_a_pull_takes_at_most_max_fetch() -> None:
    assert MAX_FETCH == 256


@pytest.mark.parametrize(
    ("service", "expected"),
    [
        ("insights", {"insights-order-shipped": (256, 256)}),
        (
            "sheets",
            {
                "sheets-order-shipped": (256, 2048),
                "sheets-insight-generated": (256, 2048),
                "sheets-reallocation-changed": (256, 2048),
            },
        ),
        ("gateway", {"gateway-order-recorded": (64, 64)}),
    ],
)
def test_many_worker_consumers_take_a_pull_of_their_workers_up_to_max_fetch(
    service: str, expected: dict[str, tuple[int, int]]
) -> None:
    assert pulls(service) == expected
