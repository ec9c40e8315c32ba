#!/usr/bin/env bash
# Builds the wg-relay container image from this checkout with Docker or, where no Docker
# engine runs, podman.
#   scripts/build-image.sh [--tag TAG] [--base IMAGE | --local-base] [-- extra build args]
#     --tag TAG      image name (default localhost/wg-relay:latest)
#     --base IMAGE   BASE_IMAGE of every stage (default: the Dockerfile's, debian:bookworm-slim)
#     --local-base   no registry: debootstrap a Debian bookworm base from the apt mirror
#                    first (scripts/make-base-image.sh, podman only) and build on it
# The build host's CA bundle is handed to the build stage as the secret ca-certificates,
# so Maven reaches Maven Central through a TLS-intercepting proxy the host trusts.
# Prints the build time on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."

tag=localhost/wg-relay:latest
base=""
local_base=0
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) tag="$2"; shift 2 ;;
    --base) base="$2"; shift 2 ;;
    --local-base) local_base=1; shift ;;
    --) shift; extra+=("$@"); break ;;
    *) echo "build-image.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  engine=(docker)
  [ "$local_base" = 1 ] && { echo "build-image.sh: --local-base needs podman" >&2; exit 2; }
elif command -v podman >/dev/null 2>&1; then
  # Hosts like our CI machines need scripts/podman-containers.conf (see its header).
  export CONTAINERS_CONF="${CONTAINERS_CONF:-$PWD/scripts/podman-containers.conf}"
  engine=(podman)
  extra=(--network host "${extra[@]}")
else
  echo "build-image.sh: neither a Docker engine nor podman (apt-get install podman runc)" >&2
  exit 1
fi

if [ "$local_base" = 1 ]; then
  base="${base:-localhost/wg-relay-base:bookworm}"
  scripts/make-base-image.sh "$base"
fi
args=(build -t "$tag")
[ -n "$base" ] && args+=(--build-arg "BASE_IMAGE=$base")
[ -s /etc/ssl/certs/ca-certificates.crt ] \
  && args+=(--secret id=ca-certificates,src=/etc/ssl/certs/ca-certificates.crt)

start=$(date +%s)
"${engine[@]}" "${args[@]}" "${extra[@]}" .
echo "built $tag with ${engine[0]} in $(( $(date +%s) - start )) s"
