"""Background loops stop even when one cancellation does not reach them: a library that turns
the cancellation into its own error, which the loop catches and sleeps after (the suite once
hung 30 minutes in the teardown of a sheets service whose upload scanner did that)."""

from __future__ import annotations

import asyncio

import pytest

from relay_shared.background import running, stop


class Swallowing:
    """A loop whose step turns the first ``swallow`` cancellations into an error it logs."""

    def __init__(self, swallow: int) -> None:
        self.swallow = swallow
        self.caught: list[str] = []
        self.stepping = asyncio.Event()

    async def step(self) -> None:
        self.stepping.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            if len(self.caught) == self.swallow:
                raise
            raise TimeoutError("the library's own timeout") from None

    async def run_forever(self) -> None:
        while True:
            try:
                await self.step()
            except TimeoutError as exc:
                self.caught.append(str(exc))
            await asyncio.sleep(0)  # the loop's pause: the next cancellation lands in step()


@pytest.mark.parametrize("swallow", [0, 1, 3])
async def test_stop_cancels_until_the_loop_has_ended(swallow: int) -> None:
    loop = Swallowing(swallow)
    task = asyncio.create_task(loop.run_forever())
    await loop.stepping.wait()

    async with asyncio.timeout(10):
        await stop(task, recancel_s=0.01)

    assert task.cancelled()
    assert loop.caught == ["the library's own timeout"] * swallow


async def test_running_stops_its_work_when_the_block_ends() -> None:
    loop = Swallowing(1)
    async with asyncio.timeout(10):
        async with running(loop.run_forever(), recancel_s=0.01):
            await loop.stepping.wait()
    assert loop.caught == ["the library's own timeout"]


async def test_an_error_the_work_ended_with_is_raised() -> None:
    async def failing() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            raise ValueError("closing failed") from None

    task = asyncio.create_task(failing())
    await asyncio.sleep(0)
    with pytest.raises(ValueError, match=r"^closing failed$"):
        await stop(task)
