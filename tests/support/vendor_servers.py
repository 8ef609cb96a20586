"""Real local vendor servers for pull tests: an HTTPS server (aiohttp, a self-signed
certificate made here with ``cryptography``, for ``localhost`` and ``127.0.0.1``) and an SFTP
server (asyncssh's, chrooted in a temporary folder, one user with a password or a key)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """(certificate PEM, key PEM) for ``localhost`` and ``127.0.0.1``, valid for a day; the
    certificate is its own CA (what ``APP_PULL_CA_FILE`` points to)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "vendor-cert.pem", folder / "vendor-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class FeedFile:
    """What the HTTPS server serves at one path."""

    body: bytes
    etag: str
    failures_left: int = 0  # answer 503 this many times first
    token: str | None = None  # a bearer token the request must carry
    headers: dict[str, str] = field(default_factory=dict)  # headers the request must carry
    announced: int | None = None  # a Content-Length to announce (only ``body`` is sent)
    redirect: str | None = None  # answer 302 to this location instead


@dataclass
class VendorHttps:
    """The HTTPS server's files (by path) and every request it got (path, headers)."""

    port: int = 0
    files: dict[str, FeedFile] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def url(self, path: str, host: str = "localhost") -> str:
        return f"https://{host}:{self.port}{path}"

    def requests_to(self, path: str) -> list[dict[str, str]]:
        return [headers for seen, headers in self.requests if seen == path]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append((request.path, dict(request.headers)))
        served = self.files.get(request.path)
        if served is None:
            return web.Response(status=404)
        if served.redirect is not None:
            raise web.HTTPFound(served.redirect)
        if served.token is not None and request.headers.get("Authorization") != (
            f"Bearer {served.token}"
        ):
            return web.Response(status=401)
        if any(request.headers.get(name) != value for name, value in served.headers.items()):
            return web.Response(status=401)
        if served.failures_left > 0:
            served.failures_left -= 1
            return web.Response(status=503, text="busy")
        if request.headers.get("If-None-Match") == served.etag:
            return web.Response(status=304, headers={"ETag": served.etag})
        response = web.StreamResponse(headers={"ETag": served.etag, "Content-Type": "text/csv"})
        if served.announced is not None:
            response.content_length = served.announced
        else:
            response.enable_chunked_encoding()  # no Content-Length: the size shows as it streams
        await response.prepare(request)
        for start in range(0, len(served.body), 64 * 1024):
            await response.write(served.body[start : start + 64 * 1024])
        await response.write_eof()
        return response


@asynccontextmanager
async def vendor_https(cert: Path, key: Path) -> AsyncIterator[VendorHttps]:
    server = VendorHttps()
    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", server.handle)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    server.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield server
    finally:
        await runner.cleanup()


@dataclass(frozen=True)
class VendorSftp:
    port: int
    root: Path
    host_key_line: str  # the server's public key, as known_host_key takes it
    username: str
    password: str
    logins: list[str]  # the user of each password login; "user key <fingerprint>" for a key


class _Server(asyncssh.SSHServer):
    def __init__(
        self, username: str, password: str, logins: list[str], key: asyncssh.SSHKey | None
    ) -> None:
        self._username, self._password, self._logins = username, password, logins
        self._key = key

    def public_key_auth_supported(self) -> bool:
        return self._key is not None

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        authorized = self._key
        ok = (
            authorized is not None
            and username == self._username
            and key.public_data == authorized.public_data
        )
        if ok:
            self._logins.append(f"{username} key {key.get_fingerprint()}")
        return ok

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        ok = (username, password) == (self._username, self._password)
        if ok:
            self._logins.append(username)
        return ok


@asynccontextmanager
async def vendor_sftp(
    root: Path, username: str, password: str, authorized_key: asyncssh.SSHKey | None = None
) -> AsyncIterator[VendorSftp]:
    """An SFTP server whose ``/`` is ``root``; ``logins`` records each accepted login (by
    password, or by ``authorized_key`` when given)."""
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    logins: list[str] = []

    def sftp_factory(channel: Any) -> asyncssh.SFTPServer:
        return asyncssh.SFTPServer(channel, chroot=str(root).encode())

    acceptor = await asyncssh.listen(
        "127.0.0.1",
        0,
        server_host_keys=[host_key],
        server_factory=lambda: _Server(username, password, logins, authorized_key),
        sftp_factory=sftp_factory,
    )
    port = acceptor.sockets[0].getsockname()[1]
    line = host_key.export_public_key().decode().strip()
    try:
        yield VendorSftp(port, root, line, username, password, logins)
    finally:
        acceptor.close()
        await acceptor.wait_closed()


def other_host_key_line() -> str:
    """A host key no server here has (for the mismatch test)."""
    return asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().strip()
