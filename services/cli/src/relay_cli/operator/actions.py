"""What each operator command does once its arguments are read: one or two gateway calls
and what they print (stdout: results; failures are raised for
:func:`relay_cli.operator.outcomes.guarded`)."""

from __future__ import annotations

import json
import mimetypes
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml
from rich.console import Console

from relay_cli.operator.client import OperatorClient
from relay_cli.operator.models import parse_run
from relay_cli.operator.outcomes import ExitCode, UsageError, run_outcome
from relay_cli.operator.render import run_list_lines, summary_lines
from relay_cli.operator.watching import watch

#: Content types sent for a feed file by its extension (else mimetypes' guess, else
#: application/octet-stream); the gateway stores the bytes whatever the type.
FEED_TYPES = {
    ".csv": "text/csv",
    ".tsv": "text/tab-separated-values",
    ".json": "application/json",
    ".xml": "application/xml",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def say(line: str) -> None:
    sys.stdout.write(line + "\n")


def readable_file(path: Path) -> Path:
    if not path.is_file():
        raise UsageError(f"no file at {path}")
    return path


def feed_type(path: Path) -> str:
    suffix = path.suffix.lower()
    return (
        FEED_TYPES.get(suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    )


async def start_run(
    client: OperatorClient,
    tenant_id: str,
    vendors: Sequence[str],
    *,
    force: bool,
    idempotency_key: str | None,
) -> str:
    accepted = await client.start_run(
        tenant_id, list(vendors) or None, force=force, idempotency_key=idempotency_key
    )
    say(f"run {accepted.run_id} {accepted.status} (config v{accepted.config_version})")
    return accepted.run_id


async def watch_run(
    client: OperatorClient,
    run_id: str,
    *,
    interval: float,
    timeout: float | None,
    expected_vendors: Sequence[str] = (),
) -> int:
    console = Console(highlight=False)
    run = await watch(
        client,
        run_id,
        console,
        interval=interval,
        timeout=timeout,
        expected_vendors=expected_vendors,
    )
    return run_outcome(run)


async def show_run(client: OperatorClient, run_id: str, *, as_json: bool) -> int:
    body = await client.run_body(run_id)
    if as_json:
        say(json.dumps(body, indent=2))
        return ExitCode.OK
    run = parse_run(body)
    artifacts = await client.artifacts(run_id) if run.is_terminal else []
    for line in summary_lines(run, artifacts):
        say(line)
    return ExitCode.OK


async def list_runs(
    client: OperatorClient,
    tenant_id: str | None,
    *,
    status: str | None,
    limit: int | None,
    cursor: str | None,
) -> int:
    page = await client.list_runs(tenant_id, status=status, limit=limit, cursor=cursor)
    for line in run_list_lines(page.runs):
        say(line)
    if page.next_cursor is not None:
        say(f"more: --cursor {page.next_cursor}")
    return ExitCode.OK


async def upload_feed(
    client: OperatorClient, tenant_id: str, vendor_id: str, path: Path, content_type: str | None
) -> int:
    readable_file(path)
    uploaded = await client.upload_feed(tenant_id, vendor_id, path, content_type or feed_type(path))
    say(f"uploaded {path.name} ({uploaded.size} bytes, sha256 {uploaded.sha256})")
    say(f"  to {uploaded.key}")
    return ExitCode.OK


def config_body(source: str) -> tuple[bytes, str]:
    """The config file's bytes (``-``: stdin) and its type (JSON by a .json name, else YAML)."""
    if source == "-":
        return sys.stdin.buffer.read(), "application/yaml"
    path = readable_file(Path(source))
    kind = "application/json" if path.suffix.lower() == ".json" else "application/yaml"
    return path.read_bytes(), kind


async def push_config(client: OperatorClient, tenant_id: str, source: str) -> int:
    body, content_type = config_body(source)
    version = await client.push_config(tenant_id, body, content_type)
    say(f"tenant {tenant_id} config version {version}")
    return ExitCode.OK


async def show_config(
    client: OperatorClient, tenant_id: str, version: int | None, *, as_json: bool
) -> int:
    document = await client.get_config(tenant_id, version)
    if as_json:
        say(json.dumps(document.config, indent=2, sort_keys=True))
        return ExitCode.OK
    say(f"# tenant {tenant_id}, config version {document.config_version}")
    sys.stdout.write(yaml.safe_dump(document.config, sort_keys=False, allow_unicode=True))
    return ExitCode.OK
