"""eBay Sell Inventory API with an OAuth user token refreshed from the refresh token.

``POST /identity/v1/oauth2/token`` (basic auth with the app's id and secret,
``grant_type=refresh_token``) gives the bearer token. The offers of a sku come from
``GET /sell/inventory/v1/offer?sku=``; a bulk update answers per offer, and any offer refused
with a 4xx status is a rejection.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping

import aiohttp

from relay_channels.adapters.access_tokens import AccessTokens
from relay_channels.adapters.marketplace_http import (
    Answer,
    CallLimits,
    MarketplaceRejectedError,
    call,
)
from relay_channels.domain.requests import MarketRequest, ebay_lookup_url

SCOPE = "https://api.ebay.com/oauth/api_scope/sell.inventory"


class EbayClient:
    def __init__(self, session: aiohttp.ClientSession, endpoint: str, limits: CallLimits) -> None:
        self._session = session
        self._endpoint = endpoint
        self._limits = limits
        self._tokens = AccessTokens()

    async def offer_ids(self, sku: str, credentials: Mapping[str, str]) -> list[str]:
        answer = await call(
            self._session,
            "GET",
            ebay_lookup_url(self._endpoint, sku),
            self._limits,
            headers=await self._headers(credentials),
        )
        offers = answer.body.get("offers", []) if isinstance(answer.body, dict) else []
        ids = [o["offerId"] for o in offers if isinstance(o, dict) and "offerId" in o]
        if not ids:
            raise MarketplaceRejectedError(answer.status, f"eBay has no offer for sku {sku}")
        return [str(offer_id) for offer_id in ids]

    async def send(self, request: MarketRequest, credentials: Mapping[str, str]) -> Answer:
        answer = await call(
            self._session,
            request.method,
            request.url,
            self._limits,
            headers=await self._headers(credentials),
            json_body=request.body,
        )
        responses = answer.body.get("responses", []) if isinstance(answer.body, dict) else []
        refused = [
            r for r in responses if isinstance(r, dict) and int(r.get("statusCode", 200)) >= 400
        ]
        if refused:
            raise MarketplaceRejectedError(int(refused[0]["statusCode"]), answer.text)
        return answer

    async def _headers(self, credentials: Mapping[str, str]) -> dict[str, str]:
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
            )

        token = await self._tokens.get(client_id, credentials["refresh_token"], exchange)
        return {"Authorization": f"Bearer {token}", "Accept": "application/json"}
