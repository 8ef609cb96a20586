"""The one shape every worker service's app takes.

A subclass names its service, declares what it emits, registers its consumers in
``__init__`` with :meth:`WorkerApp.consume` (no I/O: the broker only records them, which is
also what the AsyncAPI document is generated from), and opens its resources and handlers in
:meth:`WorkerApp.open_handlers`. :meth:`WorkerApp.serve` runs it until cancelled.

``open_handlers`` yields the service's handler object, or a tuple of several (ingest: its
run handlers and its ShipStation handlers). A consumer names the method that handles its
events (``IngestHandlers.on_run_requested``); when the resources open, each consumer is bound
to the handler object whose class defines that method. Every consumer redelivers by the
service's one delivery policy, ``settings.delivery_policy()`` (the ``APP_*`` delivery
settings, :class:`~relay_shared.bus.delivery.DeliverySettings`).

Operations: with ``APP_METRICS_PORT`` set the worker collects Prometheus metrics and serves
``/metrics``, ``/healthz`` and ``/readyz`` there (:mod:`relay_shared.health`); with
``OTEL_EXPORTER_OTLP_ENDPOINT`` set it exports traces (:mod:`relay_shared.tracing`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, ClassVar, Generic, TypeVar

from faststream.nats import NatsBroker

from relay_shared.bus import EventBus, TestPause, register_consumer
from relay_shared.bus.in_flight import InFlight
from relay_shared.bus.publishing import subject_of
from relay_shared.errors import RelayError
from relay_shared.events import Event
from relay_shared.metrics import ServiceMetrics
from relay_shared.outbox import Outbox
from relay_shared.runtime import (
    Operations,
    Resources,
    broker_middlewares,
    new_broker,
    open_resources,
    run_worker,
    stream_settings,
)
from relay_shared.settings import CommonSettings
from relay_shared.subjects import durable_name
from relay_shared.telemetry import configure_telemetry
from relay_shared.tracing import start_tracing

S = TypeVar("S", bound=CommonSettings)
H = TypeVar("H")
T = TypeVar("T")
E = TypeVar("E", bound=Event)


class HandlersNotWiredError(RuntimeError):
    """A message arrived before the service's resources were opened (a wiring bug)."""


class HandlerNotFoundError(RuntimeError):
    """No handler object (or more than one) has the method a consumer was registered with
    (a wiring bug, raised when the resources open, before any message is consumed)."""


class HandlerRoute(Generic[T, E]):
    """One consumer's methods, bound to the handler object that has them while the
    service's resources are open."""

    def __init__(
        self,
        service: str,
        handle: Callable[[T, E], Awaitable[None]],
        on_permanent: Callable[[T, E, RelayError], Awaitable[None]] | None,
    ) -> None:
        self._service = service
        self._handle = handle
        self._on_permanent = on_permanent
        self._target: T | None = None

    def bind(self, handler_objects: Sequence[Any]) -> None:
        """Bind to the object whose class defines the handle method; a plain function
        (not a method of any of them) goes to the only object, when there is one."""
        name = getattr(self._handle, "__name__", "")
        owners = [obj for obj in handler_objects if getattr(type(obj), name, None) is self._handle]
        if not owners and len(handler_objects) == 1:
            owners = list(handler_objects)
        if len(owners) != 1:
            found = ", ".join(type(obj).__name__ for obj in handler_objects)
            raise HandlerNotFoundError(
                f"{self._service}: {len(owners)} of the handler objects ({found}) "
                f"define {getattr(self._handle, '__qualname__', name)}; exactly one must"
            )
        self._target = owners[0]

    def unbind(self) -> None:
        self._target = None

    @property
    def target(self) -> T:
        if self._target is None:
            raise HandlersNotWiredError(f"{self._service} handlers used before resources opened")
        return self._target

    def handle(self, event: E) -> Awaitable[None]:
        return self._handle(self.target, event)

    def permanent_hook(self) -> Callable[[E, RelayError], Awaitable[None]] | None:
        hook = self._on_permanent
        if hook is None:
            return None

        def on_permanent(event: E, error: RelayError) -> Awaitable[None]:
            return hook(self.target, event, error)

        return on_permanent


