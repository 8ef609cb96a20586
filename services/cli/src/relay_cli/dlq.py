"""``relay dlq list|replay``: inspect dead letters and send one back once the cause is fixed.

Dead letters are the records the consumers write to ``dlq.<subject>`` in the stream
``<APP_NATS_STREAM>_DLQ`` (see :mod:`relay_shared.bus.consuming`). An entry's id is its
sequence number in that stream.

``replay <id>`` publishes the original payload to its original subject with a new
``Nats-Msg-Id`` (``<event id>:replay:<id>``, so the server does not drop it as a duplicate of
the original, yet a repeated replay of the same entry is dropped), then deletes the entry, so
an entry is replayed once.

``list`` on a stack whose dead-letter stream does not exist yet (nothing was ever given up)
says ``no dead letters``; NATS out of reach is one line naming it (exit 1).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import dataclass
from typing import Any

import nats
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from relay_shared import subjects
from relay_shared.bus.dead_letters import DeadLetterRecord
from relay_shared.bus.publishing import MSG_ID_HEADER
from relay_shared.dependencies import reaching
from relay_shared.settings import CommonSettings

COLUMNS = ("id", "subject", "service", "code", "deliveries", "failed_at", "reason")
NONE_HELD = "no dead letters"


@dataclass(frozen=True)
class DeadLetter:
    """A dead letter as listed: its id (the sequence in the dead-letter stream) and the
    record the consumer wrote."""

    id: int
    record: DeadLetterRecord

    def row(self) -> dict[str, Any]:
        """The listed fields (the payload left out)."""
        fields = self.record.model_dump(mode="json", exclude={"payload", "stream_sequence"})
        return {"id": self.id, **fields}


class UnknownDeadLetterError(LookupError):
    """No dead letter with that id (never was, or already replayed)."""


async def list_dead_letters(js: JetStreamContext, stream: str) -> list[DeadLetter]:
    """Every dead letter still held, oldest first."""
    dlq = subjects.dead_letter_stream(stream)
    found: list[DeadLetter] = []
    try:
        info = await js.stream_info(dlq)
    except NotFoundError:
        return found  # no service has declared the streams yet: nothing was given up
    if info.state.messages == 0:
        return found
    for sequence in range(info.state.first_seq, info.state.last_seq + 1):
        try:
            found.append(await _get(js, dlq, sequence))
        except UnknownDeadLetterError:
            continue  # deleted (replayed) in between
    return found


async def replay_dead_letter(js: JetStreamContext, stream: str, entry_id: int) -> DeadLetter:
    """Publish the entry's payload to its subject again (new message id), then delete it."""
    dlq = subjects.dead_letter_stream(stream)
    letter = await _get(js, dlq, entry_id)
    await js.publish(
        letter.record.subject,
        letter.record.payload.encode(),
        stream=stream,
        headers={
            MSG_ID_HEADER: f"{letter.record.event_id}:replay:{entry_id}",
            "content-type": "application/json",
        },
    )
    await js.delete_msg(dlq, entry_id)
    return letter


async def _get(js: JetStreamContext, dlq: str, sequence: int) -> DeadLetter:
    try:
        message = await js.get_msg(dlq, sequence)
    except NotFoundError as exc:
        raise UnknownDeadLetterError(f"no dead letter {sequence} in {dlq}") from exc
    if message.data is None:
        raise UnknownDeadLetterError(f"dead letter {sequence} in {dlq} has no body")
    return DeadLetter(sequence, DeadLetterRecord.from_json_bytes(message.data))


async def _run(args: argparse.Namespace) -> int:
    settings = CommonSettings.from_env()
    stream = args.stream or settings.nats_stream
    async with reaching("NATS", settings.nats_url):
        client = await nats.connect(
            settings.nats_url, connect_timeout=5, max_reconnect_attempts=1, error_cb=_quiet
        )
    try:
        js = client.jetstream()
        if args.dlq_command == "list":
            _print_letters(await list_dead_letters(js, stream), as_json=args.json)
            return 0
        try:
            letter = await replay_dead_letter(js, stream, args.id)
        except UnknownDeadLetterError as exc:
            sys.stderr.write(f"relay dlq replay: {exc}\n")
            return 1
        record = letter.record
        sys.stdout.write(f"replayed {letter.id} ({record.event_id}) to {record.subject}\n")
        return 0
    finally:
        await client.drain()


async def _quiet(_error: Exception) -> None:
    """nats-py logs each failed attempt by default; the one line that names NATS suffices."""


def _print_letters(letters: list[DeadLetter], *, as_json: bool) -> None:
    if as_json:
        for letter in letters:
            sys.stdout.write(json.dumps(letter.row()) + "\n")
        return
    if not letters:
        sys.stdout.write(NONE_HELD + "\n")
        return
    sys.stdout.write("\t".join(column.upper() for column in COLUMNS) + "\n")
    for letter in letters:
        fields = letter.row()
        sys.stdout.write("\t".join(str(fields[column]) for column in COLUMNS) + "\n")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "dlq", help="list or replay dead-lettered messages", description=__doc__
    )
    parser.add_argument("--stream", help="the pipeline stream (default: APP_NATS_STREAM)")
    commands = parser.add_subparsers(dest="dlq_command", required=True, metavar="ACTION")
    listing = commands.add_parser("list", help="show the dead letters, oldest first")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    replay = commands.add_parser("replay", help="re-publish one dead letter, then remove it")
    replay.add_argument("id", type=int, help="the entry's id (from `relay dlq list`)")
    parser.set_defaults(handler=lambda args: asyncio.run(_run(args)))
