#!/usr/bin/env bash
# Installs what building wg-relay and running its tests needs on Debian 12, skipping
# what is already there. Needs root (or sudo) for apt.
#   scripts/install-deps.sh          build + run: JDK 17, Maven, and the C toolchain the
#                                    XDP program and its helper are compiled with
#   scripts/install-deps.sh --tests  also the end-to-end test tools
set -euo pipefail

# package:command-or-file pairs; a package is installed when its probe is missing.
wanted=(
  openjdk-17-jdk-headless:javac maven:mvn make:make gcc:gcc pkg-config:pkg-config
  clang:clang llvm:llc libbpf-dev:/usr/include/bpf/libbpf.h libelf-dev:/usr/include/gelf.h
  zlib1g-dev:/usr/include/zlib.h linux-libc-dev:/usr/include/linux/bpf.h
)
if [ "${1:-}" = "--tests" ]; then
  # wireguard-go + wg: real WireGuard peers; iproute2: namespaces, veth, XDP on the far
  # end of a veth; iputils-ping: ping through the tunnel; procps: pgrep in the leftover
  # checks; python3: the helper protocol test; bpftool: its checks of the helper's maps
  # (counter slots, flags, NIC epoch); clang-format: the C style check;
  # podman + runc + debootstrap: the container image test (runc named explicitly:
  # apt would pick crun, which fails on this kind of machine's hybrid cgroups);
  # gnuplot-nox: the soak's plot (src-test/bench/soak.sh; the verdict does not need it);
  # etcd-server + etcd-client: the fleet tests' 3-member etcd cluster (org.wgrelay.it.fleet
  # starts its own members in a namespace of their own); keepalived: their VRRP failover;
  # iptables: cutting one relay's namespace off etcd; curl: keepalived's check of a relay's
  # /healthz; openssl: the store test's TLS certificates (relay-server EtcdTlsAuthTest).
  wanted+=(
    wireguard-go:wireguard-go wireguard-tools:wg iproute2:ip iputils-ping:ping procps:pgrep
    python3:python3 clang-format:clang-format podman:podman runc:runc debootstrap:debootstrap
    bpftool:bpftool gnuplot-nox:gnuplot etcd-server:/usr/bin/etcd etcd-client:/usr/bin/etcdctl
    keepalived:keepalived iptables:iptables curl:curl openssl:openssl
  )
fi

missing=()
for pair in "${wanted[@]}"; do
  pkg=${pair%%:*} probe=${pair#*:}
  if [[ $probe == /* ]]; then [ -e "$probe" ] && continue; else command -v "$probe" >/dev/null 2>&1 && continue; fi
  missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing: ${missing[*]}" >&2
$sudo apt-get update -qq
# etcd-server's and keepalived's maintainer scripts start their services (an etcd on the
# default ports 2379/2380, with its data in /var/lib/etcd). The tests run their own daemons
# and need neither: a policy-rc.d that answers 101 ("action forbidden") keeps invoke-rc.d
# from starting anything during this install. One that is already there (container images
# ship one) is left as it is.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
  $sudo chmod 755 "$policy"
  trap '$sudo rm -f "$policy"' EXIT
fi
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
