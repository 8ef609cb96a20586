from __future__ import annotations

from datetime import UTC, datetime

import pytest

from relay_ingest.domain.pinning import (
    UnknownVendorError,
    latest_inbound,
    vendors_for_run,
)
from relay_shared.storage import ObjectInfo

T1 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
T2 = datetime(2026, 11, 22, 11, 0, tzinfo=UTC)


def test_all_configured_vendors_when_none_requested() -> None:
    assert vendors_for_run(["a", "b", "c"], None) == ["a", "b", "c"]


def test_requested_subset_keeps_config_order() -> None:
    assert vendors_for_run(["a", "b", "c"], ["c", "a"]) == ["a", "c"]


def test_unknown_requested_vendor_is_named() -> None:
    with pytest.raises(UnknownVendorError, match="vendors not in the tenant config: x, z") as exc:
        vendors_for_run(["a"], ["z", "a", "x"])
    assert exc.value.vendors == ["x", "z"]


def test_latest_upload_wins_then_greatest_key_on_equal_times() -> None:
    objects = [
        ObjectInfo("k/2026/11/22/20261122T100000-a/raw.csv", 10, T1),
        ObjectInfo("k/2026/11/22/20261122T110000-b/raw.csv", 20, T2),
        ObjectInfo("k/2026/11/22/20261122T110000-c/raw.csv", 30, T2),
    ]
    assert latest_inbound(objects) == objects[2]


def test_no_upload_means_no_feed() -> None:
    assert latest_inbound([]) is None
