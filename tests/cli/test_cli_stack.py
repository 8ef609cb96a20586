"""The embedded stack against real servers: NATS JetStream, Postgres, S3 (moto)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import asyncpg
import nats
import pytest
from aiobotocore.session import get_session

from relay_cli.stack import EmbeddedStack, ServerNotEmbeddedError, StackEndpoints

pytestmark = pytest.mark.stack


def _unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


async def test_nats_has_jetstream(local_stack: EmbeddedStack) -> None:
    nc = await nats.connect(local_stack.endpoints.nats_url)
    try:
        info = await nc.jetstream().account_info()
    finally:
        await nc.close()
    assert info.limits.max_streams == -1
    assert local_stack.endpoints.nats_url == f"nats://127.0.0.1:{local_stack.nats.port}"  # type: ignore[union-attr]


async def test_postgres_answers_in_database_relay(local_stack: EmbeddedStack) -> None:
    conn = await asyncpg.connect(local_stack.endpoints.database_url)
    try:
        assert await conn.fetchval("SELECT 1") == 1
        assert await conn.fetchval("SELECT current_database()") == "relay"
    finally:
        await conn.close()


async def test_postgres_listens_on_unix_socket_in_data_dir(local_stack: EmbeddedStack) -> None:
    assert local_stack.postgres is not None
    conn = await asyncpg.connect(
        host=str(local_stack.postgres.socket_dir),
        port=local_stack.postgres.port,
        user="relay",
        database="relay",
    )
    try:
        assert await conn.fetchval("SELECT 2") == 2
    finally:
        await conn.close()
    assert local_stack.postgres.socket_dir == local_stack.postgres.data_dir


async def _round_trip(endpoints: StackEndpoints, body: bytes) -> dict[str, Any]:
    """Puts ``body`` in the bucket under a new key and checks it reads back the same; the
    bucket's HEAD answer."""
    key = f"tenants/{_unique('t')}/inbound/feed.csv"
    async with get_session().create_client(
        "s3",
        endpoint_url=endpoints.s3_endpoint_url,
        region_name=endpoints.s3_region,
        aws_access_key_id=endpoints.s3_access_key_id,
        aws_secret_access_key=endpoints.s3_secret_access_key,
    ) as s3:
        head: dict[str, Any] = await s3.head_bucket(Bucket="relay")
        await s3.put_object(Bucket="relay", Key=key, Body=body)
        got = await s3.get_object(Bucket="relay", Key=key)
        async with got["Body"] as stream:
            assert await stream.read() == body
    return head


async def test_s3_bucket_exists_and_object_round_trips(local_stack: EmbeddedStack) -> None:
    head = await _round_trip(local_stack.endpoints, b"sku,qty\nA-1,3\n")
    assert head["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert local_stack.endpoints.s3_bucket == "relay"


def _spooled_files(pid: int) -> int:
    """How many deleted temporary files the process holds open (moto's spooled objects)."""
    fds = Path(f"/proc/{pid}/fd")
    return sum(1 for fd in fds.iterdir() if str(fd.readlink()).endswith("(deleted)"))


async def test_s3_keeps_objects_of_several_mib_in_memory(local_stack: EmbeddedStack) -> None:
    """moto spools an object past its key buffer to a temporary file; the stack raises the
    buffer (relay_cli.stack.s3.KEY_BUFFER_BYTES), so a 12 MiB object stays in memory."""
    assert local_stack.s3 is not None
    assert local_stack.s3.process is not None
    pid = local_stack.s3.process.pid
    assert pid is not None
    before = _spooled_files(pid)
    await _round_trip(local_stack.endpoints, bytes(range(256)) * (12 * 4096))  # 12 MiB
    assert _spooled_files(pid) == before


def test_endpoints_as_env(local_stack: EmbeddedStack) -> None:
    env = local_stack.endpoints.as_env()
    assert env == {
        "APP_NATS_URL": local_stack.endpoints.nats_url,
        "APP_DATABASE_URL": local_stack.endpoints.database_url,
        "APP_S3_ENDPOINT_URL": local_stack.endpoints.s3_endpoint_url,
        "APP_S3_BUCKET": "relay",
        "APP_S3_REGION": "us-east-1",
        "APP_S3_ACCESS_KEY_ID": "testing",
        "APP_S3_SECRET_ACCESS_KEY": "testing",
    }


async def test_restart_nats_keeps_streams_and_port(local_stack: EmbeddedStack) -> None:
    stream, subject = _unique("S"), _unique("restart.nats")
    nc = await nats.connect(local_stack.endpoints.nats_url)
    js = nc.jetstream()
    await js.add_stream(name=stream, subjects=[subject])
    ack = await js.publish(subject, b"kept")
    await nc.close()
    url_before = local_stack.endpoints.nats_url

    local_stack.restart_nats()

    nc = await nats.connect(local_stack.endpoints.nats_url)
    try:
        info = await nc.jetstream().stream_info(stream)
        message = await nc.jetstream().get_msg(stream, ack.seq)
    finally:
        await nc.close()
    assert local_stack.endpoints.nats_url == url_before
    assert info.state.messages == 1
    assert message.data == b"kept"


async def test_restart_postgres_keeps_tables_and_port(local_stack: EmbeddedStack) -> None:
    table = _unique("kept")
    conn = await asyncpg.connect(local_stack.endpoints.database_url)
    await conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, note text)")
    await conn.execute(f"INSERT INTO {table} VALUES (1, 'survives')")
    await conn.close()

    local_stack.restart_postgres()

    conn = await asyncpg.connect(local_stack.endpoints.database_url)
    try:
        rows = await conn.fetch(f"SELECT id, note FROM {table}")
    finally:
        await conn.close()
    assert [tuple(r) for r in rows] == [(1, "survives")]


