"""What the operator commands show, as pure functions of the gateway's answers: the live
watch view (a rich renderable: one progress bar for the run's stages and one per vendor), the
lines a non-terminal watch prints as the run moves, the closing summary with artifact links,
the run list, and a refused request's problems."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime

from rich.console import Console, Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from relay_cli.operator.client import GatewayAnswerError
from relay_cli.operator.models import VENDOR_DONE, ArtifactLink, RunSnapshot, VendorProgress
from relay_shared.run_states import FAILED, STAGES, SUCCEEDED

BAR_WIDTH = 30
#: A vendor's steps: its feed received (normalizing), normalized, merged into the run's output.
VENDOR_STEPS = 3
MERGED_STATUSES = frozenset({"ok", "unchanged"})


def stage_step(run: RunSnapshot) -> tuple[int, int]:
    """(steps done, steps in all) of the run's stages; ``done`` is the last."""
    index = STAGES.index(run.stage) if run.stage in STAGES else 0
    return index, len(STAGES) - 1


def vendor_step(run: RunSnapshot, vendor: VendorProgress | None) -> tuple[int, str]:
    """(steps done out of VENDOR_STEPS, what the vendor is at)."""
    if vendor is None:
        return 0, "waiting for its feed"
    if vendor.status not in VENDOR_DONE:
        return 1, "feed received, normalizing"
    if run.status == SUCCEEDED and vendor.status in MERGED_STATUSES:
        return 3, f"{vendor.status}, merged"
    return 2, vendor.status


def _style(run: RunSnapshot, failed: bool = False) -> str:
    if failed or run.status == FAILED:
        return "red"
    return "green" if run.status == SUCCEEDED else "yellow"


def _counts(vendor: VendorProgress | None) -> str:
    if vendor is None:
        return ""
    return (
        f"rows {vendor.rows}  accepted {vendor.accepted}  rejected {vendor.rejected}"
        f"  duplicates {vendor.duplicates}"
    )


def _elapsed(run: RunSnapshot, now: datetime) -> float:
    end = run.finished_at or now
    return max((end - run.requested_at).total_seconds(), 0.0)


def _bar(done: int, total: int, style: str, *, plain: bool) -> RenderableType:
    """rich's bar, or (``plain``) ``[#####-----]``, readable without colour."""
    if not plain:
        return ProgressBar(
            total=total, completed=done, width=BAR_WIDTH, complete_style=style, finished_style=style
        )
    filled = round(BAR_WIDTH * done / total) if total else BAR_WIDTH
    return Text("[" + "#" * filled + "-" * (BAR_WIDTH - filled) + "]")


def watch_view(
    run: RunSnapshot, now: datetime, expected_vendors: Sequence[str] = (), *, plain: bool = False
) -> RenderableType:
    """The live view of one run snapshot: a header, the stage bar and a bar per vendor
    (``expected_vendors`` not yet seen show as waiting); ``plain``: ASCII bars."""
    header = Text(
        f"run {run.run_id}  tenant {run.tenant_id}  config v{run.config_version}  "
        f"{run.status}  {_elapsed(run, now):.1f}s",
        style="bold",
    )
    grid = Table.grid(padding=(0, 2))
    for _ in range(4):
        grid.add_column()
    done, total = stage_step(run)
    bar = _bar(done, total, _style(run), plain=plain)
    grid.add_row("stage", bar, f"{run.stage} ({done}/{total})", "")
    for vendor_id in sorted({*run.vendors, *expected_vendors}):
        vendor = run.vendors.get(vendor_id)
        step, label = vendor_step(run, vendor)
        failed = vendor is not None and vendor.status in ("failed", "missing")
        bar = _bar(step, VENDOR_STEPS, _style(run, failed), plain=plain)
        grid.add_row(vendor_id, bar, label, _counts(vendor))
    return Group(header, grid)


def as_text(renderable: RenderableType, width: int = 120) -> str:
    """``renderable`` as plain text (no colour, no control codes, no trailing spaces)."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, force_terminal=False)
    console.print(renderable)
    return "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())


def change_lines(previous: RunSnapshot | None, current: RunSnapshot) -> list[str]:
    """What moved between two snapshots, one line each (the run's status or stage, then each
    vendor whose step or counts changed): what a watch prints when not on a terminal."""
    lines: list[str] = []
    if previous is None or (previous.status, previous.stage) != (current.status, current.stage):
        lines.append(f"run {current.status} stage {current.stage}")
    for vendor_id, vendor in current.vendors.items():
        _, label = vendor_step(current, vendor)
        if previous is not None:
            before = previous.vendors.get(vendor_id)
            if before == vendor and vendor_step(previous, before)[1] == label:
                continue
        lines.append(f"vendor {vendor_id} {label}  {_counts(vendor)}")
    return lines


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "") -> list[str]:
    """Left-aligned columns, two spaces apart (trailing spaces stripped)."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    return [
        (indent + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))).rstrip()
        for row in (header, *rows)
    ]


def summary_lines(run: RunSnapshot, artifacts: Sequence[ArtifactLink] = ()) -> list[str]:
    """The closing summary: outcome, per-vendor counts, merged counts, the error, the links."""
    took = run.seconds()
    lines = [
        f"run {run.run_id} {run.status}"
        + ("" if took is None else f" in {took:.2f}s")
        + f" (tenant {run.tenant_id}, config v{run.config_version}, stage {run.stage})"
    ]
    rows = [
        [vendor_id, v.status, str(v.rows), str(v.accepted), str(v.rejected), str(v.duplicates)]
        for vendor_id, v in run.vendors.items()
    ]
    if rows:
        header = ("vendor", "status", "rows", "accepted", "rejected", "duplicates")
        lines.extend(_table(header, rows, indent="  "))
    if run.merged_rows is not None:
        lines.append(f"  merged rows {run.merged_rows}, skus left out {run.skus_left_out}")
    if run.error is not None:
        report = "" if run.error.report_key is None else f" (report {run.error.report_key})"
        lines.append(f"  error {run.error.code}: {run.error.message}{report}")
    if artifacts:
        expires = min(a.expires_at for a in artifacts).isoformat()
        lines.append(f"artifacts (links valid until {expires}):")
        lines.extend(f"  {a.name}  {a.size} B  {a.url}" for a in artifacts)
    return lines


def run_list_lines(runs: Sequence[RunSnapshot]) -> list[str]:
    """The runs as columns, newest first as the gateway lists them."""
    if not runs:
        return ["no runs"]
    header = ("RUN_ID", "STATUS", "STAGE", "REQUESTED_AT", "TOOK", "MERGED", "ERROR")
    rows = [
        [
            run.run_id,
            run.status,
            run.stage,
            run.requested_at.isoformat(timespec="seconds"),
            "-" if run.seconds() is None else f"{run.seconds():.2f}s",
            "-" if run.merged_rows is None else str(run.merged_rows),
            "-" if run.error is None else run.error.code,
        ]
        for run in runs
    ]
    return _table(header, rows)


def refusal_lines(error: GatewayAnswerError) -> list[str]:
    """A refused request: its status, code and message, then each problem by path."""
    lines = [f"{error.message} ({error.status} {error.code})"]
    lines.extend(f"  {p.path or '(document)'}: {p.message}" for p in error.problems)
    return lines
