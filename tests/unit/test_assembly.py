from __future__ import annotations

from relay_pricing.domain.assembly import VendorHandoff, inputs_for_merge, is_complete


def result(vendor: str, *, this_run: bool, status: str = "ok") -> VendorHandoff:
    return VendorHandoff(vendor, status, f"n/{vendor}", f"f/{vendor}", this_run)  # type: ignore[arg-type]


def test_complete_only_when_every_run_vendor_reported() -> None:
    assert not is_complete(["a"], ["a", "b"])
    assert is_complete(["b", "a"], ["a", "b"])
    assert is_complete(["a", "b", "c"], ["a", "b"])


def test_run_results_first_then_latest_good_then_missing_in_config_order() -> None:
    received = {"b": result("b", this_run=True, status="failed")}
    latest = {"a": result("a", this_run=False), "b": result("b", this_run=False)}
    chosen = inputs_for_merge(["c", "b", "a"], received, latest)
    assert chosen == [
        VendorHandoff("c", "missing", None, "", from_this_run=False),
        received["b"],
        latest["a"],
    ]
