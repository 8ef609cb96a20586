"""A vendor's ``inbound`` section: where its feeds come from.

```yaml
inbound: {type: s3, s3_prefix: ..., watch: true}           # drops into the bucket (default)
inbound:                                                   # pulled over HTTPS
  type: https
  url: https://vendor.example/feeds/stock.csv
  auth: {type: basic, username: acme, password: s3cret}    # or {type: bearer, token: ...}
                                          # or {type: header, name: X-Api-Key, value: ...}
  schedule: "0 */2 * * *"                                  # cron, tenant timezone, >= 5 min apart
inbound:                                                   # pulled over SFTP
  type: sftp
  host: sftp.vendor.example
  port: 22
  path: /outgoing/stock.csv                                # one file, or
  glob: /outgoing/*.csv                                    #   every matching file of one folder
  username: acme
  password: s3cret                                         # or private_key: "-----BEGIN ..."
  known_host_key: "ssh-ed25519 AAAAC3Nza..."               # the server's public key, required
  schedule: "15 6 * * *"
```

The secrets (:data:`INBOUND_SECRET_PATHS`: ``auth.password``, ``auth.token``, ``auth.value``,
``password``, ``private_key``) are sealed by the gateway before a version is stored and shown
as ``***``; ingest opens them (:mod:`relay_shared.secrets_box`).

Refused at config time, each with its path: a URL that is not ``https://host/...`` (or carries
credentials in it), a cron that is no cron or fires more often than every 5 minutes, an SFTP
path or glob that is not absolute or has a ``.``/``..`` part or a wildcard in its folder, a
``known_host_key`` that is not an OpenSSH public key line, and fields of another type (an
``https`` vendor with ``host``, an ``s3`` vendor with ``schedule``...).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Final, Literal
from urllib.parse import urlsplit

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import load_ssh_public_key
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from relay_shared.tenant_config.bounds import Text
from relay_shared.tenant_config.schedule import CronText, cron_problem

#: A sealed secret is longer than its plaintext (a 4096-bit RSA key is about 3.3 kB).
SecretText = Annotated[str, StringConstraints(min_length=1, max_length=16_384)]
HeaderName = Annotated[
    str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
]
#: Where a secret lies inside a vendor's ``inbound`` section.
INBOUND_SECRET_PATHS: Final[tuple[tuple[str, ...], ...]] = (
    ("auth", "password"),
    ("auth", "token"),
    ("auth", "value"),
    ("password",),
    ("private_key",),
)
_FIELDS_OF_TYPE: Final[Mapping[str, frozenset[str]]] = {
    "s3": frozenset({"type", "s3_prefix", "watch"}),
    "https": frozenset({"type", "url", "auth", "schedule"}),
    "sftp": frozenset(
        {
            "type",
            "host",
            "port",
            "path",
            "glob",
            "username",
            "password",
            "private_key",
            "known_host_key",
            "schedule",
        }
    ),
}
_AUTH_FIELDS: Final[Mapping[str, tuple[str, ...]]] = {
    "basic": ("username", "password"),
    "bearer": ("token",),
    "header": ("name", "value"),
}


class HttpsAuth(BaseModel):
    """How a pull authenticates: ``basic`` (username, password), ``bearer`` (token) or
    ``header`` (name, value)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["basic", "bearer", "header"]
    username: Text | None = None
    password: SecretText | None = None
    token: SecretText | None = None
    name: HeaderName | None = None
    value: SecretText | None = None


