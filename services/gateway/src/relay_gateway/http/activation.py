"""Guarded activation (``PUT …/config?require_preview={id}[&force=true]``): the config put
must be the one the preview ran, the preview must have succeeded, and its diff must stay
within the current config's ``guard`` (:mod:`relay_gateway.domain.config_guard`), or the put
is refused with 409 naming the numbers. ``force=true`` (the route is the owner's) activates
it anyway and the version records that it was forced. Without ``require_preview`` a put is
not guarded.

Decisions: the guard is the *current* config's (the one in force protects the feed; a new
config cannot relax its own check), or the proposed config's when the tenant has none yet;
the configs are compared with their secrets masked (sealing is not deterministic, and
secrets do not change the feed).
"""

from __future__ import annotations

from typing import Any

from relay_gateway.adapters.tenants import Provenance
from relay_gateway.domain import config_documents
from relay_gateway.domain.config_guard import guard_breaches, measured
from relay_gateway.http.access import Call
from relay_gateway.http.errors import ConflictError, UnprocessableError
from relay_gateway.http.preview_lookup import preview_report, tenant_preview
from relay_shared.tenant_config import ConfigError, ConfigProblem, GuardConfig

REQUIRE_PREVIEW = "require_preview"
_TRUE, _FALSE = ("true", "1"), ("false", "0")


async def activation_provenance(call: Call, document: dict[str, Any]) -> Provenance:
    """How the put config is activated; raises 409 when its preview does not allow it."""
    preview_id = call.request.query.get(REQUIRE_PREVIEW)
    if preview_id is None:
        return Provenance()
    force = _force(call.request.query.get("force"))
    run = await tenant_preview(call.context, call.tenant.tenant_id, preview_id)
    previewed = await call.context.tenants.config(call.tenant.tenant_id, run.config_version)
    if previewed is None or _masked(previewed.config) != _masked(document):
        raise ConflictError(
            "this config is not the one the preview ran", code="preview_config_differs"
        )
    report = await preview_report(call.context, run)
    if report is None:
        raise ConflictError(
            f"the preview is {run.progress.status}, not SUCCEEDED", code="preview_not_ready"
        )
    breaches = guard_breaches(await _guard(call, document), report.diff)
    if breaches and not force:
        raise ConflictError(
            "the preview exceeds the config's guard: " + "; ".join(map(str, breaches)),
            code="guard_exceeded",
            details={
                "breaches": [
                    {"limit": b.limit, "allowed": str(b.allowed), "actual": str(b.actual)}
                    for b in breaches
                ],
                "measured": {name: str(value) for name, value in measured(report.diff).items()},
            },
        )
    return Provenance(preview_id=preview_id, forced=bool(breaches))


async def _guard(call: Call, document: dict[str, Any]) -> GuardConfig | None:
    current = await call.context.tenants.config(call.tenant.tenant_id)
    try:
        return config_documents.stored_config(document if current is None else current.config).guard
    except ConfigError:
        return config_documents.stored_config(document).guard


def _force(raw: str | None) -> bool:
    if raw is None or raw.lower() in _FALSE:
        return False
    if raw.lower() in _TRUE:
        return True
    problem = ConfigProblem("force", "must be true or false")
    raise UnprocessableError("the query is not valid", [problem])


def _masked(document: dict[str, Any]) -> dict[str, Any]:
    masked = config_documents.redact(document)
    masked.pop("config_version", None)
    return masked
