"""A handler at work past ``ack_wait`` keeps its message (on real NATS JetStream): the consumer
tells the server every third of ``ack_wait`` that the message is in progress (``+WPI`` on its
ack subject, watched here as the server sees it), so it is neither delivered again nor given
to another worker, and it is acked once when the handler ends. So does a message pulled while
every worker is busy, for as long as it waits for one."""

from __future__ import annotations

import asyncio

from nats.aio.msg import Msg

from relay_cli.stack import StackEndpoints
from relay_shared import subjects
from relay_shared.bus.delivery import DeliverySettings
from relay_shared.bus.streams import StreamSettings, ensure_streams
from relay_shared.events import OrderShipped
from relay_shared.subjects import durable_name
from tests.support.jetstream import nats_client
from tests.support.order_consumers import order_consumer, publish_orders

STREAMS = StreamSettings(name="REL_HEARTBEATS")
ACK_WAIT_S = 1.0
BEATS = 4  # past ack_wait: a beat every third of it
POLICY = DeliverySettings(ack_wait_s=ACK_WAIT_S, max_deliver=5).delivery_policy()


async def test_a_handler_at_work_past_ack_wait_keeps_its_message(
    isolated_bus: StackEndpoints, unique_id: str
) -> None:
    service = f"beats{unique_id[:8]}"
    durable = durable_name(service, subjects.ORDER_SHIPPED)
    gate, entered = asyncio.Event(), asyncio.Event()
    handled: list[str] = []

    async def handle(event: OrderShipped) -> None:
        handled.append(event.order_id)
        entered.set()
        await gate.wait()

    # a second worker, free to take the message if it came again
    consumer = order_consumer(isolated_bus.nats_url, service, STREAMS, POLICY, handle, workers=2)
    async with nats_client(isolated_bus.nats_url) as client:
        js = client.jetstream()
        await ensure_streams(js, STREAMS)
        said: asyncio.Queue[bytes] = asyncio.Queue()

        async def heard(msg: Msg) -> None:
            await said.put(msg.data)

        await client.subscribe(f"$JS.ACK.{STREAMS.name}.{durable}.>", cb=heard)
        await publish_orders(js, STREAMS, f"t_{unique_id}", [unique_id])
        await consumer.start()
        try:
            async with asyncio.timeout(30):
                await entered.wait()
                beats = [await said.get() for _ in range(BEATS)]
                assert beats == [b"+WPI"] * BEATS
                info = await js.consumer_info(STREAMS.name, durable)
                assert (info.num_redelivered, info.num_ack_pending, handled) == (
                    0,
                    1,
                    [unique_id],
                )
                gate.set()
                while (answer := await said.get()) == b"+WPI":
                    pass
        finally:
            await consumer.stop()
        assert answer == b""  # nats-py acks with an empty body, which the server takes as +ACK
        info = await js.consumer_info(STREAMS.name, durable)
        assert (info.num_redelivered, info.num_ack_pending, info.delivered.consumer_seq) == (
            0,
            0,
            1,
        )
        assert handled == [unique_id]


async def test_a_message_waiting_for_a_worker_past_ack_wait_is_kept_too(
    isolated_bus: StackEndpoints, unique_id: str
) -> None:
    """Two workers, both held: the third order, pulled meanwhile, waits for one of them past
    ``ack_wait`` and is neither delivered again nor handled twice."""
    service = f"waits{unique_id[:8]}"
    durable = durable_name(service, subjects.ORDER_SHIPPED)
    gate, inside = asyncio.Event(), asyncio.Condition()
    handled: list[str] = []

    async def handle(event: OrderShipped) -> None:
        async with inside:
            handled.append(event.order_id)
            inside.notify_all()
        await gate.wait()

    consumer = order_consumer(isolated_bus.nats_url, service, STREAMS, POLICY, handle, workers=2)
    async with nats_client(isolated_bus.nats_url) as client:
        js = client.jetstream()
        await ensure_streams(js, STREAMS)
        await js.purge_stream(STREAMS.name)
        said: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue()

        async def heard(msg: Msg) -> None:  # (stream sequence, what the consumer said)
            await said.put((Msg.Metadata._from_reply(msg.subject).sequence.stream, msg.data))

        await client.subscribe(f"$JS.ACK.{STREAMS.name}.{durable}.>", cb=heard)
        orders = [f"{unique_id}-{number}" for number in range(3)]
        sequences = await publish_orders(js, STREAMS, f"t_{unique_id}", orders)
        await consumer.start()
        try:
            async with asyncio.timeout(30):
                async with inside:
                    await inside.wait_for(lambda: len(handled) == 2)
                waiting = sequences[2]
                beats = 0
                while beats < BEATS:
                    sequence, data = await said.get()
                    beats += (sequence, data) == (waiting, b"+WPI")
                info = await js.consumer_info(STREAMS.name, durable)
                assert (info.num_redelivered, info.num_ack_pending, handled) == (0, 3, orders[:2])
                gate.set()
                acked: set[int] = set()
                while len(acked) < 3:
                    sequence, data = await said.get()
                    if data == b"":  # an ack (nats-py's is an empty body)
                        acked.add(sequence)
        finally:
            await consumer.stop()
        assert acked == set(sequences)
        assert sorted(handled) == sorted(orders)
        info = await js.consumer_info(STREAMS.name, durable)
        assert (info.num_redelivered, info.num_ack_pending, info.delivered.consumer_seq) == (
            0,
            0,
            3,
        )