class WorkerApp(ABC, Generic[S, H]):
    service: ClassVar[str]

    def __init__(self, settings: S, *, emits: Sequence[type[Event]] = ()) -> None:
        self.settings = settings
        self.metrics = ServiceMetrics(self.service) if settings.metrics_port else None
        self.operations = Operations(self.metrics) if self.metrics is not None else None
        self.broker: NatsBroker = new_broker(settings, middlewares=broker_middlewares(settings))
        self.bus = EventBus(
            self.broker, settings.nats_stream, emits, service=self.service, metrics=self.metrics
        )
        self._streams = stream_settings(settings)
        self._policy = settings.delivery_policy()
        self._test_pause = TestPause.from_settings(settings, self.service)
        self.in_flight = InFlight()
        self._routes: list[HandlerRoute[Any, Any]] = []
        self._handlers: H | None = None

    def consume(
        self,
        event_type: type[E],
        handle: Callable[[T, E], Awaitable[None]],
        on_permanent: Callable[[T, E, RelayError], Awaitable[None]] | None = None,
        *,
        max_workers: int = 1,
    ) -> None:
        """Route ``event_type`` to ``handle(handler, event)`` through this service's durable
        consumer, ``handler`` being the handler object whose class defines ``handle``;
        ``on_permanent(handler, event, error)`` records a permanent failure; ``max_workers``
        messages are handled at once (1: one after another)."""
        route = HandlerRoute(self.service, handle, on_permanent)
        self._routes.append(route)
        if self.operations is not None:
            self.operations.durables.append(durable_name(self.service, subject_of(event_type)))
        register_consumer(
            self.broker,
            service=self.service,
            streams=self._streams,
            policy=self._policy,
            event_type=event_type,
            handle=route.handle,
            on_permanent=route.permanent_hook(),
            test_pause=self._test_pause,
            max_workers=max_workers,
            metrics=self.metrics,
            in_flight=self.in_flight,
        )

    @property
    def handlers(self) -> H:
        """What :meth:`open_handlers` yielded (while the resources are open)."""
        if self._handlers is None:
            raise HandlersNotWiredError(f"{self.service} handlers used before resources opened")
        return self._handlers

    @abstractmethod
    def open_handlers(self) -> AbstractAsyncContextManager[H]:
        """Open the service's resources and build its handler object (or a tuple of them);
        close them on exit."""

    @asynccontextmanager
    async def resources_with_outbox(self, schema: str, migrations: str) -> AsyncIterator[Resources]:
        """The service's pool (migrated) and object store, with its outbox drained to the bus
        while they are open."""
        settings = self.settings
        async with (
            open_resources(settings, schema=schema, migrations=migrations, s3=True) as resources,
            Outbox(resources.pool).draining(
                self.bus.publish, settings.outbox_interval_s, settings.outbox_retention_days
            ),
        ):
            yield resources

    @asynccontextmanager
    async def wired(self) -> AsyncIterator[H]:
        async with self.open_handlers() as handlers:
            handler_objects = handlers if isinstance(handlers, tuple) else (handlers,)
            try:
                for route in self._routes:
                    route.bind(handler_objects)
                self._handlers = handlers
                yield handlers
            finally:
                self._handlers = None
                for route in self._routes:
                    route.unbind()

    async def serve(self) -> None:
        """Run until cancelled: logs, traces, the operations port, resources, streams,
        consumers."""
        configure_telemetry(self.service, self.settings.log_level)
        tracing = start_tracing(self.service, self.settings.otel_exporter_otlp_endpoint)
        try:
            await run_worker(
                self.broker, self.settings, self.wired(), self.operations, self.in_flight
            )
        finally:
            tracing.shutdown()
