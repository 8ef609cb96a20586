# syntax=docker/dockerfile:1.7
# One image for every Relay service; the container command picks it:
#   relay serve gateway | ingest | normalize | pricing | insights | sheets

ARG PYTHON_VERSION=3.11

# --- build: resolve the locked dependencies, then install the workspace (non-editable) ---
FROM python:${PYTHON_VERSION}-slim AS build
COPY --from=ghcr.io/astral-sh/uv:0.5 /uv /uvx /bin/
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src

# Dependencies first (cached while only source changes): the lock and every member's pyproject.
COPY pyproject.toml uv.lock ./
COPY shared/pyproject.toml shared/
COPY services/cli/pyproject.toml services/cli/
COPY services/gateway/pyproject.toml services/gateway/
COPY services/ingest/pyproject.toml services/ingest/
COPY services/normalize/pyproject.toml services/normalize/
COPY services/pricing/pyproject.toml services/pricing/
COPY services/insights/pyproject.toml services/insights/
COPY services/sheets/pyproject.toml services/sheets/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --all-packages --no-install-workspace

COPY shared/ shared/
COPY services/ services/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --all-packages --no-editable

# --- runtime: the virtualenv only, as an unprivileged user ---
FROM python:${PYTHON_VERSION}-slim AS runtime
RUN groupadd --system --gid 10001 relay \
    && useradd --system --uid 10001 --gid relay --no-create-home relay \
    && mkdir -p /var/lib/relay && chown relay:relay /var/lib/relay
COPY --from=build /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    APP_STATE_DIR=/var/lib/relay
USER 10001:10001
WORKDIR /var/lib/relay
EXPOSE 8080
CMD ["relay", "--help"]
