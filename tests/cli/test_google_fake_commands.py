"""``relay demo --google-fake`` and ``relay up --google-fake`` as a user runs them: real
processes from the repository root (the embedded stack, every service, the fake Google in a
thread of the command), read back from the fake Google itself."""

from __future__ import annotations

import json
import re
import secrets
import signal
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from google.auth.transport.requests import AuthorizedSession
from google.oauth2.service_account import Credentials
from up_process import UpProcess

from relay_cli.stack import free_port, wait_for_http_ok
from relay_cli.stack.readiness import wait_until

pytestmark = [pytest.mark.stack, pytest.mark.e2e]
T = TypeVar("T")

REPO = Path(__file__).resolve().parents[2]
FOLDER_MIME = "application/vnd.google-apps.folder"
SCOPES = ["https://www.googleapis.com/auth/drive"]
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z")
SHEET_TITLE = re.compile(
    r"^Google spreadsheet Relay – Acme Parts / amazon / Inventory – amazon"
    r" \(fake Google http://127\.0\.0\.1:\d+\):$"
)
#: The amazon spreadsheet after the demo (example tenant, feeds and order): "<now>" is a time
#: of this run (the merged feed's, the order's), every other value exact.
AMAZON_SHEET = [
    "  Listings:",
    "    sku | title | quantity | price | status | listed_date | last_sold_at",
    "    ALT-8001 |  | 0 | 166.99 | active | <now>",
    "    BAT-5001 |  | 0 | 149.99 | active | <now> | 2026-11-22T09:55:00Z",
    "    BRK-1001 |  | 1 | 59.99 | active | <now>",
    "    BRK-1002 |  | 6 | 59.99 | active | <now>",
    "    FLT-2001 |  | 118 | 25.99 | active | <now>",
    "    FLT-2002 |  | 83 | 25.99 | active | <now>",
    "    HSE-7001 |  | 10 | 25.99 | active | <now>",
    "    LMP-6001 |  | 58 | 25.99 | active | <now>",
    "    SPK-3001 |  | 498 | 25.99 | active | <now>",
    "    TIR-9001 |  | 2 | 111.99 | active | <now>",
    "    WPR-4001 |  | 31 | 25.99 | active | <now>",
    "  Orders:",
    "    order_id | sku | quantity | shipped_at",
    "    A-1001 | BAT-5001 | 4 | 2026-11-22T09:55:00Z",
    "  Insights:",
    "    kind | sku | status | since | detail",
    '    out_of_stock | ALT-8001 | open | <now> | {"quantity": 0}',
    '    out_of_stock | BAT-5001 | open | <now> | {"quantity": 0}',
]


def clean_environment(env: dict[str, str]) -> dict[str, str]:
    """No outside stack or Google leaks in (``clean_env`` has no APP_*)."""
    return {**env, "PYTHONUNBUFFERED": "1"}


def masked(line: str, start: datetime, end: datetime) -> str:
    """``line`` with each timestamp between ``start`` and ``end`` shown as ``<now>``."""

    def mask(match: re.Match[str]) -> str:
        moment = datetime.fromisoformat(match.group(0).replace("Z", "+00:00"))
        return "<now>" if start <= moment <= end else match.group(0)

    return TIMESTAMP.sub(mask, line)


