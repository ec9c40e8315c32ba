#!/usr/bin/env bash
# Installs what building wg-relay and running its tests needs on Debian 12, skipping
# what is already there. Needs root (or sudo) for apt.
#   scripts/install-deps.sh          build + run: JDK 17 and Maven
#   scripts/install-deps.sh --tests  also the end-to-end test tools
set -euo pipefail

packages=(openjdk-17-jdk-headless maven)
commands=(javac mvn)
if [ "${1:-}" = "--tests" ]; then
  # wireguard-go + wg: real WireGuard peers; iproute2: namespaces and veth;
  # iputils-ping: ping through the tunnel; procps: pgrep in the leftover checks.
  packages+=(wireguard-go wireguard-tools iproute2 iputils-ping procps)
  commands+=(wireguard-go wg ip ping pgrep)
fi

missing=()
for i in "${!packages[@]}"; do
  command -v "${commands[$i]}" >/dev/null 2>&1 || missing+=("${packages[$i]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
