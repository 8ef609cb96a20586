"""eBay Sell Inventory, with an OAuth user token from a refresh token.

``POST {endpoint}/identity/v1/oauth2/token`` (basic auth with the app's id and secret,
``grant_type=refresh_token``) gives the bearer token; it is refreshed before a call once it
is (nearly) past its expiry, and a call answered 401 refreshes it once and is sent once more.
The offers of a sku come from ``GET /sell/inventory/v1/offer?sku=``; a bulk update answers
per offer, and any offer refused with a 4xx status is a rejection.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import aiohttp

from relay_channels.adapters.access_tokens import AccessTokens
from relay_channels.adapters.call_metrics import MarketplaceMetrics
from relay_channels.adapters.marketplace_http import (
    Answer,
    CallLimits,
    MarketplaceRejectedError,
    call,
)
from relay_channels.domain.requests import MarketRequest, ebay_lookup_url

SCOPE = "https://api.ebay.com/oauth/api_scope/sell.inventory"
TOKEN_REFUSED = 401


class EbayClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        endpoint: str,
        limits: CallLimits,
        metrics: MarketplaceMetrics | None = None,
    ) -> None:
        self._session = session
        self._endpoint = endpoint
        self._limits = limits
        self._tokens = AccessTokens()
        self._metrics = metrics if metrics is not None else MarketplaceMetrics()

    async def offer_ids(self, sku: str, credentials: Mapping[str, str]) -> list[str]:
        request = MarketRequest("GET", ebay_lookup_url(self._endpoint, sku))
        answer = await self._authorized(request, "offer_lookup", credentials)
        offers = answer.body.get("offers", []) if isinstance(answer.body, dict) else []
        ids = [o["offerId"] for o in offers if isinstance(o, dict) and "offerId" in o]
        if not ids:
            raise MarketplaceRejectedError(answer.status, f"eBay has no offer for sku {sku}")
        return [str(offer_id) for offer_id in ids]

    async def send(self, request: MarketRequest, credentials: Mapping[str, str]) -> Answer:
        operation = "withdraw" if request.url.endswith("/withdraw") else "bulk_update"
        answer = await self._authorized(request, operation, credentials)
        responses = answer.body.get("responses", []) if isinstance(answer.body, dict) else []
        refused = [
            r for r in responses if isinstance(r, dict) and int(r.get("statusCode", 200)) >= 400
        ]
        if refused:
            raise MarketplaceRejectedError(int(refused[0]["statusCode"]), answer.text)
        return answer

    async def _authorized(
        self, request: MarketRequest, operation: str, credentials: Mapping[str, str]
    ) -> Answer:
        """The call with the bearer token; on a 401, once more with a fresh token."""
        token = await self._token(credentials)
        try:
            return await self._call(request, operation, token)
        except MarketplaceRejectedError as exc:
            if exc.status != TOKEN_REFUSED:
                raise
            self._tokens.drop(credentials["client_id"], credentials["refresh_token"], token)
            return await self._call(request, operation, await self._token(credentials))

    async def _call(self, request: MarketRequest, operation: str, token: str) -> Answer:
        body: Any = request.body if request.method != "GET" else None
        return await call(
            self._session,
            request.method,
            request.url,
            self._limits,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            json_body=body,
            observe=self._metrics.observer("ebay", operation),
        )

    async def _token(self, credentials: Mapping[str, str]) -> str:
        client_id, secret = credentials["client_id"], credentials["client_secret"]
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        form = {
            "grant_type": "refresh_token",
            "refresh_token": credentials["refresh_token"],
            "scope": SCOPE,
        }
        url = self._endpoint.rstrip("/") + "/identity/v1/oauth2/token"

        async def exchange() -> Answer:
            return await call(
                self._session,
                "POST",
                url,
                self._limits,
                headers={"Authorization": f"Basic {basic}"},
                form=form,
                observe=self._metrics.observer("ebay", "token"),
            )

        return await self._tokens.get(client_id, credentials["refresh_token"], exchange)
