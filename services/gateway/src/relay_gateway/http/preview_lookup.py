"""Finding a tenant's config preview and its report (``preview_report.json``, written by
pricing: :class:`relay_shared.feed_diff.PreviewReport`)."""

from __future__ import annotations

from pydantic import ValidationError

from relay_gateway.adapters.runs import RunView
from relay_gateway.http.context import GatewayContext
from relay_gateway.http.errors import ConflictError, UnknownResourceError
from relay_shared import keys
from relay_shared.errors import NotFoundError
from relay_shared.feed_diff import PreviewReport
from relay_shared.run_states import SUCCEEDED

REPORT, DIFF = "preview_report.json", "preview_diff.csv"


async def tenant_preview(context: GatewayContext, tenant_id: str, preview_id: str) -> RunView:
    """The tenant's preview run ``preview_id``; 404 for anything else (another tenant's,
    or a run that is not a preview)."""
    run = await context.runs.get(preview_id)
    if run is None or run.tenant_id != tenant_id or not run.is_preview:
        raise UnknownResourceError("no such preview", code="unknown_preview")
    return run


async def preview_report(context: GatewayContext, run: RunView) -> PreviewReport | None:
    """The preview's report once it succeeded (None before)."""
    if run.progress.status != SUCCEEDED:
        return None
    key = keys.report_key(run.tenant_id, run.run_id, REPORT)
    try:
        return PreviewReport.model_validate_json(await context.store.get_bytes(key))
    except (NotFoundError, ValidationError) as exc:
        raise ConflictError(
            "the preview's report is missing or unreadable: preview again",
            code="preview_unavailable",
        ) from exc
