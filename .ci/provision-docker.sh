#!/usr/bin/env bash
# Provision a Docker engine, the Compose v2 plugin and the local base image
# on a machine that has only the docker client and no registry access.
# Every step is idempotent: it checks before it acts. Why each step is needed: see
# docker-here.md beside this project's checkout (../shared/docs/docker-here.md from the
# repository root, /work/shared/docs/docker-here.md on these machines).
set -euo pipefail

BASE_IMAGE_TAG="${TWG_BASE_IMAGE:-twg-base:bookworm}"
ROOTFS_CACHE="${TWG_ROOTFS_CACHE:-/var/cache/twg/rootfs-bookworm.tar}"
PLUGIN=/usr/local/lib/docker/cli-plugins/docker-compose

log() { printf '[provision %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }

timed() {
  local what="$1"; shift
  local start=$SECONDS
  log "start: $what"
  "$@"
  log "done:  $what ($((SECONDS - start)) s)"
}

APT_UPDATED=0
apt_update_once() {
  if [ "$APT_UPDATED" = 0 ]; then
    apt-get update -qq
    APT_UPDATED=1
  fi
}

install_engine() {
  if command -v dockerd >/dev/null 2>&1; then
    log "dockerd already installed"
    return
  fi
  apt_update_once
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
}

start_engine() {
  if docker info >/dev/null 2>&1; then
    log "docker engine already answering"
    return
  fi
  # A killed session leaves a stale pid file that makes dockerd refuse to start.
  if [ -f /var/run/docker.pid ] && ! pgrep -x dockerd >/dev/null 2>&1; then
    log "removing stale /var/run/docker.pid"
    rm -f /var/run/docker.pid
  fi
  if ! pgrep -x dockerd >/dev/null 2>&1; then
    setsid dockerd >/var/log/dockerd.log 2>&1 < /dev/null &
  fi
  local i
  for i in $(seq 1 60); do
    if docker info >/dev/null 2>&1; then
      return
    fi
    sleep 1
  done
  log "dockerd did not answer within 60 s; tail of /var/log/dockerd.log:"
  tail -n 30 /var/log/dockerd.log >&2 || true
  return 1
}

install_compose_plugin() {
  if docker compose version >/dev/null 2>&1; then
    log "compose plugin present: $(docker compose version --short 2>/dev/null || true)"
    return
  fi
  if grep -q '^13' /etc/debian_version 2>/dev/null; then
    apt_update_once
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null
    return
  fi
  # Debian 12 only has Compose v1; Debian 13's docker-compose is the static v2
  # plugin. Fetch it through a throwaway sources list so the machine's apt
  # configuration stays untouched.
  local work
  work="$(mktemp -d)"
  chmod 755 "$work"  # apt downloads as _apt and must be able to write here
  awk 'BEGIN{RS="";ORS="\n\n"} NR==1' /etc/apt/sources.list.d/debian.sources \
    | sed 's/^Suites:.*/Suites: trixie/' > "$work/trixie.sources"
  mkdir -p "$work/lists/partial"
  local opts=(-o "Dir::Etc::sourcelist=$work/trixie.sources" -o Dir::Etc::sourceparts=/dev/null
    -o "Dir::State::Lists=$work/lists")
  apt-get "${opts[@]}" update -qq
  (cd "$work" && apt-get "${opts[@]}" download docker-compose >/dev/null)
  dpkg -x "$work"/docker-compose_2*.deb "$work/dc"
  install -D "$work/dc/usr/libexec/docker/cli-plugins/docker-compose" "$PLUGIN"
  rm -rf "$work"
  docker compose version
}

build_base_image() {
  if docker image inspect "$BASE_IMAGE_TAG" >/dev/null 2>&1; then
    log "base image $BASE_IMAGE_TAG already present"
    return
  fi
  if [ ! -s "$ROOTFS_CACHE" ]; then
    command -v debootstrap >/dev/null 2>&1 || {
      apt_update_once
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
    }
    local mirror rootfs
    mirror="$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)"
    rootfs="$(mktemp -d)"
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
      bookworm "$rootfs" "$mirror" >/dev/null
    mkdir -p "$(dirname "$ROOTFS_CACHE")"
    # Write to a temp name first so an interrupted run never leaves a truncated cache.
    tar -C "$rootfs" -cf "$ROOTFS_CACHE.tmp" .
    mv "$ROOTFS_CACHE.tmp" "$ROOTFS_CACHE"
    rm -rf "$rootfs"
  else
    log "using cached rootfs $ROOTFS_CACHE"
  fi
  docker import "$ROOTFS_CACHE" "$BASE_IMAGE_TAG" >/dev/null
}

timed "docker engine package" install_engine
timed "docker engine running" start_engine
timed "compose v2 plugin" install_compose_plugin
timed "base image $BASE_IMAGE_TAG" build_base_image
