"""The event bus over NATS JetStream: streams, publishing and the consumer ack discipline."""

from relay_shared.bus.consuming import EventConsumer
from relay_shared.bus.delivery import DEFAULT_DELIVERY, DeliveryPolicy, DeliverySettings, TestPause
from relay_shared.bus.publishing import EventBus
from relay_shared.bus.registration import register_consumer
from relay_shared.bus.streams import StreamSettings, consumer_config, ensure_streams

__all__ = [
    "DEFAULT_DELIVERY",
    "DeliveryPolicy",
    "DeliverySettings",
    "EventBus",
    "EventConsumer",
    "StreamSettings",
    "TestPause",
    "consumer_config",
    "ensure_streams",
    "register_consumer",
]
