"""The ``relay`` command.

Each subcommand lives in its own module with a ``register(subparsers)`` function that adds
its parser and sets ``handler`` (``Namespace -> int``).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from relay_cli import asyncapi_command, demo, dlq, serve, up
from relay_cli.log_config import configure_logging

LOCAL_RUN = "local-run"


def _run_local(argv: list[str]) -> int:
    # Imported only when used: local-run's dependencies stay out of `relay up`/`serve`.
    local_run = importlib.import_module("relay_cli.local_run")
    local_run_main: Callable[[list[str]], int] = local_run.main
    return local_run_main(argv)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="relay", description="Relay command line")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    up.register(subparsers)
    serve.register(subparsers)
    asyncapi_command.register(subparsers)
    dlq.register(subparsers)
    demo.register(subparsers)
    # local-run parses its own arguments; it is listed here for `relay --help` and
    # dispatched before argparse sees its options (see main()).
    local = subparsers.add_parser(
        LOCAL_RUN, help="run a feed locally (see `relay local-run --help`)", add_help=False
    )
    local.add_argument("args", nargs=argparse.REMAINDER)
    local.set_defaults(handler=lambda args: _run_local(list(args.args)))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == [LOCAL_RUN]:
        return _run_local(args[1:])
    namespace = build_parser().parse_args(args)
    configure_logging()
    code: int = namespace.handler(namespace)
    return code
