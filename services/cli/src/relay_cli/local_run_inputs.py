"""Resolving a ``local-run``'s inputs: feeds, SKU maps (``--sku-map`` or the config's file)."""

from __future__ import annotations

import argparse
from datetime import UTC
from pathlib import Path

from relay_cli.local_run_args import (
    LocalRun,
    LocalRunUsageError,
    check_readable,
    load_config,
    parse_as_of,
    read_input,
    vendor_paths,
)
from relay_shared.tenant_config import TenantConfig

MERGED_CSV = "merged_inventory.csv"


def _config_map(config: TenantConfig, vendor_id: str, config_dir: Path) -> bytes | None:
    """The config's map file relative to the config folder; ``None`` when absent or unreadable.

    A configured map that cannot be read is the feed's ``sku_map_unavailable``, not a usage
    error: the normalize step reports it like the services do.
    """
    sku_map = config.vendor(vendor_id).sku_map
    if sku_map is None or sku_map.type != "file":
        return None
    relative = sku_map.path or sku_map.s3_key
    if relative is None:
        return None
    try:
        return (config_dir / relative).read_bytes()
    except OSError:
        return None


def resolve_run(options: argparse.Namespace) -> LocalRun:
    """Checks every argument and reads every input; raises :class:`LocalRunUsageError`."""
    config = load_config(options.config)
    vendors = {vendor.vendor_id for vendor in config.vendors}
    problems: list[str] = []
    feed_paths = vendor_paths(options.feed, "--feed", vendors, problems)
    map_paths = vendor_paths(options.sku_map, "--sku-map", vendors, problems)
    for path in feed_paths.values():
        check_readable(path, "--feed", problems)
    given_maps = {
        vendor_id: read_input(path, "--sku-map", problems) for vendor_id, path in map_paths.items()
    }
    try:
        as_of = parse_as_of(options.as_of)
    except ValueError:
        problems.append(f"--as-of {options.as_of}: not an ISO-8601 time")
        as_of = parse_as_of(None)
    if options.out.exists() and not options.out.is_dir():
        problems.append(f"--out {options.out}: not a folder")
    compare_to = None
    if options.compare_to is not None:
        compare_to = read_input(options.compare_to / MERGED_CSV, "--compare-to", problems)
    if problems:
        raise LocalRunUsageError(problems)
    config_dir = options.config.resolve().parent
    sku_maps = {
        vendor_id: given_maps[vendor_id]
        if vendor_id in given_maps
        else _config_map(config, vendor_id, config_dir)
        for vendor_id in feed_paths
    }
    run_id = options.run_id or "local-" + as_of.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return LocalRun(
        config=config,
        feeds=feed_paths,
        sku_maps=sku_maps,
        out=options.out,
        as_of=as_of,
        run_id=run_id,
        explain=options.explain,
        compare_to=compare_to,
    )
