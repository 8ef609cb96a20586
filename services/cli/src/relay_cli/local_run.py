"""``relay local-run``: the feed engine on local files, with the services' exact functions.

``relay local-run --config tenant.yaml --feed vendor_1=a.csv [--feed ...] --out DIR
[--as-of 2026-01-01T00:00:00Z] [--run-id ID] [--sku-map vendor_1=map.csv]``

Exit 0 when the run succeeds, 1 when it fails (``errors.json`` and ``run_summary.json`` are
still written), 2 on bad arguments or an invalid config (problems on stderr, nothing
written). Files are written through a temporary name and renamed. A failed run also removes
the inventory and normalized files an earlier run left in DIR, so none can be picked up.
Without ``--run-id`` the id is ``local-<as-of as YYYYMMDDTHHMMSSZ>``.
"""

from __future__ import annotations

import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from relay_cli.local_run_args import LocalRun, UsageError, parse_arguments
from relay_cli.local_run_inputs import resolve_run
from relay_normalize.domain import NormalizedFeed, normalize_feed
from relay_pricing.domain import FeedInput, RunOutputs, VendorFeed, build_run_outputs

_WORKERS = 2


def _read_feed(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:  # checked before, but it may have gone since
        raise UsageError([f"--feed {path}: cannot be read ({exc.strerror or exc})"]) from exc


def _normalize_all(run: LocalRun) -> tuple[dict[str, NormalizedFeed], int]:
    """Normalizes the given feeds, two at a time (polars and hashlib release the GIL, so one
    feed's Python steps overlap another's vectorised ones); results in config order."""
    started = time.perf_counter()
    vendor_ids = [
        vendor.vendor_id for vendor in run.config.vendors if vendor.vendor_id in run.feeds
    ]

    def normalize(vendor_id: str) -> NormalizedFeed:
        return normalize_feed(
            _read_feed(run.feeds[vendor_id]),
            config=run.config,
            vendor_id=vendor_id,
            as_of=run.as_of,
            sku_map=run.sku_maps.get(vendor_id),
        )

    with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
        results = dict(zip(vendor_ids, pool.map(normalize, vendor_ids), strict=True))
    return results, round((time.perf_counter() - started) * 1000)


def execute(run: LocalRun) -> tuple[RunOutputs, dict[str, NormalizedFeed]]:
    """Normalizes every given feed, then builds the run's files."""
    normalized, normalize_ms = _normalize_all(run)
    feeds: dict[str, FeedInput] = {
        vendor_id: VendorFeed.from_report(result.report(), result.normalized_csv)
        for vendor_id, result in normalized.items()
    }
    outputs = build_run_outputs(
        run.config,
        run_id=run.run_id,
        as_of=run.as_of,
        config_version=run.config.config_version,
        feeds=feeds,
        timings_ms={"normalize": normalize_ms},
    )
    return outputs, normalized


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def write_outputs(
    run: LocalRun, outputs: RunOutputs, normalized: dict[str, NormalizedFeed]
) -> None:
    """Writes the run's files into ``run.out`` (normalized ones only for a succeeded run)."""
    out = run.out
    out.mkdir(parents=True, exist_ok=True)
    succeeded = outputs.status == "succeeded"
    for vendor in run.config.vendors:
        result = normalized.get(vendor.vendor_id)
        target = out / "normalized" / f"{vendor.vendor_id}.csv"
        if succeeded and result is not None and result.normalized_csv is not None:
            _write(target, result.normalized_csv)
        else:
            target.unlink(missing_ok=True)
    for name in ("merged_inventory.csv", "merged_inventory.json"):
        if name not in outputs.files:
            (out / name).unlink(missing_ok=True)
    for name in sorted(outputs.files, key=lambda name: name == "run_summary.json"):
        _write(out / name, outputs.files[name])


def main(argv: list[str]) -> int:
    """Runs ``relay local-run`` with ``argv`` (without the program and sub-command names)."""
    try:
        options = parse_arguments(argv)
    except SystemExit as exit_request:
        return exit_request.code if isinstance(exit_request.code, int) else 2
    try:
        run = resolve_run(options)
        outputs, normalized = execute(run)
    except UsageError as usage:
        for problem in usage.problems:
            print(f"relay local-run: {problem}", file=sys.stderr)
        return 2
    write_outputs(run, outputs, normalized)
    print(
        f"run {run.run_id} {outputs.status}: {outputs.merged_rows} rows, "
        f"{len(outputs.skus_left_out)} SKUs left out → {run.out}"
    )
    return 0 if outputs.status == "succeeded" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
