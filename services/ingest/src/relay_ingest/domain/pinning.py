"""Which inbound file feeds a run, for each vendor."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar


class Listed(Protocol):
    """An object of a listing (``relay_shared.storage.ObjectInfo``)."""

    @property
    def key(self) -> str: ...

    @property
    def last_modified(self) -> datetime: ...


L = TypeVar("L", bound=Listed)


@dataclass(frozen=True)
class PinnedFeed:
    vendor_id: str
    key: str | None
    size: int | None


class UnknownVendorError(ValueError):
    def __init__(self, vendors: Sequence[str]) -> None:
        super().__init__(f"vendors not in the tenant config: {', '.join(vendors)}")
        self.vendors = list(vendors)


def vendors_for_run(configured: Sequence[str], requested: Sequence[str] | None) -> list[str]:
    """The vendors that get a fresh feed: all configured ones, or the requested subset
    (in config order). An unknown requested vendor is an error."""
    if requested is None:
        return list(configured)
    unknown = sorted(set(requested) - set(configured))
    if unknown:
        raise UnknownVendorError(unknown)
    wanted = set(requested)
    return [vendor for vendor in configured if vendor in wanted]


def latest_inbound(objects: Iterable[L]) -> L | None:
    """The newest upload: latest modification time, then the greatest key (upload ids sort
    by time), so the choice is stable when two uploads share a timestamp."""
    return max(objects, key=lambda o: (o.last_modified, o.key), default=None)
