"""SFTP pulls (asyncssh): the configured file, or every file of one folder matching a glob,
that changed (size or mtime) since the last good pull, each streamed into the bucket.

- The server must present ``known_host_key`` (the only trusted key; no known_hosts file, no
  agent): any other key is ``host_key_mismatch``, permanent, and no credential is sent.
- A listed name with a ``/`` or that is ``.``/``..``, or a file whose real path (symlinks
  followed by the server) lies outside the configured folder, is ``path_escape``, permanent.
- A file over ``max_bytes`` is refused from its size before a byte is read, and again while
  streaming (``too_large``).
"""

from __future__ import annotations

import asyncio
import fnmatch
import posixpath
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncssh

from relay_ingest.adapters.pull_sink import PullSink, TooLargeError
from relay_ingest.domain.pulls import (
    Fetched,
    PullFailure,
    PullRequest,
    PullResult,
    Validators,
    child_path,
    file_stamp,
    inside_folder,
    pulled_key,
)
from relay_shared.tenant_config import InboundConfig

CHUNK = 256 * 1024
#: The most files one pull fetches (the oldest changed first; the rest next time).
MAX_FILES = 50


@dataclass(frozen=True)
class _RemoteFile:
    name: str
    path: str
    size: int
    stamp: str
    mtime: float


@dataclass(frozen=True)
class SftpSource:
    sink: PullSink
    timeout_s: float
    max_bytes: int

    async def pull(self, request: PullRequest) -> PullResult:
        inbound = request.inbound
        try:
            async with asyncio.timeout(self.timeout_s):
                async with (
                    asyncssh.connect(**_options(inbound, request.secrets)) as conn,
                    conn.start_sftp_client() as sftp,
                ):
                    files = await _listing(sftp, inbound)
                    return await self._fetch(
                        sftp,
                        files,
                        request.validators,
                        request.owner,
                        request.now,
                        request.pull_id,
                    )
        except asyncssh.HostKeyNotVerifiable as exc:
            raise PullFailure(
                "host_key_mismatch",
                f"{inbound.host} did not present the configured known_host_key",
                transient=False,
            ) from exc
        except asyncssh.KeyImportError as exc:
            raise PullFailure(
                "invalid_key", "private_key is no usable (unencrypted) key", transient=False
            ) from exc
        except asyncssh.PermissionDenied as exc:
            raise PullFailure(
                "auth_failed", "the server refused the credentials", transient=False
            ) from exc
        except (asyncssh.SFTPNoSuchFile, asyncssh.SFTPPermissionDenied) as exc:
            raise PullFailure("not_found", f"{exc.reason[:200]}", transient=False) from exc
        except (asyncssh.Error, OSError, TimeoutError) as exc:
            raise PullFailure("unreachable", repr(exc)[:300], transient=True) from exc

    async def _fetch(
        self,
        sftp: asyncssh.SFTPClient,
        files: list[_RemoteFile],
        validators: Validators,
        owner: tuple[str, str],
        now: datetime,
        pull_id: str,
    ) -> PullResult:
        seen = dict(validators.files or {})
        changed = [f for f in files if seen.get(f.name) != f.stamp][:MAX_FILES]
        fetched: list[Fetched] = []
        for index, remote in enumerate(changed):
            if remote.size > self.max_bytes:
                raise _too_large(remote.name, self.max_bytes)
            key = pulled_key(*owner, now, f"{pull_id}-{index}", remote.name)
            try:
                stored = await self.sink.put(
                    key, _chunks(sftp, remote.path), "application/octet-stream", self.max_bytes
                )
            except TooLargeError as exc:
                raise _too_large(remote.name, self.max_bytes) from exc
            fetched.append(Fetched(key, stored.etag, stored.size, now, remote.name))
            seen[remote.name] = remote.stamp
        current = {f.name for f in files}
        kept = {name: stamp for name, stamp in seen.items() if name in current}
        return PullResult(fetched, Validators(files=kept))


def _options(inbound: InboundConfig, secrets: dict[str, str]) -> dict[str, Any]:
    if inbound.host is None or inbound.known_host_key is None:  # refused at config time
        raise PullFailure(
            "invalid_config", "an sftp inbound needs a host and a known_host_key", transient=False
        )
    host_key = asyncssh.import_public_key(inbound.known_host_key)
    private_key = secrets.get("private_key")
    return {
        "host": inbound.host,
        "port": inbound.port,
        "username": inbound.username,
        "known_hosts": ([host_key], [], []),
        "password": secrets.get("password"),
        "client_keys": [asyncssh.import_private_key(private_key)] if private_key else (),
        "agent_path": None,
        "config": (),
        "connect_timeout": 30,
    }


async def _listing(sftp: asyncssh.SFTPClient, inbound: InboundConfig) -> list[_RemoteFile]:
    """The files to consider, oldest first, each checked to lie in the configured folder."""
    folder = inbound.folder
    if inbound.path is not None:
        names = [posixpath.basename(inbound.path)]
    else:
        pattern = posixpath.basename(inbound.glob or "")
        names = [
            str(entry.filename)
            for entry in await sftp.readdir(folder)
            if fnmatch.fnmatchcase(str(entry.filename), pattern)
            and str(entry.filename) not in {".", ".."}
        ]
    real_folder = await sftp.realpath(folder)
    found: list[_RemoteFile] = []
    for name in names:
        path = child_path(folder, name)
        resolved = await sftp.realpath(path)
        if not inside_folder(str(real_folder), str(resolved)):
            raise PullFailure(
                "path_escape", f"{path[:200]} leads outside {folder}", transient=False
            )
        attrs = await sftp.stat(path)
        if attrs.type != asyncssh.FILEXFER_TYPE_REGULAR and inbound.glob is not None:
            continue
        size = int(attrs.size or 0)
        found.append(_RemoteFile(name, path, size, file_stamp(size, attrs.mtime), attrs.mtime or 0))
    return sorted(found, key=lambda f: (f.mtime, f.name))


async def _chunks(sftp: asyncssh.SFTPClient, path: str) -> AsyncIterator[bytes]:
    async with sftp.open(path, "rb") as handle:
        while chunk := await handle.read(CHUNK):
            yield chunk if isinstance(chunk, bytes) else chunk.encode()


def _too_large(name: str, max_bytes: int) -> PullFailure:
    return PullFailure(
        "too_large", f"{name[:100]} is larger than {max_bytes} bytes", transient=False
    )
