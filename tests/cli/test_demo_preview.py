"""``relay demo``'s preview step: the proposed config and the lines it prints."""

from __future__ import annotations

from relay_cli.demo_preview import dearer, preview_lines

ANSWER = {
    "preview_id": "run_01",
    "status": "SUCCEEDED",
    "config_version": 2,
    "base_run_id": "run_00",
    "diff": {
        "rows_before": 11,
        "rows_after": 11,
        "added": 0,
        "removed": 0,
        "changed": 11,
        "price_changes": {
            "count": 11,
            "cents": {"min": 50, "p50": 500, "p95": 900, "max": 900},
            "pct": {"min": 4.1, "p50": 4.17, "p95": 4.2, "max": 4.2},
        },
        "to_out_of_stock": 0,
        "back_in_stock": 0,
        "largest": [
            {"sku": "TIR-9001", "old_price": "111.99", "new_price": "120.99", "change_cents": 900}
        ],
    },
}


def test_the_proposed_config_is_five_points_dearer_and_the_original_is_untouched() -> None:
    config = {"tenant_id": "acme", "pricing": {"base_margin_pct": 0.2, "min_price": 1}}
    assert dearer(config) == {
        "tenant_id": "acme",
        "pricing": {"base_margin_pct": "0.25", "min_price": 1},
    }
    assert config["pricing"] == {"base_margin_pct": 0.2, "min_price": 1}


def test_the_preview_is_shown_in_short_lines() -> None:
    assert preview_lines(ANSWER, "0.25") == [
        "preview run_01 (base_margin_pct 0.25, config version 2, against run run_00): SUCCEEDED",
        "  rows 11 -> 11: 11 changed, 0 added, 0 removed",
        "  price changes: 11 SKUs, cents min 50 p50 500 p95 900 max 900; % p50 4.17 max 4.2",
        "  out of stock: 0 new, 0 back in stock",
        "  TIR-9001: 111.99 -> 120.99 (+900 cents)",
    ]
