"""The one shape every worker service's app takes.

A subclass names its service, declares what it emits, registers its consumers in
``__init__`` with :meth:`WorkerApp.consume` (no I/O: the broker only records them, which is
also what the AsyncAPI document is generated from), and opens its resources and handlers in
:meth:`WorkerApp.open_handlers`. :meth:`WorkerApp.serve` runs it until cancelled.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import ClassVar, Generic, TypeVar

from faststream.nats import NatsBroker

from relay_shared.bus import EventBus, TestPause, register_consumer
from relay_shared.errors import RelayError
from relay_shared.events import Event
from relay_shared.runtime import new_broker, run_worker, stream_settings
from relay_shared.settings import CommonSettings
from relay_shared.telemetry import configure_telemetry

S = TypeVar("S", bound=CommonSettings)
H = TypeVar("H")
E = TypeVar("E", bound=Event)


class HandlersNotWiredError(RuntimeError):
    """A message arrived before the service's resources were opened (a wiring bug)."""


class WorkerApp(ABC, Generic[S, H]):
    service: ClassVar[str]

    def __init__(self, settings: S, *, emits: Sequence[type[Event]] = ()) -> None:
        self.settings = settings
        self.broker: NatsBroker = new_broker(settings)
        self.bus = EventBus(self.broker, settings.nats_stream, emits, service=self.service)
        self._streams = stream_settings(settings)
        self._test_pause = TestPause.from_settings(settings, self.service)
        self._handlers: H | None = None

    def consume(
        self,
        event_type: type[E],
        handle: Callable[[H, E], Awaitable[None]],
        on_permanent: Callable[[H, E, RelayError], Awaitable[None]] | None = None,
        *,
        max_workers: int = 1,
    ) -> None:
        """Route ``event_type`` to ``handle(handlers, event)`` through this service's durable
        consumer; ``on_permanent(handlers, event, error)`` records a permanent failure;
        ``max_workers`` messages are handled at once (1: one after another)."""
        permanent = None
        if on_permanent is not None:
            hook = on_permanent

            def permanent(event: E, error: RelayError) -> Awaitable[None]:
                return hook(self.handlers, event, error)

        register_consumer(
            self.broker,
            service=self.service,
            streams=self._streams,
            event_type=event_type,
            handle=lambda event: handle(self.handlers, event),
            on_permanent=permanent,
            test_pause=self._test_pause,
            max_workers=max_workers,
        )

    @property
    def handlers(self) -> H:
        if self._handlers is None:
            raise HandlersNotWiredError(f"{self.service} handlers used before resources opened")
        return self._handlers

    @abstractmethod
    def open_handlers(self) -> AbstractAsyncContextManager[H]:
        """Open the service's resources and build its handlers; close them on exit."""

    @asynccontextmanager
    async def wired(self) -> AsyncIterator[H]:
        async with self.open_handlers() as handlers:
            self._handlers = handlers
            try:
                yield handlers
            finally:
                self._handlers = None

    async def serve(self) -> None:
        """Run until cancelled: logs, resources, streams, consumers."""
        configure_telemetry(self.service, self.settings.log_level)
        await run_worker(self.broker, self.settings, self.wired())
