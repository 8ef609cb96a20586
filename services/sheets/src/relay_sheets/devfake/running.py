"""The fake Google served from a thread of its own, for processes that are not asyncio
(``relay up --google-fake``, ``relay demo --google-fake``, a test driving ``relay serve``
processes): its state is only touched on its own event loop (:meth:`FakeGoogleThread.call`).

Entering it starts the server on ``127.0.0.1`` (``port`` 0: a free one), writes the service
account JSON (a key generated for this run) and the shared drive's id under ``folder``, and
gives the environment the sheets service needs (:meth:`FakeGoogleThread.env`). Its state is in
memory: after a restart the spreadsheets are gone (like the embedded moto's objects).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TypeVar

from aiohttp import web

from relay_sheets.devfake.google import FakeGoogle, Quotas

T = TypeVar("T")
SERVICE_ACCOUNT_FILE = "service-account.json"
DRIVE_ID_FILE = "shared-drive-id"
READY_TIMEOUT_S = 30.0


class FakeGoogleError(RuntimeError):
    """The fake could not start (port taken, ...) or did not answer a call in time."""


class FakeGoogleThread:
    def __init__(self, folder: Path, *, port: int = 0, quotas: Quotas | None = None) -> None:
        self.folder = folder
        self.fake = FakeGoogle(quotas=quotas or Quotas())
        self.drive_id = ""
        self._port = port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name="fake-google", daemon=True)
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._failure: BaseException | None = None

    @property
    def url(self) -> str:
        return self.fake.url

    @property
    def service_account_file(self) -> Path:
        return self.folder / SERVICE_ACCOUNT_FILE

    def env(self) -> dict[str, str]:
        """What the sheets service needs to call this fake instead of Google."""
        return {
            "APP_SERVICE_ACCOUNT_FILE": str(self.service_account_file),
            "APP_GOOGLE_API_URL": self.url,
        }

    def __enter__(self) -> FakeGoogleThread:
        self._thread.start()
        if not self._ready.wait(READY_TIMEOUT_S) or self._failure is not None:
            self.__exit__(None, None, None)
            raise FakeGoogleError(f"the fake Google did not start: {self._failure!r}")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.fake.write_service_account(self.service_account_file)
        self.drive_id = self.call(self.fake.add_shared_drive)
        (self.folder / DRIVE_ID_FILE).write_text(self.drive_id + "\n", encoding="utf-8")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        stop = self._stop
        if stop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(stop.set)
        self._thread.join(timeout=READY_TIMEOUT_S)

    def call(self, function: Callable[[], T], timeout_s: float = 30.0) -> T:
        """``function()`` run on the fake's loop (so it never sees a request half applied)."""

        async def on_loop() -> T:
            return function()

        future = asyncio.run_coroutine_threadsafe(on_loop(), self._loop)
        try:
            return future.result(timeout_s)
        except TimeoutError as exc:
            future.cancel()
            raise FakeGoogleError(f"the fake Google did not answer in {timeout_s}s") from exc

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._run())
        finally:
            self._loop.close()

    async def _run(self) -> None:
        self._stop = asyncio.Event()
        runner = web.AppRunner(self.fake.app(), access_log=None)
        try:
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", self._port)
            await site.start()
            self.fake.port = int(runner.addresses[0][1])
        except OSError as exc:
            self._failure = exc
            self._ready.set()
            await runner.cleanup()
            return
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    """``python -m relay_sheets.devfake``: serve the fake until Ctrl-C."""
    parser = argparse.ArgumentParser(description="A local fake of Google Drive/Sheets (dev only)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--folder", type=Path, default=Path(".relay/google-fake"))
    args = parser.parse_args(argv)
    with FakeGoogleThread(args.folder, port=args.port) as google:
        sys.stdout.write(
            f"fake Google on {google.url}; service account {google.service_account_file};"
            f" shared drive {google.drive_id}\n"
        )
        sys.stdout.flush()
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            return 0
    return 0
