"""A local TCP proxy that can cut a dependency off and heal it: transient-fault injection
without restarting the server behind it (moto keeps its data in memory, so it cannot be
restarted).

It runs its own event loop in a thread, so blocking test code (killing processes, restarting
servers) never stalls the traffic of service processes that go through it.

    with FaultProxy("127.0.0.1", 9000) as proxy:   # services use proxy.url
        proxy.cut()    # open connections are closed, new ones are closed on accept
        proxy.heal()
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from types import TracebackType

CHUNK = 64 * 1024


class FaultProxy:
    def __init__(self, target_host: str, target_port: int, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self._target = (target_host, target_port)
        self._cut = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.refused = 0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> FaultProxy:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        future.result(timeout=10)
        return self

    def cut(self) -> None:
        """From now on the dependency is unreachable; open connections are dropped."""
        self._cut.set()
        asyncio.run_coroutine_threadsafe(self._drop_all(), self._loop).result(timeout=10)

    def heal(self) -> None:
        self._cut.clear()

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
            await self._drop_all()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._cut.is_set():
            self.refused += 1
            writer.close()
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.close()
            return
        self._writers.update({writer, upstream_writer})
        await asyncio.gather(
            self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer)
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while not self._cut.is_set():
                data = await reader.read(CHUNK)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _drop_all(self) -> None:
        for writer in list(self._writers):
            with contextlib.suppress(ConnectionError, OSError):
                writer.close()
        self._writers.clear()
