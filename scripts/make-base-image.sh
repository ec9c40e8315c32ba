#!/usr/bin/env bash
# Builds a Debian bookworm base image from the Debian mirror with debootstrap and imports
# it into podman, for machines that reach Debian's packages but no container registry.
#   scripts/make-base-image.sh [TAG]      default TAG: localhost/wg-relay-base:bookworm
# Skips the work when TAG already exists. Needs root, debootstrap and podman. Then:
#   scripts/build-image.sh --base localhost/wg-relay-base:bookworm
set -euo pipefail
cd "$(dirname "$0")/.."
tag="${1:-localhost/wg-relay-base:bookworm}"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$PWD/scripts/podman-containers.conf}"

if podman image exists "$tag"; then
  echo "base image $tag already exists" >&2
  exit 0
fi
# The mirror this host's apt uses (deb822 first, then a classic sources.list line).
mirror="${DEBIAN_MIRROR:-}"
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list.d/debian.sources ]; then
  mirror="$(awk '/^URIs:/ && $2 ~ /\/debian\/?$/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)"
fi
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
  mirror="$(awk '$1 == "deb" && $2 ~ /\/debian\/?$/ {print $2; exit}' /etc/apt/sources.list)"
fi
mirror="${mirror:-http://deb.debian.org/debian}"

rootfs="$(mktemp -d /var/tmp/wg-relay-rootfs.XXXXXX)"
trap 'rm -rf "$rootfs"' EXIT
echo "debootstrap bookworm from $mirror into $rootfs ..." >&2
debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1 \
  || { tail -20 "$rootfs.log" >&2; rm -f "$rootfs.log"; exit 1; }
rm -f "$rootfs.log"
# What the official slim images do too: no package caches or docs kept in layers.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
tar -C "$rootfs" --numeric-owner --xattrs -c . \
  | podman import -q --change 'CMD ["/bin/bash"]' - "$tag" >/dev/null
echo "imported $tag" >&2
