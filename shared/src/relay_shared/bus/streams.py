"""Stream and consumer declarations.

One stream holds the pipeline subjects (limits retention, bounded by age and bytes so the bus
cannot fill the disk, a duplicate window for ``Nats-Msg-Id``). A second stream holds dead
letters (``dlq.>``), kept longer so an operator can inspect and replay them.
"""

from __future__ import annotations

from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import NotFoundError

from relay_shared import subjects
from relay_shared.bus.delivery import DeliveryPolicy

DAY_S = 86_400.0


@dataclass(frozen=True)
class StreamSettings:
    """The pipeline stream's limits (how its consumers redeliver is a
    :class:`~relay_shared.bus.delivery.DeliveryPolicy`)."""

    name: str = "RELAY"
    max_age_days: float = 14.0
    max_bytes: int = 2 * 1024**3
    duplicate_window_s: float = 300.0


def pipeline_stream_config(settings: StreamSettings) -> StreamConfig:
    return StreamConfig(
        name=settings.name,
        subjects=list(subjects.PIPELINE_SUBJECTS),
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        max_age=settings.max_age_days * DAY_S,
        max_bytes=settings.max_bytes,
        duplicate_window=settings.duplicate_window_s,
    )


def dead_letter_stream_config(settings: StreamSettings) -> StreamConfig:
    return StreamConfig(
        name=subjects.dead_letter_stream(settings.name),
        subjects=[f"{subjects.DEAD_LETTER_PREFIX}.>"],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        max_age=30 * DAY_S,
        max_bytes=max(settings.max_bytes // 4, 64 * 1024**2),
        duplicate_window=settings.duplicate_window_s,
    )


async def ensure_streams(js: JetStreamContext, settings: StreamSettings) -> None:
    """Create the streams, or bring an existing one's limits up to date (idempotent)."""
    declared = (
        (settings.name, pipeline_stream_config(settings)),
        (subjects.dead_letter_stream(settings.name), dead_letter_stream_config(settings)),
    )
    for name, config in declared:
        try:
            await js.stream_info(name)
        except NotFoundError:
            await js.add_stream(config)
        else:
            await js.update_stream(config)


def consumer_config(service: str, subject: str, policy: DeliveryPolicy) -> ConsumerConfig:
    """The durable pull consumer of ``service`` on ``subject``: explicit acks, bounded retries
    (the ack wait and deliveries of the service's :class:`DeliveryPolicy`)."""
    return ConsumerConfig(
        durable_name=subjects.durable_name(service, subject),
        filter_subject=subject,
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=policy.ack_wait_s,
        max_deliver=policy.max_deliver,
        max_ack_pending=64,
    )
