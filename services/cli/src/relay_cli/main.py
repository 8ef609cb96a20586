"""The ``relay`` command.

Each subcommand lives in its own module with a ``register(subparsers)`` function that adds
its parser and sets ``handler`` (``Namespace -> int``).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Mapping, Sequence
from types import MappingProxyType

LOCAL_RUN = "local-run"
#: Commands whose parser is built alone, without the other commands' imports: the operator
#: commands talk only to a gateway (about 3 s of a 4.5 s start on this machine), and a
#: service started by `relay serve` (or `relay up`, one per service) imports only its own app.
LEAN_COMMANDS: Mapping[str, str] = MappingProxyType(
    {
        "runs": "relay_cli.operator.commands",
        "feeds": "relay_cli.operator.commands",
        "config": "relay_cli.operator.commands",
        "serve": "relay_cli.serve",
    }
)


def _run_local(argv: list[str]) -> int:
    # Imported only when used: local-run's dependencies stay out of `relay up`/`serve`.
    from relay_cli import local_run

    return local_run.main(argv)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Every command's parser, or only ``command``'s when it is one of :data:`LEAN_COMMANDS`."""
    parser = argparse.ArgumentParser(prog="relay", description="Relay command line")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    lean = LEAN_COMMANDS.get(command or "")
    if lean is not None:
        importlib.import_module(lean).register(subparsers)
        return parser
    # Imported when the parser is built, not at start: `relay local-run` must not pay for the
    # servers', demo's and sheets' imports (about 1.5 s of a 2 s run on this machine).
    from relay_cli import asyncapi_command, demo, dlq, serve, up
    from relay_cli.operator import commands as operator_commands

    for module in (up, serve, asyncapi_command, dlq, demo, operator_commands):
        module.register(subparsers)
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
    namespace = build_parser(args[0] if args else None).parse_args(args)
    # Imported here: structlog (with rich and asyncio) costs local-run ~0.09 s it never uses.
    from relay_cli.log_config import configure_logging

    configure_logging()
    from relay_shared.dependencies import DependencyUnreachableError

    try:
        code: int = namespace.handler(namespace)
    except DependencyUnreachableError as exc:
        # One line naming the server, never a traceback (a service started by `relay serve`
        # logs its own JSON line instead: relay_cli.serve).
        sys.stderr.write(f"relay {namespace.command}: {exc}\n")
        return 1
    return code


def run() -> None:
    """The ``relay`` process entry point. A finished local-run ends the process at once
    (:func:`relay_cli.local_run.exit_now`: its files are closed and renamed, its threads
    joined); every other command exits normally."""
    args = sys.argv[1:]
    code = main(args)
    if args[:1] == [LOCAL_RUN]:
        from relay_cli.local_run import exit_now

        exit_now(code)
    raise SystemExit(code)
