"""The plugins' marketplace side: the requests an action makes, and sending them.

``planned_requests`` is what a dry-run records (and what is written pending before a real
send); ``perform`` sends, and answers with what was actually sent (eBay's offer ids filled
in) and the marketplace's answer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from relay_channels.adapters.amazon import AmazonClient
from relay_channels.adapters.ebay import EbayClient
from relay_channels.adapters.marketplace_http import answer_text
from relay_channels.domain.decisions import PlannedAction
from relay_channels.domain.requests import (
    Change,
    MarketRequest,
    amazon_request,
    ebay_requests,
    woot_request,
)
from relay_shared.channel_config import AccountConfig
from relay_shared.storage import ObjectStore


@dataclass(frozen=True)
class Performed:
    requests: list[MarketRequest]
    answer: str
    artifact_key: str | None = None


def audit_of(requests: list[MarketRequest]) -> dict[str, object]:
    """One request as it is; several (eBay chunks, withdraws) as ``calls``."""
    if len(requests) == 1:
        return requests[0].audit()
    return {"calls": [request.audit() for request in requests]}


def woot_key(planned: PlannedAction, at: datetime) -> str:
    """``tenants/{t}/channels/{channel}/updates/{day}/{action_id}.csv``."""
    day = at.date().isoformat()
    return (
        f"tenants/{planned.tenant_id}/channels/{planned.channel}/updates/{day}/"
        f"{planned.action_id}.csv"
    )


@dataclass
class Marketplaces:
    amazon: AmazonClient
    ebay: EbayClient
    store: ObjectStore
    amazon_endpoint: str
    ebay_endpoint: str

    def planned_requests(
        self, planned: PlannedAction, change: Change, account: AccountConfig, at: datetime
    ) -> list[MarketRequest]:
        if planned.plugin == "amazon":
            seller = account.seller_id or "{seller_id}"
            marketplace = account.marketplace_id or "{marketplace_id}"
            return [amazon_request(self.amazon_endpoint, seller, marketplace, change)]
        if planned.plugin == "ebay":
            return ebay_requests(self.ebay_endpoint, change, [])
        return [woot_request(woot_key(planned, at), change)]

    async def perform(
        self,
        planned: PlannedAction,
        change: Change,
        request: Mapping[str, object],
        account: AccountConfig,
        credentials: Mapping[str, str],
    ) -> Performed:
        """Send the action's requests (the stored ``request`` for Amazon and Woot, so a
        retry sends what the first attempt planned)."""
        if planned.plugin == "amazon":
            sent = MarketRequest(str(request["method"]), str(request["url"]), request.get("body"))
            answer = await self.amazon.send(sent, account.seller_id or "", credentials)
            return Performed([sent], answer.text)
        if planned.plugin == "ebay":
            offer_ids = await self.ebay.offer_ids(change.sku, credentials)
            requests = ebay_requests(self.ebay_endpoint, change, offer_ids)
            answers = [await self.ebay.send(r, credentials) for r in requests]
            text = json.dumps([a.body for a in answers]) if len(answers) > 1 else answers[0].text
            return Performed(requests, answer_text(text))
        key, body = str(request["url"]), str(request["body"])
        await self.store.put_bytes(key, body.encode(), content_type="text/csv")
        return Performed([MarketRequest("PUT", key, body)], f"written {key}", artifact_key=key)
