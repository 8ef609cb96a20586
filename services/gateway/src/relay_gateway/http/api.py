"""Every route of the API, in the order the OpenAPI document lists them."""

from __future__ import annotations

from relay_gateway.http import (
    channel_actions,
    config,
    config_history,
    explain,
    health,
    history,
    insights,
    listings,
    orders,
    previews,
    pulls,
    reallocation,
    runs,
    schemas,
    sheets,
    tenants,
    uploads,
    webhooks,
)
from relay_gateway.http.routing import Route

ROUTES: list[Route] = [
    *health.ROUTES,
    *tenants.ROUTES,
    *config.ROUTES,
    *config_history.ROUTES,
    *previews.ROUTES,
    *uploads.ROUTES,
    *runs.ROUTES,
    *explain.ROUTES,
    *history.ROUTES,
    *webhooks.ROUTES,
    # the reallocation list is served from reallocation.changed (http/reallocation.py)
    *(route for route in insights.ROUTES if route.path != reallocation.PATH),
    *listings.ROUTES,
    *orders.ROUTES,
    *reallocation.ROUTES,
    *channel_actions.ROUTES,
    *sheets.ROUTES,
    *schemas.ROUTES,
    *pulls.ROUTES,
]
