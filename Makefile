# Relay — the two set-up commands are `make demo` and `make test`; both install what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
UV := $(PYTHON) -m uv
export UV_PYTHON_DOWNLOADS := never
# The suite's pytest workers (pytest-xdist, each with its own embedded stack; a test file's
# tests stay on one worker, so a module's live system starts once): one per core by default.
TEST_WORKERS ?= auto
PACKAGES := -p relay_shared -p relay_gateway -p relay_ingest -p relay_normalize -p relay_pricing -p relay_insights -p relay_sheets -p relay_channels -p relay_cli

.PHONY: help setup demo up test lint format asyncapi bench clean

help:
	@echo "make demo   - install, start the embedded stack, run the example tenant end to end, stop"
	@echo "make test   - install, lint (ruff, mypy) and run the whole test suite"
	@echo "make up     - start the embedded stack and every service (Ctrl-C stops)"
	@echo "make bench  - engine and webhook benchmarks (prints figures)"
	@echo "make asyncapi - regenerate shared/asyncapi.json"

setup:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check uv
	$(UV) sync --all-packages --frozen --python 3.11

demo: setup
	$(UV) run --frozen relay demo

up: setup
	$(UV) run --frozen relay up

lint: setup
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy $(PACKAGES)
	$(UV) run --frozen relay asyncapi --check

test: lint
	$(UV) run --frozen pytest -n $(TEST_WORKERS) --dist loadfile

format: setup
	$(UV) run --frozen ruff check --fix .
	$(UV) run --frozen ruff format .

asyncapi: setup
	$(UV) run --frozen relay asyncapi

bench: setup
	$(UV) run --frozen python tests/bench/bench_engine.py --scale 1
	$(UV) run --frozen python tests/bench/bench_engine.py --scale 5
	$(UV) run --frozen python tests/bench/bench_webhook.py --seconds 30
	$(UV) run --frozen python tests/bench/bench_http_floor.py --seconds 20
	$(UV) run --frozen python tests/bench/bench_telemetry.py --rows 200000 --repeat 2
	$(UV) run --frozen python -m tests.bench.bench_sheets_google --orders 5000 --rate 100
	$(UV) run --frozen python tests/bench/bench_workbook_save.py --orders 3000 --saves 100
	$(UV) run --frozen python -m tests.bench.bench_consumer --events 20000
	$(UV) run --frozen python tests/bench/bench_channels.py --insights 1000
	$(UV) run --frozen python tests/bench/bench_insights_daily.py --products 100000 --channels 3
	$(UV) run --frozen python tests/bench/bench_changes.py --rows 1000000
	$(UV) run --frozen python tests/bench/bench_preview.py --rows 1000000 --repeat 3
	$(UV) run --frozen python tests/bench/bench_bucket_poll.py --tenants 100 --vendors 5
	$(UV) run --frozen python tests/bench/bench_explain.py --rows 200000 --lookups 200
	$(UV) run --frozen python tests/bench/bench_explain_http.py --rows 200000 --lookups 200
	$(UV) run --frozen python -m tests.bench.bench_sheets_feed --rows 1000000
	$(UV) run --frozen python -m tests.bench.bench_insights_feed --rows 1000000
	$(UV) run --frozen python tests/bench/bench_bucket_drop.py --repeat 3 --poll 5
	$(UV) run --frozen python tests/bench/bench_image_size.py
	$(UV) run --frozen python tests/bench/bench_service_path.py

clean:
	rm -rf .relay out bench-out .pytest_cache .mypy_cache .ruff_cache
