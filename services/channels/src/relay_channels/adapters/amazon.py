"""Amazon SP-API Listings Items 2021-08-01, with a Login with Amazon token.

The access token comes from ``POST {auth}/auth/o2/token`` (``grant_type=refresh_token``) and
is sent as ``x-amz-access-token``; it is refreshed before a call once it is (nearly) past
its expiry, and a call refused for its token (401, or the 403 SP-API answers for an expired
or revoked token) refreshes it once and is sent once more. Calls of one seller take a token
from a 5/s, burst-10 bucket shared by every replica (:mod:`.rate_limit`); a 429 is honoured
(:mod:`.marketplace_http`). An answer of status ``INVALID`` is a rejection (the marketplace's
issues are the audited answer).
"""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp

from relay_channels.adapters.access_tokens import AccessTokens
from relay_channels.adapters.call_metrics import MarketplaceMetrics
from relay_channels.adapters.marketplace_http import (
    Answer,
    CallLimits,
    MarketplaceRejectedError,
    call,
)
from relay_channels.adapters.rate_limit import RateBuckets
from relay_channels.domain.requests import MarketRequest

#: the statuses SP-API refuses an expired or revoked access token with
TOKEN_REFUSED = (401, 403)


class AmazonClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        auth_endpoint: str,
        limits: CallLimits,
        buckets: RateBuckets,
        metrics: MarketplaceMetrics | None = None,
    ) -> None:
        self._session = session
        self._auth_url = auth_endpoint.rstrip("/") + "/auth/o2/token"
        self._limits = limits
        self._buckets = buckets
        self._tokens = AccessTokens()
        self._metrics = metrics if metrics is not None else MarketplaceMetrics()

    async def send(
        self, request: MarketRequest, seller_id: str, credentials: Mapping[str, str]
    ) -> Answer:
        token = await self._access_token(credentials)
        try:
            answer = await self._call(request, seller_id, token)
        except MarketplaceRejectedError as exc:
            if exc.status not in TOKEN_REFUSED:
                raise
            self._tokens.drop(credentials["lwa_client_id"], credentials["refresh_token"], token)
            answer = await self._call(request, seller_id, await self._access_token(credentials))
        body = answer.body if isinstance(answer.body, dict) else {}
        if body.get("status") == "INVALID":
            raise MarketplaceRejectedError(answer.status, answer.text)
        return answer

    async def _call(self, request: MarketRequest, seller_id: str, token: str) -> Answer:
        operation = "listings_delete" if request.method == "DELETE" else "listings_patch"
        return await call(
            self._session,
            request.method,
            request.url,
            self._limits,
            headers={"x-amz-access-token": token, "accept": "application/json"},
            json_body=request.body,
            observe=self._metrics.observer("amazon", operation),
            pace=self._buckets.of(seller_id).take,
        )

    async def _access_token(self, credentials: Mapping[str, str]) -> str:
        client_id = credentials["lwa_client_id"]
        form = {
            "grant_type": "refresh_token",
            "refresh_token": credentials["refresh_token"],
            "client_id": client_id,
            "client_secret": credentials["lwa_client_secret"],
        }

        async def exchange() -> Answer:
            return await call(
                self._session,
                "POST",
                self._auth_url,
                self._limits,
                form=form,
                observe=self._metrics.observer("amazon", "token"),
            )

        return await self._tokens.get(client_id, credentials["refresh_token"], exchange)
