"""``relay local-run``: the feed engine on local files, with the services' exact functions.

``relay local-run --config tenant.yaml --feed vendor_1=a.csv [--feed ...] --out DIR
[--as-of 2026-01-01T00:00:00Z] [--run-id ID] [--sku-map vendor_1=map.csv]``

Exit 0 when the run succeeds, 1 when it fails (``errors.json`` and ``run_summary.json`` are
still written), 2 on bad arguments or an invalid config (problems on stderr, nothing
written). Files are written through a temporary name and renamed. A failed run also removes
the inventory and normalized files an earlier run left in DIR, so none can be picked up.
Without ``--run-id`` the id is ``local-<as-of as YYYYMMDDTHHMMSSZ>``. ``--explain SKU`` also
prints, after the run's line, why the SKU has its price (JSON: :mod:`relay_cli.explain`).
"""

from __future__ import annotations

import gc
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import NoReturn

from relay_cli.compare import NothingToCompareError, compare_outputs
from relay_cli.explain import explain_text
from relay_cli.local_run_args import LocalRun, LocalRunUsageError, parse_arguments
from relay_cli.local_run_inputs import resolve_run
from relay_cli.local_run_output import NormalizedFiles, write_outputs
from relay_normalize.domain import NormalizedFeed, normalize_feed
from relay_pricing.domain import FeedInput, RunOutputs, VendorFeed, build_run_outputs
from relay_shared.vendor_report import VendorReport

_WORKERS = 2


def _normalize_all(run: LocalRun) -> tuple[dict[str, NormalizedFeed], int]:
    """Normalizes the given feeds, two at a time (polars and hashlib release the GIL, so one
    feed's Python steps overlap another's vectorised ones); results in config order.

    The feeds keep their typed frames and no CSV bytes: the merge reads the frames and the
    normalized files are written from them while it runs.
    """
    started = time.perf_counter()
    vendor_ids = [
        vendor.vendor_id for vendor in run.config.vendors if vendor.vendor_id in run.feeds
    ]

    def normalize(vendor_id: str) -> NormalizedFeed:
        path = run.feeds[vendor_id]
        try:  # the engine reads the file in chunks (never whole)
            return normalize_feed(
                path,
                config=run.config,
                vendor_id=vendor_id,
                as_of=run.as_of,
                sku_map=run.sku_maps.get(vendor_id),
                with_csv=False,
            )
        except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
            # checked before, but it may have gone since (other OS errors, e.g. a full disk
            # for a transcoded copy, are not the arguments' fault: they propagate)
            raise LocalRunUsageError(
                [f"--feed {path}: cannot be read ({exc.strerror or exc})"]
            ) from exc

    with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
        results = dict(zip(vendor_ids, pool.map(normalize, vendor_ids), strict=True))
    return results, round((time.perf_counter() - started) * 1000)


def build_outputs(
    run: LocalRun, normalized: dict[str, NormalizedFeed], normalize_ms: int
) -> RunOutputs:
    """The run's files from the normalized feeds: each one's report, as the services store
    it, and normalize's own frame of its rows.

    The services hand the engine the same two things, the frame read back from the CSV
    normalize stored (``relay_pricing.adapters.normalized_offers``). Taking that path here
    too (write each CSV, read it back) made ``make bench`` at scale 1 about 0.45 s slower
    (1.39 s → 1.84 s wall, best of 4): the merge would wait for the CSV writes it now overlaps,
    then parse 1M rows again. So local-run keeps the frame.
    """
    feeds: dict[str, FeedInput] = {
        vendor_id: VendorFeed(VendorReport.model_validate(result.report()), result.offers)
        for vendor_id, result in normalized.items()
    }
    return build_run_outputs(
        run.config,
        run_id=run.run_id,
        as_of=run.as_of,
        config_version=run.config.config_version,
        feeds=feeds,
        timings_ms={"normalize": normalize_ms},
        explain=run.explain is not None,
    )


def execute(run: LocalRun) -> RunOutputs:
    """Normalizes every given feed, builds the run's files and writes them into ``run.out``
    (the normalized CSVs are written while the merge runs)."""
    normalized, normalize_ms = _normalize_all(run)
    vendor_ids = [vendor.vendor_id for vendor in run.config.vendors]
    with ThreadPoolExecutor(max_workers=1) as writer:
        files = NormalizedFiles(writer, run.out, normalized)
        try:
            outputs = build_outputs(run, normalized, normalize_ms)
        except BaseException:  # any exit, cancellation included: discard, re-raise
            files.discard()
            raise
        write_outputs(run.out, vendor_ids, outputs, files)
    return outputs


def main(argv: list[str]) -> int:
    """Runs ``relay local-run`` with ``argv`` (without the program and sub-command names).

    The objects that exist before the run (the imported modules') are set aside from the
    garbage collector for its duration: its full passes then skip them.
    """
    gc.freeze()
    try:
        return _main(argv)
    finally:
        gc.unfreeze()


def _main(argv: list[str]) -> int:
    try:
        options = parse_arguments(argv)
    except SystemExit as exit_request:
        return exit_request.code if isinstance(exit_request.code, int) else 2
    try:
        run = resolve_run(options)
        outputs = execute(run)
    except LocalRunUsageError as usage:
        for problem in usage.problems:
            print(f"relay local-run: {problem}", file=sys.stderr)
        return 2
    print(
        f"run {run.run_id} {outputs.status}: {outputs.merged_rows} rows, "
        f"{len(outputs.skus_left_out)} SKUs left out → {run.out}"
    )
    if run.explain is not None:
        print(explain_text(run, outputs, run.explain))
    if run.compare_to is not None:
        try:
            print(compare_outputs(run.compare_to, outputs, run.out))
        except NothingToCompareError as nothing:
            print(f"relay local-run: {nothing}", file=sys.stderr)
            return 1
    return 0 if outputs.status == "succeeded" else 1


def exit_now(code: int) -> NoReturn:
    """Ends the process with ``code`` without Python's finalisation (tearing down every
    module and freeing the frames' memory piece by piece: ~0.07 s of 1.5 s at 5 x 200k rows).

    Safe here only: every output file is written, closed and renamed and both thread pools
    have joined before :func:`main` returns, no atexit hook of this program has work to do,
    and the standard streams and logging handlers are flushed first. An exception escaping
    :func:`main` never gets here: Python reports it and exits as usual.
    """
    if "logging" in sys.modules:
        sys.modules["logging"].shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    exit_now(main(sys.argv[1:]))
