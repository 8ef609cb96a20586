"""The dead-letter record: what a consumer writes to ``dlq.<subject>`` when it gives a
message up, and what ``relay dlq`` reads back. One model for both sides."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict


class DeadLetterRecord(BaseModel):
    """One given-up message: who gave it up, why, after how many deliveries, and the
    original payload (as text) so it can be replayed to its subject."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    service: str
    subject: str
    event_id: str
    code: str
    reason: str
    deliveries: int
    failed_at: AwareDatetime
    stream_sequence: int
    payload: str

    def to_json_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_json_bytes(cls, data: bytes) -> DeadLetterRecord:
        return cls.model_validate_json(data)
