"""The gateway's answers as the operator CLI reads them (spec: gateway-api.md), parsed from
JSON into frozen dataclasses. Only the HTTP contract is relied on: nothing here imports the
gateway's code (the run states are the contract's, from :mod:`relay_shared.run_states`), so the
CLI works against any deployed gateway of this API version."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from relay_shared.run_states import TERMINAL, RunError

T = TypeVar("T")

#: A vendor's status once its feed went through normalize (``pending`` before).
VENDOR_DONE = frozenset({"ok", "failed", "skipped", "missing", "unchanged"})


class UnexpectedAnswerError(ValueError):
    """The gateway's body lacks a field this client needs (not a gateway of this API)."""


@dataclass(frozen=True)
class VendorProgress:
    status: str
    rows: int
    accepted: int
    rejected: int
    duplicates: int


@dataclass(frozen=True)
class RunSnapshot:
    """One ``GET /v1/runs/{run_id}`` answer."""

    run_id: str
    tenant_id: str
    status: str
    stage: str
    config_version: int
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    vendors: Mapping[str, VendorProgress]
    merged_rows: int | None
    skus_left_out: int | None
    error: RunError | None

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    def seconds(self) -> float | None:
        """From request to finish (None while the run is under way)."""
        if self.finished_at is None:
            return None
        return (self.finished_at - self.requested_at).total_seconds()


@dataclass(frozen=True)
class ArtifactLink:
    name: str
    key: str
    size: int
    url: str
    expires_at: datetime


@dataclass(frozen=True)
class RunPage:
    runs: list[RunSnapshot]
    next_cursor: str | None


_MALFORMED = (KeyError, TypeError, ValueError, AttributeError)


def documented(what: str, build: Callable[[], T]) -> T:
    """``build()``, whose KeyError/TypeError/ValueError (a body not as the spec documents
    it) becomes UnexpectedAnswerError naming ``what``."""
    try:
        return build()
    except _MALFORMED as exc:
        raise UnexpectedAnswerError(f"{what} is not as documented: {exc!r}") from exc


def _time(value: Any) -> datetime:
    if value is None:
        raise ValueError("a time is missing")
    return datetime.fromisoformat(str(value))


def _optional_time(value: Any) -> datetime | None:
    return None if value is None else _time(value)


def parse_run(body: Mapping[str, Any]) -> RunSnapshot:
    """A run resource; UnexpectedAnswerError when a field is missing or of the wrong type."""
    return documented("the run", lambda: _run(body))


def _run(body: Mapping[str, Any]) -> RunSnapshot:
    counts, error = body["counts"], body["error"]
    return RunSnapshot(
        run_id=str(body["run_id"]),
        tenant_id=str(body["tenant_id"]),
        status=str(body["status"]),
        stage=str(body["stage"]),
        config_version=int(body["config_version"]),
        requested_at=_time(body["requested_at"]),
        started_at=_optional_time(body.get("started_at")),
        finished_at=_optional_time(body.get("finished_at")),
        vendors={
            vendor_id: VendorProgress(
                status=str(v["status"]),
                rows=int(v["rows"]),
                accepted=int(v["accepted"]),
                rejected=int(v["rejected"]),
                duplicates=int(v["duplicates"]),
            )
            for vendor_id, v in sorted(body["vendors"].items())
        },
        merged_rows=counts.get("merged_rows"),
        skus_left_out=counts.get("skus_left_out"),
        error=None
        if error is None
        else RunError(str(error["code"]), str(error["message"]), error.get("report_key")),
    )


def parse_run_page(body: Mapping[str, Any]) -> RunPage:
    runs, cursor = documented("the run list", lambda: (body["runs"], body.get("next_cursor")))
    return RunPage([parse_run(run) for run in runs], cursor)


def parse_artifacts(body: Mapping[str, Any]) -> list[ArtifactLink]:
    return documented(
        "the artifact list",
        lambda: [
            ArtifactLink(
                name=str(item["name"]),
                key=str(item["key"]),
                size=int(item["size"]),
                url=str(item["url"]),
                expires_at=_time(item["expires_at"]),
            )
            for item in body["artifacts"]
        ],
    )
