"""Which failures are worth retrying (:func:`relay_shared.bus.failures.is_transient`),
including the groups concurrent uploads raise from a task group."""

from __future__ import annotations

import asyncio

import pytest
from botocore.exceptions import ClientError

from relay_shared.bus.failures import is_transient
from relay_shared.errors import PermanentError


def _s3(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "PutObject"
    )


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (ConnectionResetError("reset"), True),
        (_s3("SlowDown", 503), True),
        (_s3("AccessDenied", 403), False),
        (PermanentError("bad", code="bad"), False),
        (ValueError("bug"), False),
        (ExceptionGroup("uploads", [ConnectionResetError("a"), _s3("InternalError", 500)]), True),
        (ExceptionGroup("uploads", [ConnectionResetError("a"), _s3("AccessDenied", 403)]), False),
        (ExceptionGroup("outer", [ExceptionGroup("inner", [TimeoutError()])]), True),
    ],
)
def test_a_failure_is_transient_only_when_every_part_may_heal(
    exc: BaseException, expected: bool
) -> None:
    assert is_transient(exc) is expected


async def test_a_task_group_of_failed_uploads_is_retried() -> None:
    async def upload() -> None:
        raise _s3("ServiceUnavailable", 503)

    async def both() -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(upload())
            group.create_task(upload())

    with pytest.raises(ExceptionGroup) as caught:
        await both()
    assert len(caught.value.exceptions) == 2
    assert is_transient(caught.value) is True
