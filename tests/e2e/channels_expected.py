"""What the channels end-to-end test expects at each step, from the scenario's hand-worked
values (:mod:`.channels_scenario`) and the moments the test fixed (order times, the day
travelled to)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import parse_qsl

from tests.e2e.channels_scenario import (
    CHANNELS,
    QUANTITIES,
    REPRICED,
    amazon_price,
    amazon_quantity,
    amazon_request,
    audit_row,
    ebay_request,
    insight,
    reallocation_detail,
    seller,
    slow_detail,
    woot_key,
    woot_request,
)
from tests.support.fake_marketplaces import (
    AMAZON_CREDENTIALS,
    AMAZON_TOKEN,
    EBAY_CREDENTIALS,
    EBAY_TOKEN,
    MARKETPLACE_ID,
    Marketplaces,
    Recorded,
)

Insight = dict[str, Any]


@dataclass
class Moments:
    """The times and triggers the run went through."""

    tenant: str
    listed: date
    ordered_at: datetime
    order_trigger: str
    daily_day: date | None = None
    daily_at: datetime | None = None
    #: channel → when its mugs shipped, and the order.shipped event id that did it
    shipped: dict[str, datetime] = field(default_factory=dict)
    shipped_by: dict[str, str] = field(default_factory=dict)

    @property
    def daily_trigger(self) -> str:
        assert self.daily_day is not None
        return f"daily:{self.tenant}:{self.daily_day.isoformat()}"

    @property
    def daily(self) -> datetime:
        assert self.daily_at is not None
        return self.daily_at


def _sorted(found: list[Insight]) -> list[Insight]:
    return sorted(found, key=lambda i: (i["channel"], i["sku"], i["kind"]))


def _ktl_oos(m: Moments) -> Insight:
    return insight(
        m.tenant, "amazon", "KTL-100", "out_of_stock", m.order_trigger, "open", m.ordered_at,
        {"quantity": 0},
    )  # fmt: skip


def _slow(m: Moments, channel: str, sku: str) -> Insight:
    detail = slow_detail(channel, sku, m.listed)
    return insight(m.tenant, channel, sku, "slow_mover", m.daily_trigger, "open", m.daily, detail)


def _realloc(m: Moments, origin: str, sku: str, opened_by: str, at: datetime) -> Insight:
    detail = reallocation_detail(origin, sku)
    return insight(m.tenant, origin, sku, "reallocation_candidate", opened_by, "open", at, detail)


def expected_ordered_insights(m: Moments) -> list[Insight]:
    """Amazon sold its 3 kettles (its 50 % of 6): out of stock, as of the order."""
    return [_ktl_oos(m)]


def expected_travelled_insights(m: Moments) -> list[Insight]:
    """31 days on: every listing still in stock is a slow mover (listed 31 days before, no
    sale); amazon, out of its kettles, is where ebay's and woot's slow kettles should go."""
    return _sorted(
        [
            _ktl_oos(m),
            _slow(m, "amazon", "MUG-200"),
            *(_slow(m, c, sku) for c in ("ebay", "woot") for sku in ("KTL-100", "MUG-200")),
            *(_realloc(m, c, "KTL-100", m.daily_trigger, m.daily) for c in ("ebay", "woot")),
        ]
    )


def _resolved(found: Insight, at: datetime) -> Insight:
    detail = {**found["detail"], "status_now": "active", "quantity_now": 0}
    return {**found, "status": "resolved", "since": at, "detail": detail}


def expected_live_insights(m: Moments) -> tuple[list[Insight], list[Insight]]:
    """After every channel shipped its mugs (amazon first, then ebay, then woot): each mug
    out of stock; their slow movers resolved; the mug reallocations that amazon's sale opened
    for ebay and woot resolved by their own sales."""
    mug_oos = [
        insight(
            m.tenant, c, "MUG-200", "out_of_stock", m.shipped_by[c], "open", m.shipped[c],
            {"quantity": 0},
        )
        for c in CHANNELS
    ]  # fmt: skip
    still_open = [
        _ktl_oos(m),
        *mug_oos,
        *(_slow(m, c, "KTL-100") for c in ("ebay", "woot")),
        *(_realloc(m, c, "KTL-100", m.daily_trigger, m.daily) for c in ("ebay", "woot")),
    ]
    by_amazon = m.shipped_by["amazon"]
    resolved = [
        *(_resolved(_slow(m, c, "MUG-200"), m.shipped[c]) for c in CHANNELS),
        *(
            _resolved(_realloc(m, c, "MUG-200", by_amazon, m.shipped["amazon"]), m.shipped[c])
            for c in ("ebay", "woot")
        ),
    ]
    return _sorted(still_open), _sorted(resolved)


def _find(found: list[Insight], channel: str, sku: str, kind: str) -> Insight:
    (one,) = [i for i in found if (i["channel"], i["sku"], i["kind"]) == (channel, sku, kind)]
    return one


def _reprice(m: Moments, found: list[Insight], fakes: Marketplaces, channel: str, sku: str) -> Any:
    slow = _find(found, channel, sku, "slow_mover")
    price = REPRICED[(channel, sku)]
    if channel == "amazon":
        request = amazon_request(fakes.amazon_url, m.tenant, sku, amazon_price(price))
    elif channel == "ebay":
        request = ebay_request(fakes.ebay_url, sku, None)
    else:
        key = woot_key(m.tenant, slow["insight_id"], "reprice", m.daily.date())
        request = woot_request(key, sku, "", price, "")
    return audit_row(m.tenant, slow, "reprice", request)


def expected_dry_run_actions(
    m: Moments, found: list[Insight], fakes: Marketplaces
) -> dict[str, list[dict[str, Any]]]:
    """Dry-run: amazon's pause of its kettles, and every slow mover repriced, recorded with
    the exact request (eBay's offer ids are only looked up when sent) and nothing sent."""
    pause = amazon_request(fakes.amazon_url, m.tenant, "KTL-100", amazon_quantity(0))
    return {
        "amazon": [
            audit_row(m.tenant, _find(found, "amazon", "KTL-100", "out_of_stock"), "pause", pause),
            _reprice(m, found, fakes, "amazon", "MUG-200"),
        ],
        "ebay": [_reprice(m, found, fakes, "ebay", sku) for sku in ("KTL-100", "MUG-200")],
        "woot": [_reprice(m, found, fakes, "woot", sku) for sku in ("KTL-100", "MUG-200")],
    }


def live_pauses(m: Moments, found: list[Insight], fakes: Marketplaces) -> dict[str, Any]:
    """Each channel's real pause of its mugs: (channel → audit row)."""
    oos = {c: _find(found, c, "MUG-200", "out_of_stock") for c in CHANNELS}
    key = woot_key(m.tenant, oos["woot"]["insight_id"], "pause", m.shipped["woot"].date())
    offer = {"offerId": "O-MUG-200", "availableQuantity": 0}
    amazon_answer = {"sku": "MUG-200", "status": "ACCEPTED", "submissionId": "sub-MUG-200"}
    ebay_answer = {"responses": [{"offerId": "O-MUG-200", "sku": "MUG-200", "statusCode": 200}]}
    requests_answers = {
        "amazon": (
            amazon_request(fakes.amazon_url, m.tenant, "MUG-200", amazon_quantity(0)),
            json.dumps({**amazon_answer, "issues": []}),
        ),
        "ebay": (ebay_request(fakes.ebay_url, "MUG-200", offer), json.dumps(ebay_answer)),
        "woot": (woot_request(key, "MUG-200", "0", "", "paused"), f"written {key}"),
    }
    return {
        c: audit_row(
            m.tenant, oos[c], "pause", request, outcome="succeeded", answer=answer,
            status_after="paused", artifact_key=key if c == "woot" else None,
        )
        for c, (request, answer) in requests_answers.items()
    }  # fmt: skip


def expected_live_actions(
    m: Moments, found: list[Insight], fakes: Marketplaces, dry_run: dict[str, list[Any]]
) -> dict[str, list[dict[str, Any]]]:
    """The dry-run rows unchanged, and each channel's pause of its mugs, sent."""
    pauses = live_pauses(m, found, fakes)
    return {
        c: sorted([*dry_run[c], pauses[c]], key=lambda r: (r["sku"], r["action"])) for c in CHANNELS
    }


def _seen(recorded: Recorded, auth_header: str) -> tuple[Any, ...]:
    body = recorded.body
    if isinstance(body, str):  # a form (token exchanges)
        body = dict(parse_qsl(body))
    return (recorded.method, recorded.path, recorded.query, body, recorded.headers.get(auth_header))


def marketplace_requests(fakes: Marketplaces) -> dict[str, list[tuple[Any, ...]]]:
    """Every request each fake received: method, path, query, body, its credential header."""
    return {
        "amazon": [_seen(r, "x-amz-access-token") for r in fakes.amazon.requests],
        "ebay": [_seen(r, "authorization") for r in fakes.ebay.requests],
    }


def expected_requests(tenant: str) -> dict[str, list[tuple[Any, ...]]]:
    """The Login with Amazon exchange then the PATCH of the mugs' quantity; eBay's token
    refresh, the offer lookup, then the bulk update of the one offer."""
    amazon_token = {
        "grant_type": "refresh_token",
        "refresh_token": AMAZON_CREDENTIALS["refresh_token"],
        "client_id": AMAZON_CREDENTIALS["lwa_client_id"],
        "client_secret": AMAZON_CREDENTIALS["lwa_client_secret"],
    }
    ebay_token = {
        "grant_type": "refresh_token",
        "refresh_token": EBAY_CREDENTIALS["refresh_token"],
        "scope": "https://api.ebay.com/oauth/api_scope/sell.inventory",
    }
    basic = "Basic UmVsYXktQXBwLVBSRDpQUkQtZWI0eS1zM2NyZXQ="  # Relay-App-PRD:PRD-eb4y-s3cret
    bearer = f"Bearer {EBAY_TOKEN}"
    patch = {"productType": "PRODUCT", "patches": [amazon_quantity(0)]}
    bulk = ebay_request("", "MUG-200", {"offerId": "O-MUG-200", "availableQuantity": 0})["body"]
    items = f"/listings/2021-08-01/items/{seller(tenant)}/MUG-200"
    inventory = "/sell/inventory/v1"
    return {
        "amazon": [
            ("POST", "/auth/o2/token", {}, amazon_token, None),
            ("PATCH", items, {"marketplaceIds": MARKETPLACE_ID}, patch, AMAZON_TOKEN),
        ],
        "ebay": [
            ("POST", "/identity/v1/oauth2/token", {}, ebay_token, basic),
            ("GET", f"{inventory}/offer", {"sku": "MUG-200"}, None, bearer),
            ("POST", f"{inventory}/bulk_update_price_quantity", {}, bulk, bearer),
        ],
    }


def channel_quantities_after(channel: str) -> dict[str, int]:
    """What each channel holds at the end: amazon sold its kettles, everyone their mugs."""
    kettles = 0 if channel == "amazon" else QUANTITIES[(channel, "KTL-100")]
    return {"KTL-100": kettles, "MUG-200": 0}
