"""Names of a tenant's folders (both backends): the root "Relay – <tenant name>" and one
folder per channel, named as the channel."""

from __future__ import annotations

ROOT_FOLDER_PREFIX = "Relay – "
#: Characters a file system or Drive query should never see in a folder name from a tenant.
_UNSAFE = str.maketrans({c: " " for c in '/\\:*?"<>|\x00'})


def root_folder_name(tenant_name: str) -> str:
    cleaned = " ".join(tenant_name.translate(_UNSAFE).split())[:120]
    return f"{ROOT_FOLDER_PREFIX}{cleaned or 'tenant'}"


def channel_folder_name(channel: str) -> str:
    return channel
