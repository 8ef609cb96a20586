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

DAY_S = 86_400.0


@dataclass(frozen=True)
class StreamSettings:
    name: str = "RELAY"
    max_age_days: float = 14.0
    max_bytes: int = 2 * 1024**3
    duplicate_window_s: float = 300.0
    max_deliver: int = 8
    ack_wait_s: float = 120.0
    retry_base_delay_s: float = 0.5
    retry_max_delay_s: float = 30.0


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
    for config in (pipeline_stream_config(settings), dead_letter_stream_config(settings)):
        assert config.name is not None
        try:
            await js.stream_info(config.name)
        except NotFoundError:
            await js.add_stream(config)
        else:
            await js.update_stream(config)


def consumer_config(service: str, subject: str, settings: StreamSettings) -> ConsumerConfig:
    """The durable pull consumer of ``service`` on ``subject``: explicit acks, bounded retries."""
    return ConsumerConfig(
        durable_name=subjects.durable_name(service, subject),
        filter_subject=subject,
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=settings.ack_wait_s,
        max_deliver=settings.max_deliver,
        max_ack_pending=64,
    )
