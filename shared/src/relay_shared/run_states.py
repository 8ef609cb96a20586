"""A run's statuses and stages, and its error, as the API shows them (spec: gateway-api.md,
``GET /v1/runs/{run_id}``): one vocabulary for the gateway that moves them and the operator
CLI that reads them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

QUEUED: Final = "QUEUED"
RUNNING: Final = "RUNNING"
SUCCEEDED: Final = "SUCCEEDED"
FAILED: Final = "FAILED"
STATUSES: Final = (QUEUED, RUNNING, SUCCEEDED, FAILED)
TERMINAL: Final = frozenset({SUCCEEDED, FAILED})
#: The run's stages in order.
STAGES: Final = ("queued", "ingest", "normalize", "merge", "price", "publish", "done")


@dataclass(frozen=True)
class RunError:
    """Why a run failed: the error code, its message and the report that names the rows."""

    code: str
    message: str
    report_key: str | None
