"""Property-based API testing: Schemathesis generates requests from the gateway's own OpenAPI
document and sends them to a LIVE gateway process (``relay serve gateway`` on the real
stack, its own NATS) as the platform admin. No answer may be a 5xx, for valid requests
(positive generation) and for requests that break the document's schemas and patterns
(negative generation).

Budget: ``MAX_EXAMPLES`` generated requests per operation and mode (plus Schemathesis' few
explicit and boundary cases): about 25 s for both modes over every operation of the document
(100 per operation took 48 s of a suite that must stay well under 15 minutes).
"""

from __future__ import annotations

import json
import os
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.openapi import from_url
from schemathesis.schemas import BaseSchema

from relay_cli.stack import ServiceProcesses, StackEndpoints, free_port, wait_for_http_ok
from relay_gateway.app import ROUTES
from tests.gateway.harness import ADMIN_KEY, SECRET_KEY, WEBHOOK_SECRETS

pytestmark = pytest.mark.stack
MAX_EXAMPLES = 50
ADMIN_HEADERS = {"Authorization": f"Bearer {ADMIN_KEY}"}
AnyOperation = APIOperation[Any, Any, Any, Any]


def _post_json(url: str, body: object) -> dict[str, object]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={**ADMIN_HEADERS, "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        answer: dict[str, object] = json.loads(response.read())
    return answer


@pytest.fixture(scope="module")
def live_gateway(
    isolated_bus: StackEndpoints, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The gateway as its own OS process; its base URL."""
    state_dir: Path = tmp_path_factory.mktemp("live-gateway")
    env = {
        **os.environ,
        "APP_BOOTSTRAP_ADMIN_KEY": ADMIN_KEY,
        "APP_SECRET_KEY": SECRET_KEY,
        "APP_WEBHOOK_SECRETS": ",".join(WEBHOOK_SECRETS),
    }
    port = free_port()
    with ServiceProcesses.for_stack(
        isolated_bus, state_dir, http_port=port, parent_env=env
    ) as services:
        services.start("gateway")
        url = f"http://127.0.0.1:{port}"
        wait_for_http_ok(f"{url}/v1/ready", timeout=60.0)
        yield url
        assert services.unexpected_exits() == {}


@pytest.fixture(scope="module")
def live_tenant(live_gateway: str) -> str:
    tenant_id = f"st-{uuid.uuid4().hex[:10]}"
    body = {"tenant_id": tenant_id, "name": "Schemathesis", "channels": ["amazon", "ebay"]}
    _post_json(f"{live_gateway}/v1/tenants", body)
    return tenant_id


@pytest.fixture(scope="module")
def live_schema(live_gateway: str) -> BaseSchema:
    return from_url(f"{live_gateway}/v1/openapi.json")


def _server_errors(
    operation: AnyOperation, tenant_id: str, sent: list[int], mode: GenerationMode
) -> list[str]:
    """Run ``MAX_EXAMPLES`` generated cases of one operation in ``mode``; the 5xx answers
    found."""
    found: list[str] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Case[AnyOperation]) -> None:
        if "tenant_id" in (case.path_parameters or {}):
            case.path_parameters = {**(case.path_parameters or {}), "tenant_id": tenant_id}
        response = case.call(headers=ADMIN_HEADERS, timeout=10)
        sent.append(response.status_code)
        if response.status_code >= 500:
            found.append(f"{case.method} {case.formatted_path}: {response.text[:300]}")

    try:
        check()
    except Unsatisfiable:
        # Negative mode on an operation with nothing to break (no parameters, no body).
        assert mode is GenerationMode.NEGATIVE
        assert not operation.path_parameters
        assert not operation.query
        assert not operation.body
    return found


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_generated_request_gets_a_server_error(
    live_schema: BaseSchema, live_tenant: str, mode: GenerationMode
) -> None:
    operations = [result.ok() for result in live_schema.get_all_operations()]  # type: ignore[union-attr]
    sent: list[int] = []
    errors = [error for op in operations for error in _server_errors(op, live_tenant, sent, mode)]
    print(f"schemathesis {mode.value}: {len(sent)} requests over {len(operations)} operations")

    assert errors == []
    assert len(sent) >= (10 if mode is GenerationMode.POSITIVE else 5) * len(operations)
    documented = {f"{route.method} {route.path}" for route in ROUTES}
    # Schemathesis leaves out the document it was loaded from; the app documents the
    # Prometheus scrape route it adds beside the declared ones.
    assert {op.label for op in operations} == documented - {"GET /v1/openapi.json"} | {
        "GET /metrics"
    }
