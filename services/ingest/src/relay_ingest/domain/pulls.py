"""Vendor pulls (``inbound.type`` https or sftp): the pure rules.

- A pulled file is stored at ``tenants/{t}/inbound/{vendor}/{yyyy}/{mm}/{dd}/{pull_id}/raw.{ext}``
  (the same layout as an API upload) and announced like a bucket drop (one ``feed.received``,
  a one-vendor update).
- What was pulled before is remembered per vendor: the https ``ETag``/``Last-Modified`` (sent
  back as ``If-None-Match``/``If-Modified-Since``; a 304 is no new feed) and, for sftp, each
  file's size and modification time (an unchanged file is not fetched again).
- A failure is :class:`PullFailure`: ``transient`` (a connection error, a timeout, HTTP 408,
  429 or 5xx) is retried with backoff (:func:`after_failure`) until the next cron time or
  ``max_attempts``; anything else (401/403/404, a host key mismatch, a redirect to a private
  address, a path leaving its folder, a file over the size limit) waits for the next cron
  time or a new config version. Either way the vendor's status row says what happened.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import posixpath
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from relay_shared.keys import inbound_key
from relay_shared.tenant_config import InboundConfig, TenantConfig

#: A vendor's pull status (column ``status`` of ``ingest.vendor_pulls``).
PullStatus = Literal["pending", "ok", "unchanged", "retrying", "failed"]
PULL = "pull"  # the source recorded with the inbound object
_SAFE_EXT = re.compile(r"^[A-Za-z0-9]{1,10}$")


class PullFailure(Exception):
    """A pull that did not bring a feed: ``code`` for the status row, ``transient`` whether a
    retry before the next cron time may help."""

    def __init__(self, code: str, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.code = code
        self.transient = transient


@dataclass(frozen=True)
class Validators:
    """What the vendor's last good pull saw: https validators and sftp files
    (name → ``size:mtime``)."""

    etag: str | None = None
    last_modified: str | None = None
    files: dict[str, str] | None = None


@dataclass(frozen=True)
class Fetched:
    """One new file stored in the bucket."""

    key: str
    etag: str
    size: int
    last_modified: datetime
    name: str


@dataclass(frozen=True)
class PullRequest:
    """One pull of one vendor's feed: whose, from where (with its opened secrets), what the
    vendor's last good pull saw, when, and the pull's id (part of the stored keys)."""

    tenant_id: str
    vendor_id: str
    inbound: InboundConfig
    secrets: dict[str, str]
    validators: Validators
    now: datetime
    pull_id: str

    @property
    def owner(self) -> tuple[str, str]:
        return self.tenant_id, self.vendor_id


@dataclass(frozen=True)
class PullResult:
    """What a pull brought: the new files (none: nothing changed) and the validators to keep."""

    fetched: list[Fetched]
    validators: Validators


@dataclass(frozen=True)
class Claim:
    """A due vendor one replica holds (``lease_id``) while it pulls."""

    tenant_id: str
    vendor_id: str
    config_version: int
    cron: str
    timezone: str
    attempts: int
    lease_id: str
    validators: Validators


@dataclass(frozen=True)
class PulledVendor:
    """A vendor the config pulls: its kind, source fingerprint and cron."""

    vendor_id: str
    kind: str
    source: str
    cron: str


@dataclass(frozen=True)
class PullsSetting:
    """The vendors a tenant's config pulls (https or sftp, with a cron), as of
    ``config_version``, and the tenant's timezone."""

    tenant_id: str
    config_version: int
    vendors: tuple[PulledVendor, ...]
    timezone: str

    @classmethod
    def of(cls, tenant_id: str, config_version: int, config: TenantConfig) -> PullsSetting:
        vendors = tuple(
            PulledVendor(v.vendor_id, v.inbound.type, source_fingerprint(v.inbound), cron)
            for v in config.vendors
            if v.inbound is not None
            and (cron := v.inbound.schedule) is not None
            and v.inbound.pulled
        )
        return cls(tenant_id, config_version, vendors, config.timezone)


def source_fingerprint(inbound: InboundConfig) -> str:
    """Where the feed comes from, secrets and schedule left out: a change (another URL,
    host, path) forgets the validators of the old source."""
    fields = inbound.model_dump(
        exclude={"schedule", "password", "private_key", "auth"}, exclude_none=True
    )
    if inbound.auth is not None:
        fields["auth"] = {"type": inbound.auth.type, "username": inbound.auth.username}
    text = json.dumps(fields, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def pulled_key(tenant_id: str, vendor_id: str, at: datetime, pull_id: str, name: str) -> str:
    """Where a pulled file is stored (its extension kept when it is a plain one)."""
    ext = posixpath.splitext(name)[1].lstrip(".")
    return inbound_key(tenant_id, vendor_id, at, pull_id, ext if _SAFE_EXT.match(ext) else "dat")


def conditional_headers(validators: Validators) -> dict[str, str]:
    """``If-None-Match`` / ``If-Modified-Since`` from the last good pull."""
    headers: dict[str, str] = {}
    if validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    return headers


def is_transient_status(status: int) -> bool:
    return status in {408, 425, 429} or status >= 500


def is_public_address(address: str) -> bool:
    """False for loopback, private, link-local, multicast, reserved or unspecified
    addresses (and IPv4 ones mapped into IPv6)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def file_stamp(size: int, mtime: int | float | None) -> str:
    return f"{size}:{int(mtime or 0)}"


def child_path(folder: str, name: str) -> str:
    """``folder/name`` for a plain file name a server listed; a name with a ``/`` or that is
    ``.``/``..`` leaves the folder: :class:`PullFailure` ``path_escape``."""
    if not name or "/" in name or "\\" in name or name in {".", ".."} or "\x00" in name:
        raise PullFailure(
            "path_escape", f"{name[:80]!r} is not a file of {folder}", transient=False
        )
    return posixpath.join(folder, name)


def inside_folder(folder: str, resolved: str) -> bool:
    """True when the server's real path of a file lies inside the real path of its folder
    (a symlink pointing elsewhere does not)."""
    folder = folder.rstrip("/") + "/"
    return resolved.startswith(folder) and ".." not in resolved.split("/")


@dataclass(frozen=True)
class RetryPlan:
    status: PullStatus
    next_due_at: datetime
    attempts: int


def after_failure(
    failure: PullFailure,
    attempts: int,
    now: datetime,
    next_cron: datetime,
    base_s: float,
    max_attempts: int,
) -> RetryPlan:
    """When to try again: a transient failure after ``base_s * 2**(attempts-1)`` (while that is
    before the next cron time and ``attempts < max_attempts``); otherwise at the next cron
    time, with the attempts counted afresh."""
    if failure.transient and attempts < max_attempts:
        retry_at = now + timedelta(seconds=base_s * 2 ** max(0, attempts - 1))
        if retry_at < next_cron:
            return RetryPlan("retrying", retry_at, attempts)
    return RetryPlan("failed", next_cron, 0)
