"""``--google-fake`` of ``relay up`` and ``relay demo``: the stack's Google is the local
development fake (:mod:`relay_sheets.devfake`), served from a thread of this process.

The fake gets a service account JSON with a key generated for the run and one shared drive,
both under ``<state-dir>/google-fake/`` (``service-account.json``, ``shared-drive-id``); the
services get ``APP_SERVICE_ACCOUNT_FILE`` and ``APP_GOOGLE_API_URL`` pointing at it. A tenant
uses it with ``sheets: {backend: google, google: {shared_drive_id: <that id>}}`` in its
config (``relay demo --google-fake`` puts that in the example tenant's config itself). The
fake keeps its spreadsheets in memory: they are gone after a restart, while the sheets
schema remembers their ids (use a fresh ``--state-dir``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from relay_sheets.devfake.running import FakeGoogleThread

FOLDER = "google-fake"
FLAG_HELP = (
    "run the stack against a local fake of Google Drive/Sheets (development only; "
    "its service account and shared drive id are written under <state-dir>/google-fake)"
)


@contextmanager
def google_fake(state_dir: Path, say: Callable[[str], None]) -> Iterator[FakeGoogleThread]:
    """The fake, started (imported only here: aiohttp's server and a key generation)."""
    from relay_sheets.devfake.running import FakeGoogleThread

    with FakeGoogleThread(state_dir / FOLDER) as google:
        say(
            f"google    {google.url}  (development fake, in memory; shared drive "
            f"{google.drive_id}; service account {google.service_account_file})"
        )
        yield google


@contextmanager
def env_with_google_fake(
    enabled: bool, state_dir: Path, env: Mapping[str, str], say: Callable[[str], None]
) -> Iterator[Mapping[str, str]]:
    """``env`` as it is, or (``enabled``) with the fake's variables while it runs."""
    if not enabled:
        yield env
        return
    with google_fake(state_dir, say) as google:
        yield {**env, **google.env()}


def google_sheets_section(drive_id: str) -> dict[str, Any]:
    """A tenant config's ``sheets`` section for the fake's shared drive."""
    return {"backend": "google", "google": {"shared_drive_id": drive_id, "share_with": []}}
