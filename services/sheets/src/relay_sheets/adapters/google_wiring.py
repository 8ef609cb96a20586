"""Building the Google backend from settings (nothing connects until the first request)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.oauth2.service_account import Credentials

from relay_sheets.adapters.database import SheetsDatabase
from relay_sheets.adapters.google_api import GoogleApi
from relay_sheets.adapters.google_backend import GoogleBackend
from relay_sheets.adapters.google_client import BoundedClientManager, RequestLimiter
from relay_sheets.adapters.google_drive import GoogleDrive
from relay_sheets.adapters.google_metrics import GoogleMetrics
from relay_sheets.settings import SheetsSettings

SCOPES = (
    "https://www.googleapis.com/auth/spreadsheets",
    "https://www.googleapis.com/auth/drive",
)


@dataclass(frozen=True)
class GoogleParts:
    limiter: RequestLimiter
    api: GoogleApi
    drive: GoogleDrive
    backend: GoogleBackend


def credentials_from(path: Path) -> Any:
    return Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
        str(path), scopes=list(SCOPES)
    )


def google_parts(
    settings: SheetsSettings, database: SheetsDatabase, metrics: GoogleMetrics | None = None
) -> GoogleParts | None:
    """The Google backend, or None when no service account is configured."""
    path = settings.service_account_file
    if path is None:
        return None
    limiter = RequestLimiter(
        settings.google_requests_per_minute_per_user,
        settings.google_requests_per_minute_per_project,
    )
    manager = BoundedClientManager(
        lambda: credentials_from(path),
        limiter,
        max_attempts=settings.google_max_attempts,
        call_timeout_s=settings.google_call_timeout_s,
        api_url=settings.google_api_url,
        metrics=metrics,
    )
    api = GoogleApi(manager)
    drive = GoogleDrive(api, database)
    return GoogleParts(limiter, api, drive, GoogleBackend(api, drive))
