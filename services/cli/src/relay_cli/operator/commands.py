"""``relay runs start|list|show|watch``, ``relay feeds upload``, ``relay config push|show``:
the operator's commands against a deployed gateway.

Every command takes ``--url`` (default: ``RELAY_URL``) and ``--api-key`` (default:
``RELAY_API_KEY``).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from relay_cli.operator import actions, outcomes
from relay_cli.operator.client import OperatorClient, open_client
from relay_cli.operator.outcomes import UsageError, guarded
from relay_shared.run_states import STATUSES

URL_ENV = "RELAY_URL"
KEY_ENV = "RELAY_API_KEY"
DEFAULT_INTERVAL_S = 0.5

Action = Callable[[OperatorClient, argparse.Namespace], Awaitable[int]]


def _endpoint(args: argparse.Namespace) -> tuple[str, str]:
    url = args.url or os.environ.get(URL_ENV)
    key = args.api_key or os.environ.get(KEY_ENV)
    if not url:
        raise UsageError(f"no gateway URL: pass --url or set {URL_ENV}")
    if not key:
        raise UsageError(f"no API key: pass --api-key or set {KEY_ENV}")
    return url, key


def _handler(label: str, action: Action) -> Callable[[argparse.Namespace], int]:
    def handle(args: argparse.Namespace) -> int:
        async def act() -> int:
            url, key = _endpoint(args)
            async with open_client(url, key) as client:
                return await action(client, args)

        return guarded(label, act)

    return handle


def _vendors(values: list[str] | None) -> list[str]:
    """``--vendor a --vendor b,c`` → ``[a, b, c]``."""
    return [v for value in values or [] for v in value.split(",") if v]


async def _start(client: OperatorClient, args: argparse.Namespace) -> int:
    vendors = _vendors(args.vendor)
    run_id = await actions.start_run(
        client, args.tenant, vendors, force=args.force, idempotency_key=args.idempotency_key
    )
    if not args.watch:
        return 0
    return await actions.watch_run(
        client, run_id, interval=args.interval, timeout=args.timeout, expected_vendors=vendors
    )


async def _watch(client: OperatorClient, args: argparse.Namespace) -> int:
    return await actions.watch_run(
        client, args.run_id, interval=args.interval, timeout=args.timeout
    )


async def _list(client: OperatorClient, args: argparse.Namespace) -> int:
    return await actions.list_runs(
        client, args.tenant, status=args.status, limit=args.limit, cursor=args.cursor
    )


async def _show(client: OperatorClient, args: argparse.Namespace) -> int:
    return await actions.show_run(client, args.run_id, as_json=args.json)


async def _upload(client: OperatorClient, args: argparse.Namespace) -> int:
    return await actions.upload_feed(
        client, args.tenant, args.vendor, Path(args.file), args.content_type
    )


async def _push(client: OperatorClient, args: argparse.Namespace) -> int:
    return await actions.push_config(client, args.tenant, args.file)


async def _config_show(client: OperatorClient, args: argparse.Namespace) -> int:
    return await actions.show_config(client, args.tenant, args.version, as_json=args.json)


def _connection_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", help=f"the gateway's base URL (default: ${URL_ENV})")
    common.add_argument("--api-key", help=f"an API key (default: ${KEY_ENV})")
    return common


def _watch_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--interval",
        type=float,
        default=DEFAULT_INTERVAL_S,
        help="seconds between polls (default 0.5)",
    )
    parser.add_argument(
        "--timeout", type=float, default=None, help="stop watching after this many seconds (exit 6)"
    )


def _register_runs(add: Callable[..., argparse.ArgumentParser]) -> None:
    start = add("start", "request a run of a tenant", _start, "runs start")
    start.add_argument("tenant", help="the tenant id")
    start.add_argument(
        "--vendor",
        action="append",
        metavar="VENDOR",
        help="only these vendors' latest uploads (repeat, or comma-separated)",
    )
    start.add_argument("--force", action="store_true", help="override the drift guard")
    start.add_argument("--idempotency-key", help="send as Idempotency-Key (a retry: same run)")
    start.add_argument("--watch", action="store_true", help="then watch it to its end")
    _watch_options(start)
    listing = add("list", "the tenant's runs, newest first", _list, "runs list")
    listing.add_argument("--tenant", help="the tenant (default: the key's; required for admin)")
    listing.add_argument("--status", choices=STATUSES)
    listing.add_argument("--limit", type=int, help="runs per page")
    listing.add_argument("--cursor", help="the page after this cursor (printed as `more:`)")
    show = add("show", "one run's state and summary", _show, "runs show")
    show.add_argument("run_id")
    show.add_argument("--json", action="store_true", help="the run resource as JSON")
    watching = add("watch", "follow a run to its end (live progress)", _watch, "runs watch")
    watching.add_argument("run_id")
    _watch_options(watching)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = _connection_options()
    groups = {
        "runs": "start, list, inspect and watch runs on a deployed gateway",
        "feeds": "upload vendor feeds to a deployed gateway",
        "config": "push or show a tenant's config on a deployed gateway",
    }
    actions_of: dict[str, argparse._SubParsersAction[argparse.ArgumentParser]] = {}
    for name, help_text in groups.items():
        group = subparsers.add_parser(
            name,
            help=help_text,
            description=f"{__doc__}\nExit codes:\n{outcomes.__doc__}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        actions_of[name] = group.add_subparsers(
            dest=f"{name}_command", required=True, metavar="ACTION"
        )

    def adder(group: str) -> Callable[..., argparse.ArgumentParser]:
        def add(name: str, help_text: str, action: Action, label: str) -> argparse.ArgumentParser:
            parser = actions_of[group].add_parser(name, help=help_text, parents=[common])
            parser.set_defaults(handler=_handler(label, action))
            return parser

        return add

    _register_runs(adder("runs"))
    upload = adder("feeds")(
        "upload", "upload a vendor's feed file (streamed)", _upload, "feeds upload"
    )
    upload.add_argument("tenant")
    upload.add_argument("vendor")
    upload.add_argument("file")
    upload.add_argument("--content-type", help="default: by the file's extension")
    push = adder("config")(
        "push", "put a new config version (YAML, or JSON by .json)", _push, "config push"
    )
    push.add_argument("tenant")
    push.add_argument("file", help="the config file (- for stdin, YAML)")
    show = adder("config")(
        "show", "the current (or a given) config version", _config_show, "config show"
    )
    show.add_argument("tenant")
    show.add_argument("--version", type=int, help="that version instead of the current")
    show.add_argument("--json", action="store_true", help="JSON instead of YAML")
