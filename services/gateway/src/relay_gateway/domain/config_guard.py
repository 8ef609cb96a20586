"""Guarded activation: whether a preview's diff stays within the config's ``guard`` limits
(:mod:`relay_shared.tenant_config.guard` says what each limit measures)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from relay_shared.feed_diff import FeedDiff
from relay_shared.tenant_config import GuardConfig

_HUNDREDTH = Decimal("0.01")


@dataclass(frozen=True)
class Breach:
    """A limit the preview exceeds: ``actual`` (percent, two decimals) over ``allowed``."""

    limit: str
    allowed: Decimal
    actual: Decimal

    def __str__(self) -> str:
        return f"{self.limit}: {self.actual} % > {self.allowed} %"


def measured(diff: FeedDiff) -> dict[str, Decimal]:
    """What the preview moves, per guard limit, in percent (two decimals)."""
    base = diff.rows_before
    pct = diff.price_changes.pct
    largest = Decimal(0) if pct is None else Decimal(str(max(abs(pct.min), abs(pct.max))))
    return {
        "max_price_change_pct": _two_places(largest),
        "max_rows_removed_pct": _share(diff.removed, base),
        "max_oos_flips_pct": _share(diff.to_out_of_stock + diff.back_in_stock, base),
    }


def guard_breaches(guard: GuardConfig | None, diff: FeedDiff) -> list[Breach]:
    """The limits ``diff`` exceeds, in the guard's order (none without a guard)."""
    if guard is None:
        return []
    actual = measured(diff)
    limits = guard.model_dump()
    return [
        Breach(name, allowed, actual[name])
        for name, allowed in limits.items()
        if allowed is not None and actual[name] > allowed
    ]


def _share(count: int, base: int) -> Decimal:
    return Decimal(0) if base == 0 else _two_places(Decimal(count * 100) / Decimal(base))


def _two_places(value: Decimal) -> Decimal:
    return value.quantize(_HUNDREDTH, rounding=ROUND_HALF_UP)