class InboundConfig(BaseModel):
    """Where a vendor's feeds come from (module docstring). Which fields a type takes is
    checked by :func:`inbound_problems` (so each problem has its own path)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["s3", "https", "sftp"] = "s3"
    s3_prefix: Text | None = None
    watch: bool = False
    url: Annotated[str, StringConstraints(max_length=2048)] | None = None
    auth: HttpsAuth | None = None
    host: Annotated[str, StringConstraints(min_length=1, max_length=253)] | None = None
    port: int = Field(default=22, ge=1, le=65535)
    path: Annotated[str, StringConstraints(min_length=1, max_length=1024)] | None = None
    glob: Annotated[str, StringConstraints(min_length=1, max_length=1024)] | None = None
    username: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = None
    password: SecretText | None = None
    private_key: SecretText | None = None
    known_host_key: Annotated[str, StringConstraints(max_length=16_384)] | None = None
    schedule: CronText | None = None

    @field_validator("url")
    @classmethod
    def _https_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError("must be an https:// URL with a host")
        if parts.username is not None or parts.password is not None:
            raise ValueError("must not hold credentials (use auth)")
        return value

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is None:
            return None
        problem = cron_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return " ".join(value.split())

    @field_validator("path", "glob")
    @classmethod
    def _remote_path(cls, value: str | None) -> str | None:
        if value is None:
            return None
        problem = remote_path_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("known_host_key")
    @classmethod
    def _host_key(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            load_ssh_public_key(" ".join(value.split()[:2]).encode())
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:  # cryptography's refusals
            raise ValueError(
                "must be an OpenSSH public key line (ssh-ed25519|ecdsa-sha2-*|ssh-rsa AAAA...)"
            ) from exc
        return value

    @property
    def pulled(self) -> bool:
        """True for the types ingest fetches on a schedule (``https``, ``sftp``)."""
        return self.type in {"https", "sftp"}

    @property
    def folder(self) -> str:
        """The SFTP folder a pull reads (the parent of ``path`` or ``glob``)."""
        return posixpath.dirname(self.path or self.glob or "/")


def remote_path_problem(value: str) -> str | None:
    """Why an SFTP ``path``/``glob`` is refused (None when it is acceptable): absolute, no
    ``.``/``..`` or empty part, no control character, wildcards only in the file name."""
    if not value.startswith("/"):
        return "must be an absolute path (starting with /)"
    parts = value[1:].split("/")
    if any(part in {"", ".", ".."} for part in parts):
        return "must not have '.', '..' or empty parts (it may not leave its folder)"
    if any(ord(char) < 32 for char in value):
        return "must not hold control characters"
    if any(char in part for part in parts[:-1] for char in "*?["):
        return "wildcards are allowed in the file name only"
    return None


def inbound_problems(path: str, inbound: InboundConfig) -> list[tuple[str, str]]:
    """(path, message) for each field ``inbound``'s type does not take or needs and lacks."""
    set_fields = inbound.model_fields_set - {"type"}
    problems = [
        (f"{path}.{name}", f"is not a field of type {inbound.type}")
        for name in sorted(set_fields - _FIELDS_OF_TYPE[inbound.type])
    ]
    if inbound.type == "https":
        problems += _missing(path, inbound, ("url", "schedule"))
        if inbound.auth is not None:
            problems += _auth_problems(f"{path}.auth", inbound.auth)
    elif inbound.type == "sftp":
        problems += _missing(path, inbound, ("host", "username", "known_host_key", "schedule"))
        problems += _one_of(path, inbound, ("path", "glob"))
        problems += _one_of(path, inbound, ("password", "private_key"))
    return problems


def _missing(path: str, model: BaseModel, names: tuple[str, ...]) -> list[tuple[str, str]]:
    return [
        (f"{path}.{name}", f"is required for type {getattr(model, 'type', '')}")
        for name in names
        if getattr(model, name) is None
    ]


def _one_of(path: str, model: BaseModel, names: tuple[str, str]) -> list[tuple[str, str]]:
    given = [name for name in names if getattr(model, name) is not None]
    if len(given) == 1:
        return []
    return [(f"{path}.{names[0]}", f"exactly one of {names[0]} or {names[1]} is required")]


def _auth_problems(path: str, auth: HttpsAuth) -> list[tuple[str, str]]:
    wanted = _AUTH_FIELDS[auth.type]
    problems = [
        (f"{path}.{name}", f"is not a field of auth type {auth.type}")
        for name in sorted(auth.model_fields_set - {"type", *wanted})
    ]
    return problems + _missing(path, auth, wanted)


def map_inbound_secrets(
    config: Mapping[str, Any], change: Callable[[str, str, object], object]
) -> dict[str, Any]:
    """A copy of a config document where each vendor's inbound secret that is set becomes
    ``change(vendor_id, dotted path inside inbound, value)``. Anything not shaped like a
    config (validation reports it) is left as it is."""
    vendors = config.get("vendors")
    if not isinstance(vendors, list):
        return dict(config)
    return {**config, "vendors": [_vendor_secrets(vendor, change) for vendor in vendors]}


def _vendor_secrets(vendor: object, change: Callable[[str, str, object], object]) -> object:
    if not isinstance(vendor, dict) or not isinstance(vendor.get("inbound"), dict):
        return vendor
    vendor_id = str(vendor.get("vendor_id", ""))
    inbound = dict(vendor["inbound"])
    for secret in INBOUND_SECRET_PATHS:
        holder = inbound
        for part in secret[:-1]:
            inner = holder.get(part)
            if not isinstance(inner, dict):
                break
            copied = dict(inner)
            holder[part] = copied
            holder = copied
        else:
            if holder.get(secret[-1]) is not None:
                holder[secret[-1]] = change(vendor_id, ".".join(secret), holder[secret[-1]])
    return {**vendor, "inbound": inbound}
