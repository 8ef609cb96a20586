"""Who runs the embedded Postgres, and where its cluster can live.

Postgres refuses to run as root. When ``relay`` runs as root, initdb and postgres run as a
dedicated system user (``relay-pg``, created on first use; ``nobody`` if that is not
possible), and the cluster must sit on a path that user can traverse.
"""

from __future__ import annotations

import grp
import hashlib
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import structlog

_log = structlog.get_logger(__name__)

POSTGRES_SYSTEM_USER = "relay-pg"
FALLBACK_USER = "nobody"
#: sockaddr_un.sun_path is 108 bytes including the terminating NUL.
_MAX_SOCKET_PATH = 107
_SOCKET_NAME_LEN = len("/.s.PGSQL.65535")
#: In a relocated cluster's /tmp folder: the state dir it belongs to.
_OWNER_MARKER = "state-dir"


def postgres_run_as() -> str | None:
    """The user to run Postgres as, or None to run it as ourselves (not root)."""
    if os.geteuid() != 0:
        return None
    return _ensure_system_user()


def _ensure_system_user() -> str:
    if _user_exists(POSTGRES_SYSTEM_USER):
        return POSTGRES_SYSTEM_USER
    useradd = shutil.which("useradd")
    if useradd is not None:
        argv = [
            useradd, "--system", "--user-group", "--no-create-home",
            "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin",
            POSTGRES_SYSTEM_USER,
        ]  # fmt: skip
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        # A concurrent `relay` may have created it first: look again rather than trust rc.
        if _user_exists(POSTGRES_SYSTEM_USER):
            _log.info("postgres_user_created", user=POSTGRES_SYSTEM_USER)
            return POSTGRES_SYSTEM_USER
        _log.warning("postgres_user_create_failed", stderr=result.stderr.strip())
    _log.warning("postgres_user_fallback", user=FALLBACK_USER)
    return FALLBACK_USER


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def can_traverse(path: Path, user: str) -> bool:
    """True if ``user`` may search every existing directory from / down to ``path``."""
    entry = pwd.getpwnam(user)
    gids = {entry.pw_gid} | {g.gr_gid for g in grp.getgrall() if user in g.gr_mem}
    resolved = path.resolve()
    for directory in (resolved, *resolved.parents):
        try:
            info = directory.stat()
        except FileNotFoundError:
            continue
        if info.st_uid == entry.pw_uid:
            allowed = bool(info.st_mode & stat.S_IXUSR)
        elif info.st_gid in gids:
            allowed = bool(info.st_mode & stat.S_IXGRP)
        else:
            allowed = bool(info.st_mode & stat.S_IXOTH)
        if not allowed:
            return False
    return True


def private_tmp_dir(state_dir: Path) -> Path:
    """A /tmp folder that belongs to ``state_dir`` (stable across runs)."""
    digest = hashlib.sha256(str(state_dir.resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"relay-pg-{digest}"


def cluster_data_dir(state_dir: Path, user: str | None) -> Path:
    """``<state>/postgres/data``, or a /tmp folder when ``user`` cannot reach the state dir
    (e.g. pytest's 0700 temp dirs). Relocated clusters whose state dir is gone are swept."""
    preferred = state_dir / "postgres" / "data"
    if user is None or can_traverse(preferred.parent, user):
        return preferred
    sweep_orphaned_clusters()
    home = private_tmp_dir(state_dir)
    home.mkdir(mode=0o755, exist_ok=True)
    (home / _OWNER_MARKER).write_text(str(state_dir.resolve()))
    _log.info("postgres_data_relocated", state_dir=str(state_dir), data_dir=str(home / "data"))
    return home / "data"


def _postmaster_running(data_dir: Path) -> bool:
    try:
        pid = int((data_dir / "postmaster.pid").read_text().splitlines()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return False
    return Path(f"/proc/{pid}").exists()


def sweep_orphaned_clusters() -> list[Path]:
    """Delete relocated clusters whose state dir no longer exists and whose postgres is
    not running (their state dir was a temporary one). Returns what was deleted."""
    removed: list[Path] = []
    for home in Path(tempfile.gettempdir()).glob("relay-pg-*"):
        try:
            owner = Path((home / _OWNER_MARKER).read_text())
        except OSError:
            continue  # not ours, or being created
        if owner.exists() or _postmaster_running(home / "data"):
            continue
        shutil.rmtree(home, ignore_errors=True)
        removed.append(home)
        _log.info("postgres_orphan_cluster_removed", path=str(home), state_dir=str(owner))
    return removed


def socket_dir_for(data_dir: Path) -> Path:
    """The data dir, unless the socket path would be too long for a unix socket."""
    if len(str(data_dir.resolve())) + _SOCKET_NAME_LEN <= _MAX_SOCKET_PATH:
        return data_dir
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"relay-pgsock-{digest}"


def prepare_owned_dir(path: Path, user: str | None, mode: int = 0o700) -> None:
    """Create ``path`` (and parents), owned by ``user`` with ``mode``."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
    path.mkdir(exist_ok=True, mode=mode)
    if user is not None:
        entry = pwd.getpwnam(user)
        if path.stat().st_uid != entry.pw_uid:
            for root, dirs, files in os.walk(path):
                for name in (*dirs, *files):
                    os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)
            os.chown(path, entry.pw_uid, entry.pw_gid)
    path.chmod(mode)
