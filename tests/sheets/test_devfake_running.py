"""The development fake Google served from a thread (``relay up/demo --google-fake``): the
service account it writes authenticates against it with the real google-auth client, and
``env_with_google_fake`` gives the services exactly its two variables."""

from __future__ import annotations

from pathlib import Path

from google.auth.transport.requests import Request
from google.oauth2.service_account import Credentials

from relay_cli.google_fake import env_with_google_fake, google_sheets_section
from relay_sheets.devfake.running import DRIVE_ID_FILE, FakeGoogleThread

SCOPES = ["https://www.googleapis.com/auth/spreadsheets"]


def test_the_generated_service_account_gets_a_token_from_the_fake(tmp_path: Path) -> None:
    with FakeGoogleThread(tmp_path / "google") as google:
        credentials = Credentials.from_service_account_file(
            str(google.service_account_file), scopes=SCOPES
        )
        credentials.refresh(Request())
        token_requests = google.call(
            lambda: [(r.path, r.status) for r in google.fake.log if r.kind == "token"]
        )
        drive_id = (tmp_path / "google" / DRIVE_ID_FILE).read_text().strip()
        shared = google.call(lambda: sorted(google.fake.shared_drives))

    assert str(credentials.token).startswith("ya29.fake-")
    assert token_requests == [("/token", 200)]
    assert shared == [drive_id] == [google.drive_id]


def test_env_with_the_fake_points_the_services_at_it(tmp_path: Path) -> None:
    lines: list[str] = []
    base = {"APP_NATS_URL": "nats://127.0.0.1:4222"}

    with env_with_google_fake(False, tmp_path, base, lines.append) as env:
        assert env == base
    with env_with_google_fake(True, tmp_path, base, lines.append) as env:
        url = env["APP_GOOGLE_API_URL"]
        assert env == {
            **base,
            "APP_SERVICE_ACCOUNT_FILE": str(tmp_path / "google-fake" / "service-account.json"),
            "APP_GOOGLE_API_URL": url,
        }
        drive_id = (tmp_path / "google-fake" / DRIVE_ID_FILE).read_text().strip()

    assert url.startswith("http://127.0.0.1:")
    assert lines == [
        f"google    {url}  (development fake, in memory; shared drive {drive_id}; "
        f"service account {tmp_path / 'google-fake' / 'service-account.json'})"
    ]
    assert google_sheets_section(drive_id) == {
        "backend": "google",
        "google": {"shared_drive_id": drive_id, "share_with": []},
    }
