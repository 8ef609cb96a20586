"""Every route of the API, in the order the OpenAPI document lists them."""

from __future__ import annotations

from relay_gateway.http import config, health, insights, runs, tenants, uploads, webhooks
from relay_gateway.http.routing import Route

ROUTES: list[Route] = [
    *health.ROUTES,
    *tenants.ROUTES,
    *config.ROUTES,
    *uploads.ROUTES,
    *runs.ROUTES,
    *webhooks.ROUTES,
    *insights.ROUTES,
]
