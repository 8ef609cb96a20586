"""The bounded Google client against the fake: gspread-asyncio's retry-forever loop is
replaced, so a Google that keeps failing ends in a transient error after a bounded number of
attempts, and a refusal (no shared drive: 403 storageQuotaExceeded) is permanent at once."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from relay_shared.errors import PermanentError, TransientError
from relay_sheets.adapters.google_api import FOLDER_MIME, SHEETS_MIME, GoogleApi
from relay_sheets.adapters.google_client import BoundedClientManager, RequestLimiter
from relay_sheets.adapters.google_wiring import credentials_from
from relay_sheets.devfake.google import FakeGoogle, Quotas, fake_google
from relay_sheets.devfake.model import FOLDER, DriveFile


@pytest.fixture
async def fake() -> AsyncIterator[FakeGoogle]:
    async with fake_google(Quotas(per_user=3, per_project=300, window_s=1.0)) as running_fake:
        yield running_fake


def client(fake: FakeGoogle, folder: Path, per_user: int = 60) -> tuple[GoogleApi, RequestLimiter]:
    account = fake.write_service_account(folder / "sa.json")
    limiter = RequestLimiter(per_user, 300)
    manager = BoundedClientManager(
        lambda: credentials_from(account),
        limiter,
        max_attempts=3,
        call_timeout_s=5,
        api_url=fake.url,
    )
    return GoogleApi(manager), limiter


async def test_a_google_that_keeps_failing_ends_in_a_transient_error_after_3_attempts(
    fake: FakeGoogle, tmp_path: Path
) -> None:
    api, _ = client(fake, tmp_path)
    drive = fake.add_shared_drive()
    book = await api.create_file("Inventory – amazon", drive, SHEETS_MIME)
    fake.fail_next(503, 100)
    started = time.monotonic()

    with pytest.raises(TransientError, match="Google kept failing after 3 attempts"):
        await api.metadata(book)

    assert 3.0 <= time.monotonic() - started < 10.0  # waited 2^0 + j, then 2^1 + j
    assert [r.status for r in fake.requests("sheets-read")] == [503, 503, 503]


async def test_a_file_outside_a_shared_drive_is_refused_permanently_without_retries(
    fake: FakeGoogle, tmp_path: Path
) -> None:
    api, _ = client(fake, tmp_path)
    fake.files["root"] = DriveFile("root", "My Drive", FOLDER, [], None)  # not a shared drive

    with pytest.raises(PermanentError) as raised:
        await api.create_file("Relay – Acme", "root", FOLDER_MIME)

    assert raised.value.code == "google_permission_denied"
    assert "storageQuotaExceeded" in raised.value.message
    assert len(fake.requests("drive")) == 1


async def test_429s_are_backed_off_and_every_call_lands(fake: FakeGoogle, tmp_path: Path) -> None:
    api, limiter = client(fake, tmp_path)  # 60/min on our side, the fake allows 3 a second
    drive = fake.add_shared_drive()
    book = await api.create_file("Inventory – ebay", drive, SHEETS_MIME)

    for _ in range(6):
        await api.metadata(book)

    statuses = [r.status for r in fake.requests("sheets-read")]
    assert statuses.count(200) == 6
    assert statuses.count(429) == limiter.refused
    assert limiter.refused >= 1
