"""Where the embedded Postgres cluster lives when it runs as an unprivileged user."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest

from relay_cli.stack.postgres_account import (
    can_traverse,
    cluster_data_dir,
    socket_dir_for,
    sweep_orphaned_clusters,
)

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="only root switches user")


@needs_root
def test_private_dir_is_not_traversable_and_relocates(tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    private.chmod(0o700)
    assert not can_traverse(private / "state", "nobody")
    data_dir = cluster_data_dir(private / "state", "nobody")
    assert data_dir.parent.name.startswith("relay-pg-")
    assert data_dir == cluster_data_dir(private / "state", "nobody")  # stable per state dir
    assert (data_dir.parent / "state-dir").read_text() == str((private / "state").resolve())


@needs_root
def test_open_dir_keeps_the_cluster_in_the_state_dir(tmp_path: Path) -> None:
    state = Path("/tmp") / f"relay-open-{uuid.uuid4().hex}"
    try:
        state.mkdir(mode=0o755)
        assert can_traverse(state, "nobody")
        assert cluster_data_dir(state, "nobody") == state / "postgres" / "data"
    finally:
        state.rmdir()


def test_orphaned_relocated_cluster_is_swept(tmp_path: Path) -> None:
    orphan = Path("/tmp") / f"relay-pg-test{uuid.uuid4().hex[:8]}"
    alive = Path("/tmp") / f"relay-pg-test{uuid.uuid4().hex[:8]}"
    for home, owner in ((orphan, tmp_path / "gone"), (alive, tmp_path)):
        (home / "data").mkdir(parents=True)
        (home / "state-dir").write_text(str(owner))
    try:
        removed = sweep_orphaned_clusters()
        assert orphan in removed
        assert not orphan.exists()
        assert alive.exists()
    finally:
        for home in (orphan, alive):
            shutil.rmtree(home, ignore_errors=True)


def test_long_data_dir_gets_a_short_socket_dir(tmp_path: Path) -> None:
    short = tmp_path / "d"
    long = tmp_path / ("x" * 120) / "data"
    assert socket_dir_for(short) == short
    assert socket_dir_for(long).name.startswith("relay-pgsock-")
    assert len(str(socket_dir_for(long))) < 60
