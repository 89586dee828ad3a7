# syntax=docker/dockerfile:1.7
#
# One image for every AIFLUX service and process; what runs is chosen at start by the
# arguments given to the `aiflux` console script (package aiflux-runner), e.g.
#   docker run IMAGE api billing --host 0.0.0.0 --port 8000
#   docker run IMAGE worker billing --health-port 8081
#   docker run IMAGE migrate billing
#   docker run IMAGE web --port 8080
# Kubernetes passes the same arguments as `args:` (deploy/k8s/).
#
# Build: docker build -t aiflux:dev .

ARG PYTHON_VERSION=3.11
ARG DEBIAN_RELEASE=bookworm
ARG UV_VERSION=0.13.9

FROM ghcr.io/astral-sh/uv:${UV_VERSION} AS uv

# ---------------------------------------------------------------------------------------------
# build: resolve nothing, install exactly what uv.lock pins into /opt/aiflux/venv
# ---------------------------------------------------------------------------------------------
FROM python:${PYTHON_VERSION}-slim-${DEBIAN_RELEASE} AS build
COPY --from=uv /uv /usr/local/bin/uv

ENV UV_PROJECT_ENVIRONMENT=/opt/aiflux/venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3
WORKDIR /src

# Third-party dependencies first, in their own layer: it only changes when uv.lock does.
# --frozen installs from the lock alone, so the members' pyproject.toml files are not needed yet.
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    uv sync --frozen --no-dev --all-packages --no-install-workspace

# Then the workspace members (libs/*, services/*, web: the web client's server and its static
# files), installed as regular wheels (--no-editable)
# so the runtime image needs no source tree.
COPY pyproject.toml uv.lock ./
COPY libs ./libs
COPY services ./services
COPY web ./web
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --all-packages --no-editable \
 && /opt/aiflux/venv/bin/aiflux --help >/dev/null

# ---------------------------------------------------------------------------------------------
# runtime: the venv on a slim Python, no compilers, no uv, a non-root user
# ---------------------------------------------------------------------------------------------
FROM python:${PYTHON_VERSION}-slim-${DEBIAN_RELEASE} AS runtime

# tini is PID 1: it forwards SIGTERM to aiflux (the worker drains in-flight messages on it)
# and reaps zombies; Python as PID 1 would ignore SIGTERM wherever no handler is installed.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 aiflux \
 && useradd --system --uid 10001 --gid aiflux --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin aiflux

COPY --from=build /opt/aiflux/venv /opt/aiflux/venv

# The root filesystem is read-only in Kubernetes: bytecode is compiled at build time, and
# anything temporary goes to /tmp (an emptyDir there).
ENV PATH=/opt/aiflux/venv/bin:$PATH \
    VIRTUAL_ENV=/opt/aiflux/venv \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp

USER 10001:10001
WORKDIR /tmp
EXPOSE 8000 8081

ENTRYPOINT ["/usr/bin/tini", "--", "aiflux"]
CMD ["--help"]