def test_demo_shows_the_channel_sheet_from_the_fake_google(
    tmp_path: Path, clean_env: dict[str, str]
) -> None:
    started = datetime.now(UTC) - timedelta(seconds=1)
    done = subprocess.run(
        [sys.executable, "-m", "relay_cli", "demo", "--google-fake", "--out", str(tmp_path)],
        cwd=REPO,
        env=clean_environment(clean_env),
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    ended = datetime.now(UTC) + timedelta(seconds=1)

    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    title = next(i for i, line in enumerate(lines) if SHEET_TITLE.match(line))
    end = lines.index("stopping services and the stack")
    assert [masked(line, started, ended) for line in lines[title + 1 : end]] == AMAZON_SHEET
    assert (tmp_path / "merged_inventory.csv").read_text().splitlines()[0] == (
        "sku,quantity_available,price,vendor_id,updated_at"
    )


def drive_files(url: str, service_account: Path, drive_id: str) -> list[dict[str, Any]]:
    """Every file of the fake's shared drive, listed as Relay's service account."""
    credentials = Credentials.from_service_account_file(str(service_account), scopes=SCOPES)
    session = AuthorizedSession(credentials)
    params = {
        "driveId": drive_id,
        "corpora": "drive",
        "includeItemsFromAllDrives": "true",
        "supportsAllDrives": "true",
    }
    response = session.get(f"{url}/drive/v3/files", params=params, timeout=10)
    response.raise_for_status()
    files: list[dict[str, Any]] = response.json()["files"]
    for file in files:
        permissions = session.get(
            f"{url}/drive/v3/files/{file['id']}/permissions",
            params={"supportsAllDrives": "true"},
            timeout=10,
        )
        permissions.raise_for_status()
        file["shared"] = sorted(
            (p["emailAddress"], p["role"]) for p in permissions.json()["permissions"]
        )
    return files


def request(
    method: str, url: str, key: str, body: bytes, content_type: str
) -> tuple[int, dict[str, Any]]:
    """One call to the gateway as ``key``: the status and the JSON answer."""
    sent = urllib.request.Request(
        url,
        data=body,
        method=method,
        headers={"Authorization": f"Bearer {key}", "Content-Type": content_type},
    )
    with urllib.request.urlopen(sent, timeout=30) as answer:
        return answer.status, json.loads(answer.read())


def test_up_makes_a_new_tenants_folders_on_the_fake_google_and_sigint_stops_it(
    tmp_path: Path, clean_env: dict[str, str]
) -> None:
    port = free_port()
    admin = "rk_test_admin_" + secrets.token_hex(16)
    env = {
        **clean_environment(clean_env),
        "APP_BOOTSTRAP_ADMIN_KEY": admin,
        "APP_SECRET_KEY": secrets.token_hex(32),
    }
    state = tmp_path / "state"
    argv = [sys.executable, "-m", "relay_cli", "up", "--google-fake"]
    argv += ["--state-dir", str(state), "--port", str(port)]
    proc = subprocess.Popen(
        argv, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        up = UpProcess(proc)
        google = up.wait_for_line(
            r"^google    (http://127\.0\.0\.1:\d+)  \(development fake, in memory; shared drive"
            r" (\S+); service account (.+)\)$"
        )
        url, drive_id, service_account = google.group(1), google.group(2), Path(google.group(3))
        up.wait_for_line(r"^ready in \d+\.\d\ds$")
        gateway = f"http://127.0.0.1:{port}"
        wait_for_http_ok(f"{gateway}/v1/ready", timeout=60.0)

        tenant = f"t_{uuid.uuid4().hex[:10]}"
        name = f"Fake Co {tenant}"
        body = {"tenant_id": tenant, "name": name, "channels": ["amazon", "ebay"]}
        status, created = request(
            "POST", f"{gateway}/v1/tenants", admin, json.dumps(body).encode(), "application/json"
        )
        assert status == 201
        config = (
            f"tenant_id: {tenant}\n"
            "vendors:\n"
            "  - vendor_id: v1\n"
            "    parser: {column_map: {sku: SKU, quantity_available: QTY}}\n"
            "pricing: {base_margin_pct: 0.2}\n"
            "channels: {amazon: {}, ebay: {}}\n"
            "sheets:\n"
            "  backend: google\n"
            f"  google: {{shared_drive_id: {drive_id}, share_with: [ops@example.com]}}\n"
        )
        status, answer = request(
            "PUT",
            f"{gateway}/v1/tenants/{tenant}/config",
            created["api_key"],
            config.encode(),
            "application/yaml",
        )
        assert (status, answer["config_version"]) == (201, 1)

        def folders() -> list[tuple[str, str, list[tuple[str, str]]]] | None:
            files = drive_files(url, service_account, drive_id)
            names = {f["id"]: f["name"] for f in files} | {drive_id: "<shared drive>"}
            found = sorted(
                (f["name"], names.get(f["parents"][0], "?"), f["shared"])
                for f in files
                if f["mimeType"] == FOLDER_MIME
            )
            return found if len(found) == 3 else None

        shown = wait_until_value(folders, "the tenant's folders on the fake", timeout=30.0)
        assert shown == [
            (f"Relay – {name}", "<shared drive>", [("ops@example.com", "writer")]),
            ("amazon", f"Relay – {name}", [("ops@example.com", "writer")]),
            ("ebay", f"Relay – {name}", [("ops@example.com", "writer")]),
        ]

        proc.send_signal(signal.SIGINT)
        code, lines, _stderr = up.finish(timeout=60.0)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    assert code == 0
    assert lines[-1] == "stopped"


def wait_until_value(probe: Callable[[], T | None], what: str, timeout: float) -> T:
    """``probe()``'s first value that is not None, polled until ``timeout``."""
    seen: list[T] = []

    def ready() -> bool:
        value = probe()
        if value is not None:
            seen.append(value)
        return value is not None

    wait_until(ready, what=what, timeout=timeout, interval=0.5)
    return seen[0]
