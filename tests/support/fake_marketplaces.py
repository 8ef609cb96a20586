"""Local fakes of the marketplace APIs the channels service calls, checking every request the
way the marketplace documents it and recording each one.

- Amazon: Login with Amazon ``POST /auth/o2/token`` (refresh_token grant) and SP-API Listings
  Items 2021-08-01 ``PATCH``/``DELETE /listings/2021-08-01/items/{sellerId}/{sku}
  ?marketplaceIds=…`` (``x-amz-access-token``, JSON Patch body: ``merge`` of
  ``/attributes/fulfillment_availability``, ``replace`` of ``/attributes/purchasable_offer``),
  5 requests/s with burst 10 per seller, 429 (with ``x-amzn-RateLimit-Limit``) beyond.
- eBay: ``POST /identity/v1/oauth2/token`` (basic auth, refresh_token grant), ``GET
  /sell/inventory/v1/offer?sku=``, ``POST …/bulk_update_price_quantity`` (at most 25 offers),
  ``POST …/offer/{offerId}/withdraw``; 250 revisions of a listing a day.

``fail_next`` queues answers to give instead (a status, ``hang`` or ``garbage``). Access
tokens live ``token_lifetime_s`` (the ``expires_in`` answered); ``revoke_tokens`` ends every
token issued so far. The first token is ``AMAZON_TOKEN`` / ``EBAY_TOKEN``, later ones carry
their number (``….2``). A token past its life or revoked is refused: Amazon 403
(``Unauthorized``, as SP-API answers an expired token), eBay 401 (errorId 1001).
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

AMAZON_CLIENT = {
    "lwa_client_id": "amzn1.application-oa2-client.fake",
    "lwa_client_secret": "amz-s3cret",
}
AMAZON_CREDENTIALS = {**AMAZON_CLIENT, "refresh_token": "Atzr|amazon-refresh"}
EBAY_CREDENTIALS = {
    "client_id": "Relay-App-PRD",
    "client_secret": "PRD-eb4y-s3cret",
    "refresh_token": "v^1.1#ebay-refresh",
}
AMAZON_TOKEN = "Atza|fake-access-token"
EBAY_TOKEN = "v^1.1#fake-user-token"
MARKETPLACE_ID = "ATVPDKIKX0DER"


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]
    #: when it arrived (time.monotonic)
    at: float = field(default_factory=time.monotonic)


@dataclass
class FakeMarketplace:
    """What both fakes share: recorded requests and queued failures."""

    requests: list[Recorded] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    sku_failures: dict[str, list[str]] = field(default_factory=dict)
    hang_s: float = 30.0
    token_lifetime_s: int = 3600
    #: access token → when it stops being valid (time.monotonic)
    issued: dict[str, float] = field(default_factory=dict)

    def revoke_tokens(self) -> None:
        """Every token issued so far is refused from now on."""
        for token in self.issued:
            self.issued[token] = 0.0

    def token_valid(self, token: str | None) -> bool:
        return token is not None and self.issued.get(token, 0.0) > time.monotonic()

    def _issue(self, first: str) -> str:
        number = len(self.issued) + 1
        token = first if number == 1 else f"{first}.{number}"
        self.issued[token] = time.monotonic() + self.token_lifetime_s
        return token

    def fail_next(self, *answers: str, sku: str | None = None) -> None:
        """The next calls (not token exchanges; with ``sku``, those about it) answer these:
        ``"500"``, ``"429"``, ``"400"``, ``"hang"`` or ``"garbage"``."""
        if sku is None:
            self.failures.extend(answers)
        else:
            self.sku_failures.setdefault(sku, []).extend(answers)

    def calls(self, method: str | None = None) -> list[Recorded]:
        return [r for r in self.requests if "token" not in r.path and method in (None, r.method)]

    async def _record(self, request: web.Request) -> Recorded:
        text = await request.text()
        try:
            body: Any = json.loads(text) if text else None
        except ValueError:
            body = text
        kept = {k.lower(): v for k, v in request.headers.items()}
        recorded = Recorded(request.method, request.path, dict(request.query), body, kept)
        self.requests.append(recorded)
        return recorded

    async def _injected(self, sku: str | None = None) -> web.Response | None:
        queue = self.sku_failures.get(sku or "") or self.failures
        if not queue:
            return None
        answer = queue.pop(0)
        if answer == "hang":
            await asyncio.sleep(self.hang_s)
        if answer == "garbage":
            return web.Response(status=200, text="<html>oops", content_type="text/html")
        status = int(answer) if answer.isdigit() else 500
        return web.json_response({"errors": [{"code": f"Injected{status}"}]}, status=status)


def _problem(status: int, message: str) -> web.Response:
    return web.json_response(
        {"errors": [{"code": "InvalidInput", "message": message}]}, status=status
    )


@dataclass
class FakeAmazon(FakeMarketplace):
    rate_per_s: float = 5.0
    burst: int = 10
    tokens: dict[str, tuple[float, float]] = field(default_factory=dict)
    per_second: Counter[tuple[str, int]] = field(default_factory=Counter)
    throttled: int = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/auth/o2/token", self._token)
        app.router.add_route("PATCH", "/listings/2021-08-01/items/{seller}/{sku}", self._patch)
        app.router.add_route("DELETE", "/listings/2021-08-01/items/{seller}/{sku}", self._delete)
        return app

    def max_per_second(self) -> int:
        return max(self.per_second.values(), default=0)

    async def _token(self, request: web.Request) -> web.Response:
        await self._record(request)
        form = await request.post()
        expected = {
            "grant_type": "refresh_token",
            "refresh_token": AMAZON_CREDENTIALS["refresh_token"],
            "client_id": AMAZON_CREDENTIALS["lwa_client_id"],
            "client_secret": AMAZON_CREDENTIALS["lwa_client_secret"],
        }
        if request.content_type != "application/x-www-form-urlencoded" or any(
            form.get(key) != value for key, value in expected.items()
        ):
            return web.json_response({"error": "invalid_grant"}, status=400)
        return web.json_response(
            {
                "access_token": self._issue(AMAZON_TOKEN),
                "token_type": "bearer",
                "expires_in": self.token_lifetime_s,
            }
        )

    def _take(self, seller: str) -> bool:
        now = time.monotonic()
        tokens, stamp = self.tokens.get(seller, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - stamp) * self.rate_per_s)
        allowed = tokens >= 1
        self.tokens[seller] = (tokens - 1 if allowed else tokens, now)
        return allowed

    async def _checked(self, request: web.Request) -> web.Response | None:
        """A refusal when the call breaks the documented rules, else None."""
        seller = request.match_info["seller"]
        if not self._take(seller):
            self.throttled += 1
            return web.json_response(
                {"errors": [{"code": "QuotaExceeded"}]},
                status=429,
                headers={"x-amzn-RateLimit-Limit": str(self.rate_per_s)},
            )
        self.per_second[(seller, int(time.time()))] += 1
        token = request.headers.get("x-amz-access-token")
        if token in self.issued and not self.token_valid(token):
            return web.json_response(
                {
                    "errors": [
                        {
                            "code": "Unauthorized",
                            "message": "Access to requested resource is denied.",
                            "details": "The access token you provided has expired.",
                        }
                    ]
                },
                status=403,
            )
        if not self.token_valid(token):
            return _problem(403, "x-amz-access-token is missing or not valid")
        if request.query.get("marketplaceIds") != MARKETPLACE_ID:
            return _problem(400, "marketplaceIds is required")
        return await self._injected(request.match_info["sku"])

    async def _patch(self, request: web.Request) -> web.Response:
        recorded = await self._record(request)
        refused = await self._checked(request)
        if refused is not None:
            return refused
        if request.content_type != "application/json":
            return _problem(415, "content-type must be application/json")
        problem = _patch_problem(recorded.body)
        if problem is not None:
            return _problem(400, problem)
        return self._accepted(request)

    async def _delete(self, request: web.Request) -> web.Response:
        await self._record(request)
        refused = await self._checked(request)
        return refused if refused is not None else self._accepted(request)

    def _accepted(self, request: web.Request) -> web.Response:
        sku = request.match_info["sku"]
        return web.json_response(
            {
                "sku": sku,
                "status": "ACCEPTED",
                "submissionId": f"sub-{sku}",
                "issues": [],
            }
        )


def _patch_problem(body: Any) -> str | None:
    if not isinstance(body, dict) or not isinstance(body.get("productType"), str):
        return "productType is required"
    patches = body.get("patches")
    if not isinstance(patches, list) or not patches:
        return "patches must be a non-empty array"
    for patch in patches:
        op, path, value = patch.get("op"), patch.get("path"), patch.get("value")
        if path == "/attributes/fulfillment_availability" and op == "merge":
            ok = isinstance(value, list) and all(
                v.get("fulfillment_channel_code") == "DEFAULT"
                and isinstance(v.get("quantity"), int)
                and v["quantity"] >= 0
                for v in value
            )
        elif path == "/attributes/purchasable_offer" and op == "replace":
            ok = isinstance(value, list) and all(
                v.get("marketplace_id") == MARKETPLACE_ID
                and len(v.get("currency", "")) == 3
                and float(v["our_price"][0]["schedule"][0]["value_with_tax"]) > 0
                for v in value
            )
        else:
            ok = False
        if not ok:
            return f"patch {op} {path} is not valid: {value!r}"
    return None


@dataclass
class FakeEbay(FakeMarketplace):
    token_lifetime_s: int = 7200
    #: sku → its offer ids (a sku not listed has one offer, ``O-<sku>``)
    offers: dict[str, list[str]] = field(default_factory=dict)
    revisions: Counter[str] = field(default_factory=Counter)
    daily_revisions: int = 250
    withdrawn: list[str] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/identity/v1/oauth2/token", self._token)
        app.router.add_get("/sell/inventory/v1/offer", self._offers)
        app.router.add_post("/sell/inventory/v1/bulk_update_price_quantity", self._bulk)
        app.router.add_post("/sell/inventory/v1/offer/{offer}/withdraw", self._withdraw)
        return app

    def offers_of(self, sku: str) -> list[str]:
        return self.offers.get(sku, [f"O-{sku}"])

    async def _token(self, request: web.Request) -> web.Response:
        await self._record(request)
        pair = f"{EBAY_CREDENTIALS['client_id']}:{EBAY_CREDENTIALS['client_secret']}"
        basic = "Basic " + base64.b64encode(pair.encode()).decode()
        form = await request.post()
        if (
            request.headers.get("Authorization") != basic
            or form.get("grant_type") != "refresh_token"
            or form.get("refresh_token") != EBAY_CREDENTIALS["refresh_token"]
            or "sell.inventory" not in str(form.get("scope", ""))
        ):
            return web.json_response({"error": "invalid_grant"}, status=400)
        return web.json_response(
            {
                "access_token": self._issue(EBAY_TOKEN),
                "expires_in": self.token_lifetime_s,
                "token_type": "User Access Token",
            }
        )

    async def _authorized(self, request: web.Request) -> web.Response | None:
        bearer = request.headers.get("Authorization", "")
        if not bearer.startswith("Bearer ") or not self.token_valid(bearer[len("Bearer ") :]):
            return web.json_response({"errors": [{"errorId": 1001}]}, status=401)
        return await self._injected()

    async def _offers(self, request: web.Request) -> web.Response:
        await self._record(request)
        refused = await self._authorized(request)
        if refused is not None:
            return refused
        sku = request.query.get("sku", "")
        offers = [
            {
                "offerId": oid,
                "sku": sku,
                "marketplaceId": "EBAY_US",
                "format": "FIXED_PRICE",
                "status": "PUBLISHED",
            }
            for oid in self.offers_of(sku)
        ]
        return web.json_response({"total": len(offers), "offers": offers})

    async def _bulk(self, request: web.Request) -> web.Response:
        recorded = await self._record(request)
        refused = await self._authorized(request)
        if refused is not None:
            return refused
        if request.content_type != "application/json":
            return _problem(415, "content-type must be application/json")
        items = (recorded.body or {}).get("requests")
        offers = [o for item in items or [] for o in item.get("offers", [])]
        if not items or not offers or len(offers) > 25:
            return _problem(400, "1 to 25 offers per call")
        return web.json_response(
            {"responses": [self._revise(item["sku"], o) for item in items for o in item["offers"]]}
        )

    def _revise(self, sku: str, offer: dict[str, Any]) -> dict[str, Any]:
        oid = offer.get("offerId")
        if oid not in self.offers_of(sku):
            return {"offerId": oid, "sku": sku, "statusCode": 404, "errors": [{"errorId": 25713}]}
        if self.revisions[oid] >= self.daily_revisions:
            return {
                "offerId": oid,
                "sku": sku,
                "statusCode": 400,
                "errors": [{"errorId": 25002, "message": "daily revision limit"}],
            }
        self.revisions[oid] += 1
        return {"offerId": oid, "sku": sku, "statusCode": 200}

    async def _withdraw(self, request: web.Request) -> web.Response:
        await self._record(request)
        refused = await self._authorized(request)
        if refused is not None:
            return refused
        offer = request.match_info["offer"]
        listed = {oid for ids in self.offers.values() for oid in ids}
        if offer not in listed and not offer.startswith("O-"):
            return web.json_response({"errors": [{"errorId": 25713}]}, status=404)
        self.withdrawn.append(offer)
        return web.json_response({"listingId": f"L-{offer}", "warnings": []})


@dataclass
class Marketplaces:
    amazon: FakeAmazon
    ebay: FakeEbay
    amazon_url: str
    ebay_url: str

    def settings(self) -> dict[str, Any]:
        """The channels service's settings that point it here."""
        return {
            "channels_amazon_endpoint": self.amazon_url,
            "channels_amazon_auth_endpoint": self.amazon_url,
            "channels_ebay_endpoint": self.ebay_url,
        }

    def env(self) -> dict[str, str]:
        """The same settings as ``APP_*`` variables, for service processes."""
        return {f"APP_{name.upper()}": value for name, value in self.settings().items()}


@asynccontextmanager
async def fake_marketplaces() -> AsyncIterator[Marketplaces]:
    amazon, ebay = FakeAmazon(), FakeEbay()
    servers = [TestServer(amazon.app()), TestServer(ebay.app())]
    for server in servers:
        await server.start_server()
    try:
        yield Marketplaces(
            amazon,
            ebay,
            str(servers[0].make_url("")).rstrip("/"),
            str(servers[1].make_url("")).rstrip("/"),
        )
    finally:
        for server in servers:
            await server.close()
