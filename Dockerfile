# The twg distribution (the `twg` CLI and the `twg-mock-idp` mock IdP) in one image.
#
# Public default: `docker build .` starts from python:3.12-slim and installs from the
# package index. Machines without a registry or index access (see README "Offline
# Docker") pass a locally built base image and a host-built wheelhouse instead:
#
#   docker build --build-arg BASE_IMAGE=twg-base:bookworm --build-arg WHEELHOUSE=wheelhouse .
#
# One stage on purpose: the classic builder (no BuildKit) builds every stage in the
# file, so an unused "install from the index" stage would still run and fail offline.
ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}

# Empty: install from the package index. Otherwise a directory in the build context
# holding wheels for all dependencies and the build backend
# (pip wheel -w wheelhouse . hatchling); twg itself is always built from this source.
ARG WHEELHOUSE=""

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/twg/bin:$PATH

COPY . /src

# A venv works the same on python:3.12-slim and on Debian's python3 (which refuses
# system-wide pip installs, PEP 668).
RUN set -eu; \
    python3 -m venv /opt/twg; \
    if [ -n "$WHEELHOUSE" ]; then \
        /opt/twg/bin/pip install --no-cache-dir --no-index --find-links "/src/$WHEELHOUSE" /src; \
    else \
        /opt/twg/bin/pip install --no-cache-dir /src; \
    fi; \
    rm -rf /src; \
    twg --help >/dev/null; \
    twg-mock-idp --help >/dev/null

# Never run as root. The CLI keeps its config (0700) in the user's home; a named
# volume mounted there inherits this ownership.
RUN useradd --create-home --uid 10001 --user-group twg \
    && install -d -m 0700 -o twg -g twg /home/twg/.config /home/twg/.config/twg /home/twg/state \
        /run/twg-mock
USER twg
WORKDIR /home/twg

EXPOSE 8080
CMD ["twg-mock-idp", "serve", "--host", "0.0.0.0", "--port", "8080"]
