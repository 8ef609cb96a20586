"""A small client of the gateway's REST API (spec: gateway-api.md), used by ``relay demo``,
the end-to-end test and the webhook benchmark."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from relay_shared.dependencies import reaching
from relay_shared.run_states import TERMINAL


class GatewayError(RuntimeError):
    """The gateway answered with an unexpected status; carries its error body."""

    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        super().__init__(f"{method} {path} -> {status}: {body}")
        self.status = status
        self.body = body


@dataclass(frozen=True)
class Response:
    status: int
    body: Any
    headers: Mapping[str, str]


def sign(body: bytes, secret: str) -> str:
    """The ``X-ShipStation-Signature`` value of ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class GatewayClient:
    def __init__(self, session: aiohttp.ClientSession, base_url: str, api_key: str) -> None:
        self._session = session
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key

    def as_key(self, api_key: str) -> GatewayClient:
        return GatewayClient(self._session, self.base_url, api_key)

    async def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        expect: tuple[int, ...] = (200,),
    ) -> Response:
        all_headers = {"Authorization": f"Bearer {self.api_key}", **(headers or {})}
        async with (
            reaching("the gateway", self.base_url),
            self._session.request(
                method, self.base_url + path, json=json_body, data=data, headers=all_headers
            ) as response,
        ):
            text = await response.text()
            body = json.loads(text) if text else None
            if response.status not in expect:
                raise GatewayError(method, path, response.status, body)
            return Response(response.status, body, dict(response.headers))

    async def create_tenant(self, tenant_id: str, name: str, channels: list[str]) -> str:
        """Create a tenant (admin); returns its owner API key."""
        body = {"tenant_id": tenant_id, "name": name, "channels": channels}
        response = await self.request("POST", "/v1/tenants", json_body=body, expect=(201,))
        key: str = response.body["api_key"]
        return key

    async def put_config(self, tenant_id: str, yaml_text: str) -> int:
        response = await self.request(
            "PUT",
            f"/v1/tenants/{tenant_id}/config",
            data=yaml_text.encode(),
            headers={"Content-Type": "application/yaml"},
            expect=(201,),
        )
        version: int = response.body["config_version"]
        return version

    async def put_sku_map(self, tenant_id: str, vendor_id: str, csv: bytes) -> dict[str, Any]:
        response = await self.request(
            "PUT",
            f"/v1/tenants/{tenant_id}/vendors/{vendor_id}/sku-map",
            data=csv,
            headers={"Content-Type": "text/csv"},
            expect=(201,),
        )
        result: dict[str, Any] = response.body
        return result

    async def upload_feed(
        self, tenant_id: str, vendor_id: str, body: bytes, content_type: str
    ) -> dict[str, Any]:
        response = await self.request(
            "PUT",
            f"/v1/tenants/{tenant_id}/vendors/{vendor_id}/feed",
            data=body,
            headers={"Content-Type": content_type},
            expect=(201,),
        )
        result: dict[str, Any] = response.body
        return result

    async def start_run(self, tenant_id: str, **extra: Any) -> dict[str, Any]:
        body = {"tenant_id": tenant_id, "run_type": "inventory_sync", **extra}
        response = await self.request("POST", "/v1/runs", json_body=body, expect=(202,))
        result: dict[str, Any] = response.body
        return result

    async def get_run(self, run_id: str) -> dict[str, Any]:
        result: dict[str, Any] = (await self.request("GET", f"/v1/runs/{run_id}")).body
        return result

    async def wait_for_run(
        self,
        run_id: str,
        *,
        on_change: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Poll the run until it is SUCCEEDED or FAILED (bound it with ``asyncio.timeout``)."""
        last: tuple[str, str] | None = None
        while True:
            run = await self.get_run(run_id)
            state = (run["status"], run["stage"])
            if state != last and on_change is not None:
                on_change(run)
            last = state
            if run["status"] in TERMINAL:
                return run
            await asyncio.sleep(0.1)

    async def artifacts(self, run_id: str) -> list[dict[str, Any]]:
        response = await self.request("GET", f"/v1/runs/{run_id}/artifacts")
        items: list[dict[str, Any]] = response.body["artifacts"]
        return items

    async def download(self, url: str) -> bytes:
        async with self._session.get(url) as response:
            response.raise_for_status()
            return await response.read()

    async def post_shipstation(
        self, body: bytes, secret: str, *, expect: tuple[int, ...] = (202, 200)
    ) -> Response:
        """POST a signed ShipStation payload (no API key: the signature authenticates)."""
        headers = {
            "Content-Type": "application/json",
            "X-ShipStation-Signature": sign(body, secret),
        }
        async with self._session.post(
            self.base_url + "/v1/webhooks/shipstation", data=body, headers=headers
        ) as response:
            text = await response.text()
            parsed = json.loads(text) if text else None
            if response.status not in expect:
                raise GatewayError("POST", "/v1/webhooks/shipstation", response.status, parsed)
            return Response(response.status, parsed, dict(response.headers))
