"""Benchmark of ``relay local-run`` against a hand-written polars reference (not a test).

    uv run python tests/bench/bench_engine.py [--scale 1|5] [--shape easy|real|both]

Scale 1: five seeded feeds of 200,000 rows; scale 5: 1,000,000 rows each. Two shapes:

- ``real`` (:mod:`bench_real_data`): catalogue-shaped feeds, each vendor with its own headers
  among unmapped columns, a ``vendor_sku → sku`` map of about 1.1 × its rows referenced from
  the config, ~2 % dirty rows of every kind and 200 duplicates; the reference
  (``bench_reference_real.py``) joins the maps too. Targets: scale 1 within 1.5× the
  reference and under 1.2 GB; scale 5 under 5.5× the scale-1 local-run and under 4 GB.
- ``easy`` (:mod:`bench_data`): one header, no maps, dirty quantities and costs only.
  Targets: scale 1 within 1.6× and under 1.5 GB; scale 5 under 6× and under 4 GB.

Both programs run as subprocesses of the same interpreter, ``relay`` as the installed command
(the venv's ``bin/relay``, no ``uv run`` start-up); wall time and peak RSS (of the child) are
measured. Runs alternate (local, reference, local, …) after one untimed warm-up of each, and
the median of ``--repeat`` (3) counts. Exit 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_data import write_feeds  # type: ignore[import-not-found]
from bench_real_data import write_real_feeds  # type: ignore[import-not-found]

ROOT = Path(__file__).resolve().parents[2]
# Children cache bytecode as Python does by default: an environment that sets
# PYTHONDONTWRITEBYTECODE would otherwise make every run recompile every imported module
# (0.7 s for local-run's imports), which measures the sandbox, not the engine.
_ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
DATA = ROOT / "bench-out"


@dataclass(frozen=True)
class Measure:
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    exit_code: int


def _measure(command: list[str]) -> Measure:
    """Runs one child; peak RSS via wait4's rusage (KiB on Linux)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, env=_ENV)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    return Measure(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, status >> 8)


def _local_run(folder: Path, paths: dict[str, Path], out: Path) -> Measure:
    # The installed `relay local-run` command, exactly as a merchant runs it.
    command = [str(Path(sys.executable).parent / "relay"), "local-run"]
    command += ["--config", str(folder / "tenant.yaml")]
    for vendor_id, path in paths.items():
        command += ["--feed", f"{vendor_id}={path}"]
    command += ["--out", str(out), "--as-of", "2026-01-01T00:00:00Z", "--run-id", "bench"]
    return _measure(command)


@dataclass(frozen=True)
class Shape:
    name: str
    write: Callable[[Path, int], dict[str, Path]]
    reference: str
    ratio_target: float
    rss_target_mb: float
    scale_target: float
    scale_rss_target_mb: float


SHAPES = {
    "real": Shape("real", write_real_feeds, "bench_reference_real.py", 1.5, 1200, 5.5, 4096),
    "easy": Shape("easy", write_feeds, "bench_reference.py", 1.6, 1536, 6.0, 4096),
}


def _reference(shape: Shape, folder: Path, out: Path) -> Measure:
    script = Path(__file__).resolve().parent / shape.reference
    return _measure([sys.executable, str(script), str(folder), str(out)])


def _report(label: str, measure: Measure, rows: int) -> dict[str, float]:
    line = {
        "wall_s": round(measure.wall_s, 3),
        "cpu_s": round(measure.cpu_s, 3),
        "rows_per_s": round(rows / measure.wall_s),
        "peak_rss_mb": round(measure.peak_rss_mb, 1),
        "exit_code": measure.exit_code,
    }
    print(f"{label:>22}: {json.dumps(line)}")
    return line


def _median(measures: list[Measure]) -> Measure:
    """The run of median wall time (its own CPU and RSS); the RSS reported is the largest."""
    middle = sorted(measures, key=lambda m: m.wall_s)[len(measures) // 2]
    peak = max(m.peak_rss_mb for m in measures)
    return Measure(middle.wall_s, middle.cpu_s, peak, max(m.exit_code for m in measures))


def _scale_one(shape: Shape, repeat: int) -> tuple[Measure, Measure]:
    """Median local-run and median reference at scale 1, runs alternating (fair under load)."""
    folder = DATA / f"{shape.name}-scale1"
    paths = shape.write(folder, 200_000)
    locals_, references = [], []
    _local_run(folder, paths, folder / "out-local")  # warm-up: bytecode, page cache
    _reference(shape, folder, folder / "out-ref")
    for _ in range(repeat):
        locals_.append(_local_run(folder, paths, folder / "out-local"))
        references.append(_reference(shape, folder, folder / "out-ref"))
    return _median(locals_), _median(references)


def run(shape: Shape, scale: int, repeat: int) -> bool:
    rows = 200_000 * scale
    folder = DATA / f"{shape.name}-scale{scale}"
    paths = shape.write(folder, rows)
    total = rows * len(paths)
    print(f"[{shape.name}] {len(paths)} feeds × {rows:,} rows = {total:,} rows in {folder}")
    local_1, reference_1 = _scale_one(shape, repeat)
    if scale == 1:
        local = _report("relay local-run", local_1, total)
        _report("polars reference", reference_1, total)
        ratio = local_1.wall_s / reference_1.wall_s
        cpu_ratio = local_1.cpu_s / reference_1.cpu_s
        print(f"{'ratio':>22}: {ratio:.2f}× wall (target ≤ {shape.ratio_target}×), "
              f"{cpu_ratio:.2f}× CPU; peak RSS target < {shape.rss_target_mb:.0f} MB")  # fmt: skip
        return (
            local_1.exit_code == 0
            and ratio <= shape.ratio_target
            and local["peak_rss_mb"] < shape.rss_target_mb
        )
    runs = [_local_run(folder, paths, folder / "out-local") for _ in range(repeat)]
    big = _median(runs)
    local = _report("relay local-run", big, total)
    _report("local-run at scale 1", local_1, total // scale)
    _report("reference at scale 1", reference_1, total // scale)
    ratio = big.wall_s / local_1.wall_s
    print(f"{'scale ratio':>22}: {ratio:.2f}× the scale-1 local-run (target < "
          f"{shape.scale_target}×), {big.wall_s / reference_1.wall_s:.2f}× the scale-1 "
          f"reference; peak RSS target < {shape.scale_rss_target_mb:.0f} MB")  # fmt: skip
    return (
        big.exit_code == 0
        and ratio < shape.scale_target
        and local["peak_rss_mb"] < shape.scale_rss_target_mb
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, choices=(1, 5), default=1)
    parser.add_argument("--shape", choices=("real", "easy", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=3, help="median of N runs")
    options = parser.parse_args()
    names = ("real", "easy") if options.shape == "both" else (options.shape,)
    results = {name: run(SHAPES[name], options.scale, options.repeat) for name in names}
    for name, ok in results.items():
        print(f"[{name}] scale {options.scale}: {'PASS' if ok else 'FAIL'}")
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
