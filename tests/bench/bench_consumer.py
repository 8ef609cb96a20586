"""What consuming one event costs a service, before its handler does anything (not a test).

    uv run python -m tests.bench.bench_consumer [--events 20000] [--workers 256] [--repeat 2]

Starts a throwaway nats-server with JetStream, publishes ``--events`` ``order.shipped`` events
shaped like the webhook bench's (one to three items), then consumes them twice per round, each
time through a new durable consumer of the same events, and prints the CPU time (this
process: user + system) per event from the start of consuming to the last ack stored:

- ``service``: the services' path, :func:`relay_shared.bus.register_consumer` on FastStream
  (its pull subscriber, each message handled in a task of its own, ``--workers`` at once, as
  insights and sheets consume orders: :mod:`relay_shared.bus.in_flight`), with
  :class:`~relay_shared.bus.consuming.EventConsumer`'s decoding, log context, in-progress
  heartbeats, ``event.handled`` log line, message metrics (collected, as by a service with a
  metrics port) and ack; the handler does nothing;
- ``bare``: nats-py alone, the floor: pull 256 at a time, decode each event with pydantic,
  ack it; no framework, no log line.

The gap is what the framework costs per event, paid by every consumer of an event (an order
is consumed by insights and sheets). The consumer's JSON logs go to a file in the bench's
temporary folder, as a service's go to its log file. Rounds alternate the two so drift hits
both.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import uvloop
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig
from tests.bench.webhook_catalogue import order_items
from tests.support.channel_events import order_shipped

from relay_cli.stack.nats import NatsServer
from relay_shared.bus import register_consumer
from relay_shared.bus.delivery import DeliverySettings
from relay_shared.bus.in_flight import InFlight
from relay_shared.bus.streams import StreamSettings, ensure_streams
from relay_shared.events import OrderShipped
from relay_shared.metrics import ServiceMetrics
from relay_shared.runtime import broker_middlewares, new_broker, stop_consuming
from relay_shared.settings import CommonSettings
from relay_shared.subjects import ORDER_SHIPPED
from relay_shared.telemetry import configure_telemetry

STREAMS = StreamSettings(name="BENCH")
FETCH = 256


async def publish(js: JetStreamContext, events: int) -> None:
    """``events`` orders, with the headers a service's publish gives them (``EventBus``
    through FastStream: without ``correlation_id`` FastStream would make a uuid4 for each
    message it consumes, which no service's event costs)."""
    at = datetime.now(UTC)
    pending = []
    for number in range(events):
        items = [(str(item["sku"]), int(str(item["quantity"]))) for item in order_items(number)]
        event = order_shipped(
            f"bench_{number % 10}", f"order.shipped:bench:{number}", f"O-{number}", "amazon",
            items, at,
        )  # fmt: skip
        pending.append(
            js.publish(
                ORDER_SHIPPED,
                event.model_dump_json().encode(),
                headers={
                    "Nats-Msg-Id": event.event_id,
                    "X-Correlation-ID": event.correlation_id,
                    "content-type": "application/json",
                    "correlation_id": event.correlation_id,
                },
            )
        )
        if len(pending) == 500:
            await asyncio.gather(*pending)
            pending.clear()
    await asyncio.gather(*pending)


async def until_acked(js: JetStreamContext, durable: str, events: int) -> None:
    """Until the consumer has every event acked (polled; the poll's CPU is counted, little)."""
    while True:
        info = await js.consumer_info(STREAMS.name, durable)
        if info.ack_floor.stream_seq >= events and info.num_ack_pending == 0:
            return
        await asyncio.sleep(0.01)


async def service_path(
    url: str, js: JetStreamContext, events: int, workers: int, round_: int
) -> float:
    """CPU seconds to consume every event through the services' consumer."""
    settings = CommonSettings(nats_url=url, service_name=f"bench{round_}")
    handled = 0
    every = asyncio.Event()

    async def handle(event: OrderShipped) -> None:
        nonlocal handled
        handled += 1
        if handled == events:
            every.set()

    metrics = ServiceMetrics(settings.service_name)  # collected, as a service with a metrics port
    broker = new_broker(settings, middlewares=broker_middlewares(settings))
    in_flight = InFlight()
    register_consumer(
        broker,
        service=settings.service_name,
        streams=STREAMS,
        policy=DeliverySettings().delivery_policy(),
        event_type=OrderShipped,
        handle=handle,
        max_workers=workers,
        metrics=metrics,
        in_flight=in_flight,
    )
    started = time.process_time()
    await broker.start()
    await every.wait()
    await until_acked(js, f"{settings.service_name}-order-shipped", events)
    spent = time.process_time() - started
    await stop_consuming(broker, in_flight)
    return spent


async def bare_path(js: JetStreamContext, events: int, round_: int) -> float:
    """CPU seconds to pull, decode and ack every event with nats-py alone."""
    durable = f"bare{round_}"
    started = time.process_time()
    subscription = await js.pull_subscribe(
        ORDER_SHIPPED,
        durable=durable,
        stream=STREAMS.name,
        config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, max_ack_pending=FETCH),
    )
    seen = 0
    while seen < events:
        for message in await subscription.fetch(FETCH, timeout=5.0):
            OrderShipped.model_validate_json(message.data)
            await message.ack()
            seen += 1
    await until_acked(js, durable, events)
    spent = time.process_time() - started
    await subscription.unsubscribe()
    return spent


async def rounds(url: str, args: argparse.Namespace) -> dict[str, list[float]]:
    client = Client()
    await client.connect(url)
    js = client.jetstream()
    await ensure_streams(js, STREAMS)
    await publish(js, args.events)
    print(f"{args.events:,} order.shipped events published", flush=True)
    spent: dict[str, list[float]] = {"service": [], "bare": []}
    paths: dict[str, Callable[[int], Awaitable[float]]] = {
        "service": lambda n: service_path(url, js, args.events, args.workers, n),
        "bare": lambda n: bare_path(js, args.events, n),
    }
    for number in range(args.repeat):
        for name, path in paths.items():
            seconds = await path(number)
            spent[name].append(seconds)
            print(f"round {number + 1} {name:7}: {seconds:.2f} s CPU, "
                  f"{seconds / args.events * 1e6:.0f} µs per event", flush=True)  # fmt: skip
    await client.close()
    return spent


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=256, help="the services' max_workers")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="relay-bench-consumer-") as folder:
        server = NatsServer(Path(folder) / "nats", Path(folder) / "nats.log")
        server.start(timeout=30.0)
        terminal = sys.stderr
        try:
            with (Path(folder) / "consumer.log").open("w") as logs:
                sys.stderr = logs  # the JSON logs' stream, taken when they are configured
                configure_telemetry("bench")
                spent = uvloop.run(rounds(server.url, args))
        finally:
            sys.stderr = terminal
            configure_telemetry("bench")  # the logs back to the terminal
            server.stop()
    service = statistics.median(spent["service"]) / args.events * 1e6
    bare = statistics.median(spent["bare"]) / args.events * 1e6
    print(f"per event (median): service path {service:.0f} µs of CPU, nats-py alone {bare:.0f} µs;"
          f" the framework costs {service - bare:.0f} µs per event and consumer")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
