"""What the code says a deployment must match, read from the code itself (never restated):
the services, each one's settings class, its durable consumer names and the paths it serves."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from functools import cache

from aiohttp.web_urldispatcher import AbstractRoute

from relay_cli.services import HTTP_SERVICE, SERVICES
from relay_gateway.app import create_app as create_gateway
from relay_gateway.settings import GatewaySettings
from relay_shared.health import ReadinessChecks, operations_app
from relay_shared.metrics import ServiceMetrics
from relay_shared.settings import ENV_PREFIX, CommonSettings

WORKERS: tuple[str, ...] = tuple(name for name in SERVICES if name != HTTP_SERVICE)
#: A port for building the apps with their operations (metrics) side on; never bound here.
_ANY_PORT = 9999


def settings_type(service: str) -> type[CommonSettings]:
    module = importlib.import_module(f"relay_{service}.app")
    settings: type[CommonSettings] = module.SETTINGS_TYPE
    return settings


@cache
def durables(service: str) -> tuple[str, ...]:
    """The durable pull consumers the worker registers (built without I/O, as for AsyncAPI)."""
    module = importlib.import_module(f"relay_{service}.app")
    app = module.create_app(settings_type(service)(metrics_port=_ANY_PORT))
    if app.operations is None:
        raise AssertionError(f"{service}: no operations side with a metrics port set")
    return tuple(app.operations.durables)


def variable(field: str) -> str:
    """The ``APP_*`` variable a settings field is read from."""
    return f"{ENV_PREFIX}{field.upper()}"


def variables_read(service: str) -> set[str]:
    """Every ``APP_*`` variable the service's settings read (``APP_FOO`` and ``APP_FOO_FILE``)."""
    fields = settings_type(service).model_fields
    names = {variable(name) for name in fields}
    return names | {f"{name}_FILE" for name in names}


def worker_routes() -> set[str]:
    """The GET paths a worker's operations port serves."""
    app = operations_app(ServiceMetrics("probe-check"), ReadinessChecks())
    return _get_paths(app.router.routes())


def gateway_routes() -> set[str]:
    """The GET paths the gateway serves (its app built without I/O)."""
    return _get_paths(create_gateway(GatewaySettings()).web.router.routes())


def _get_paths(routes: Iterable[AbstractRoute]) -> set[str]:
    return {r.resource.canonical for r in routes if r.method == "GET" and r.resource is not None}
