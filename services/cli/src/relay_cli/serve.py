"""``relay serve <service>``: run one service in the foreground (what a container runs).

A service that cannot reach NATS, Postgres or S3 at start writes one JSON log line naming it
(``service.dependency_unreachable``) and exits 1; settings that cannot be read likewise
(``service.settings_invalid``). No traceback.

The event loop is uvloop's when it is installed (``APP_EVENT_LOOP=auto``, the default; about
15% less gateway CPU per webhook in ``tests/bench/bench_webhook.py``, and each NATS or Postgres
round trip costs a third less), asyncio's otherwise or with ``APP_EVENT_LOOP=asyncio``."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import signal
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

import structlog
from pydantic import ValidationError

from relay_cli.services import SERVICE_MODULES, SERVICES
from relay_shared.dependencies import DependencyUnreachableError
from relay_shared.settings import SettingsSourceError

_log = structlog.get_logger(__name__)

ServiceMain = Callable[[], Coroutine[Any, Any, None]]
LoopFactory = Callable[[], asyncio.AbstractEventLoop]
#: ``APP_EVENT_LOOP``: ``auto`` (uvloop when installed, the default), ``uvloop`` or ``asyncio``
EVENT_LOOP_ENV = "APP_EVENT_LOOP"
EVENT_LOOPS = ("auto", "uvloop", "asyncio")


class ServiceEntryPointError(RuntimeError):
    """The service module has no ``async def main() -> None``."""

    code = "service_entry_point_missing"

    def __init__(self, module: str) -> None:
        super().__init__(f"{module} does not define a callable main()")
        self.module = module


def load_service_main(name: str, modules: Mapping[str, str] = SERVICE_MODULES) -> ServiceMain:
    """Import the service's app module and return its ``main``."""
    module_name = modules[name]
    module = importlib.import_module(module_name)
    main = getattr(module, "main", None)
    if not callable(main):
        raise ServiceEntryPointError(module_name)
    service_main: ServiceMain = main
    return service_main


#: How long a signalled service may take to unwind before it is cancelled again: a
#: cancellation that lands inside a library's start-up can be swallowed there.
RECANCEL_S = 5.0


async def run_until_signalled(main: ServiceMain, recancel_s: float = RECANCEL_S) -> None:
    """Run ``main()``; SIGTERM or SIGINT cancels it and returns normally. The cancellation
    is repeated every ``recancel_s`` until ``main()`` has ended."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(main())
    received: list[signal.Signals] = []

    def keep_cancelling() -> None:
        if not task.done():
            task.cancel()
            loop.call_later(recancel_s, keep_cancelling)

    def cancel(sig: signal.Signals) -> None:
        received.append(sig)
        keep_cancelling()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, cancel, sig)
    try:
        await task
    except asyncio.CancelledError:
        if not received:
            raise
        _log.info("service_stopped_by_signal", signal=received[0].name)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


def event_loop_factory(choice: str | None = None) -> LoopFactory | None:
    """The event loop ``choice`` (default ``$APP_EVENT_LOOP``) names: ``auto`` (uvloop when it
    is installed), ``uvloop`` (required) or ``asyncio``. None: asyncio's own loop."""
    wanted = choice if choice is not None else os.environ.get(EVENT_LOOP_ENV, "auto")
    if wanted not in EVENT_LOOPS:
        raise SettingsSourceError(
            f"{EVENT_LOOP_ENV} must be one of {', '.join(EVENT_LOOPS)}, not {wanted!r}",
            variable=EVENT_LOOP_ENV,
        )
    if wanted == "asyncio":
        return None
    try:
        import uvloop  # type: ignore[import-not-found,unused-ignore]  # optional
    except ImportError as exc:
        if wanted == "uvloop":
            raise SettingsSourceError(
                f"{EVENT_LOOP_ENV}=uvloop but uvloop is not installed", variable=EVENT_LOOP_ENV
            ) from exc
        return None
    factory: LoopFactory = uvloop.new_event_loop
    return factory


def run_service(name: str, modules: Mapping[str, str] = SERVICE_MODULES) -> int:
    """Run service ``name`` until it returns or is signalled. ``modules`` maps service
    names to importable modules (tests point it at a fake)."""
    main = load_service_main(name, modules)
    try:
        loop_factory = event_loop_factory()
    except SettingsSourceError as exc:
        _log.error("service.settings_invalid", service=name, error=str(exc))
        return 1
    _log.info(
        "service_starting",
        service=name,
        module=modules[name],
        event_loop="asyncio" if loop_factory is None else "uvloop",
    )
    try:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            runner.run(run_until_signalled(main))
    except DependencyUnreachableError as exc:
        _log.error(
            "service.dependency_unreachable",
            service=name,
            dependency=exc.dependency,
            address=exc.address,
            error=exc.reason,
        )
        return 1
    except (ValidationError, SettingsSourceError) as exc:
        _log.error("service.settings_invalid", service=name, error=str(exc))
        return 1
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "serve", help="run one service in the foreground", description=__doc__
    )
    parser.add_argument("service", choices=SERVICES, help="the service to run")
    parser.set_defaults(handler=lambda args: run_service(args.service))
