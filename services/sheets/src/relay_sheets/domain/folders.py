"""Names of a tenant's folders (both backends): the root "Relay – <tenant name>" and one
folder per channel, named as the channel; and what a folder's sharing needs when
``sheets.google.share_with`` changes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

ROOT_FOLDER_PREFIX = "Relay – "
#: Characters a file system or Drive query should never see in a folder name from a tenant.
_UNSAFE = str.maketrans({c: " " for c in '/\\:*?"<>|\x00'})


def root_folder_name(tenant_name: str) -> str:
    cleaned = " ".join(tenant_name.translate(_UNSAFE).split())[:120]
    return f"{ROOT_FOLDER_PREFIX}{cleaned or 'tenant'}"


def channel_folder_name(channel: str) -> str:
    return channel


@dataclass(frozen=True)
class SharingChange:
    """What a folder's permissions need so that its Relay-granted writers are ``wanted``."""

    add: tuple[str, ...]
    revoke: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.add or self.revoke)


def _addresses(emails: Iterable[str]) -> dict[str, str]:
    """Lower-cased address → as written (Drive compares addresses case-insensitively)."""
    return {email.strip().lower(): email.strip() for email in emails if email.strip()}


def sharing_change(granted: Iterable[str], wanted: Iterable[str]) -> SharingChange:
    """Addresses of ``wanted`` not yet granted are added; addresses Relay granted that are no
    longer wanted are revoked (only those: an address the merchant shared the folder with
    by hand was never granted by Relay and is left alone)."""
    had, want = _addresses(granted), _addresses(wanted)
    return SharingChange(
        add=tuple(want[k] for k in sorted(want.keys() - had.keys())),
        revoke=tuple(had[k] for k in sorted(had.keys() - want.keys())),
    )
