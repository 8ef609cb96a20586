"""Writing the files of ``relay local-run``: each through a temporary name, then renamed.

The normalized CSVs are written while the merge runs (polars writes a file without holding
the GIL, so the two overlap), under temporary names; they are renamed into place only once
the run has succeeded. A failed run removes them, and the inventory and normalized files an
earlier run left, so none can be picked up.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import polars as pl

from relay_normalize.domain import NormalizedFeed, write_offers_csv
from relay_pricing.domain import RunOutputs


def temporary_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp")


def write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = temporary_path(path)
    temporary.write_bytes(data)
    os.replace(temporary, path)


def _write_offers(offers: pl.DataFrame, temporary: Path) -> None:
    temporary.parent.mkdir(parents=True, exist_ok=True)
    write_offers_csv(offers, str(temporary))


class NormalizedFiles:
    """The vendors' normalized CSVs, being written under temporary names by ``pool``."""

    def __init__(
        self, pool: ThreadPoolExecutor, out: Path, normalized: Mapping[str, NormalizedFeed]
    ) -> None:
        self._folder = out / "normalized"
        self._pending: dict[str, Future[None]] = {}
        for vendor_id, feed in normalized.items():
            if feed.offers is not None:
                temporary = temporary_path(self.target(vendor_id))
                self._pending[vendor_id] = pool.submit(_write_offers, feed.offers, temporary)

    def target(self, vendor_id: str) -> Path:
        return self._folder / f"{vendor_id}.csv"

    def discard(self) -> None:
        """Removes the temporary files (the run did not get as far as writing)."""
        for vendor_id, pending in self._pending.items():
            pending.exception()  # waits; a failed write left nothing worth keeping
            temporary_path(self.target(vendor_id)).unlink(missing_ok=True)

    def finish(self, vendor_ids: Sequence[str], *, keep: bool) -> None:
        """Renames every written file into place (``keep``) or removes it; a vendor without
        one loses the file an earlier run left."""
        for vendor_id in vendor_ids:
            target = self.target(vendor_id)
            pending = self._pending.get(vendor_id)
            if pending is not None:
                pending.result()
                if keep:
                    os.replace(temporary_path(target), target)
                    continue
                temporary_path(target).unlink(missing_ok=True)
            target.unlink(missing_ok=True)


def write_outputs(
    out: Path, vendor_ids: Sequence[str], outputs: RunOutputs, normalized: NormalizedFiles
) -> None:
    """Writes the run's files into ``out`` (normalized ones only for a succeeded run)."""
    out.mkdir(parents=True, exist_ok=True)
    normalized.finish(vendor_ids, keep=outputs.status == "succeeded")
    for name in ("merged_inventory.csv", "merged_inventory.json"):
        if name not in outputs.files:
            (out / name).unlink(missing_ok=True)
    for name in sorted(outputs.files, key=lambda name: name == "run_summary.json"):
        write_file(out / name, outputs.files[name])