async def test_stop_then_start_postgres_in_place(local_stack: EmbeddedStack) -> None:
    local_stack.stop_postgres()
    with pytest.raises(ConnectionRefusedError):
        await asyncpg.connect(local_stack.endpoints.database_url, timeout=2)
    local_stack.start_postgres()
    conn = await asyncpg.connect(local_stack.endpoints.database_url)
    try:
        assert await conn.fetchval("SELECT 3") == 3
    finally:
        await conn.close()


async def test_given_nats_url_is_used_and_not_started(
    local_stack: EmbeddedStack, tmp_path: Path
) -> None:
    given = local_stack.endpoints.nats_url
    with EmbeddedStack(tmp_path, env={"APP_NATS_URL": given}) as second:
        assert second.nats is None
        assert second.endpoints.nats_url == given
        assert second.postgres is not None
        assert second.s3 is not None
        assert second.postgres.port != local_stack.postgres.port  # type: ignore[union-attr]
        with pytest.raises(ServerNotEmbeddedError):
            second.restart_nats()
        conn = await asyncpg.connect(second.endpoints.database_url)
        try:
            assert await conn.fetchval("SELECT current_database()") == "relay"
        finally:
            await conn.close()
    assert not (tmp_path / "nats").exists()


def test_all_urls_given_starts_nothing(tmp_path: Path) -> None:
    env = {
        "APP_NATS_URL": "nats://nats.example:4222",
        "APP_DATABASE_URL": "postgresql://u:p@db.example:5432/relay",
        "APP_S3_ENDPOINT_URL": "http://minio.example:9000",
        "APP_S3_BUCKET": "other-bucket",
        "APP_S3_REGION": "eu-west-1",
        "APP_S3_ACCESS_KEY_ID": "key",
        "APP_S3_SECRET_ACCESS_KEY": "secret",
    }
    with EmbeddedStack(tmp_path, env=env) as given:
        assert (given.nats, given.postgres, given.s3) == (None, None, None)
        assert given.endpoints == StackEndpoints(
            nats_url="nats://nats.example:4222",
            database_url="postgresql://u:p@db.example:5432/relay",
            s3_endpoint_url="http://minio.example:9000",
            s3_bucket="other-bucket",
            s3_region="eu-west-1",
            s3_access_key_id="key",
            s3_secret_access_key="secret",
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == []


async def test_next_start_reuses_the_cluster(local_stack: EmbeddedStack, tmp_path: Path) -> None:
    only_postgres = {
        "APP_NATS_URL": local_stack.endpoints.nats_url,
        "APP_S3_ENDPOINT_URL": local_stack.endpoints.s3_endpoint_url,
    }
    table = _unique("reused")
    with EmbeddedStack(tmp_path, env=only_postgres) as first:
        assert first.postgres is not None
        data_dir = first.postgres.data_dir
        conn = await asyncpg.connect(first.endpoints.database_url)
        await conn.execute(f"CREATE TABLE {table} (v int)")
        await conn.close()
    with EmbeddedStack(tmp_path, env=only_postgres) as second:
        assert second.postgres is not None
        assert second.postgres.data_dir == data_dir
        conn = await asyncpg.connect(second.endpoints.database_url)
        try:
            assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 0
        finally:
            await conn.close()
