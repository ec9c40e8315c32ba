# wg-relay container image: `wg-relay serve`, configured through WG_RELAY_* variables
# (SPEC, "Daemon command line"), the roster on the volume /var/lib/wg-relay, run as the
# unprivileged user wg-relay (uid 10001).
#
#   docker build -t wg-relay .                      # or: podman build ...
#   docker run -d --name wg-relay --network host -v wg-relay:/var/lib/wg-relay wg-relay
#   docker exec wg-relay wg-relay ctl wg show
#
# Capabilities: the userspace path needs none (`--cap-drop ALL`). The XDP fast path
# (WG_RELAY_XDP_INTERFACE) needs `--cap-add NET_ADMIN --cap-add BPF`. Only the
# XDP helper uses them; it carries them as file capabilities, so it gets them even where
# the engine gives the non-root JVM none (podman also passes them on as ambient ones).
# podman's default seccomp profile (Debian 12) allows bpf(2) only with SYS_ADMIN: see
# docs/operations.md.
#
# Build arguments:
#   BASE_IMAGE  base of every stage (default debian:bookworm-slim); any Debian 12 image
#               with apt works, e.g. one imported from debootstrap where no registry is
#               reachable (scripts/make-base-image.sh).
#   WITH_XDP    auto (default): build the XDP helper, ship without it if that fails;
#               yes: fail the build if it fails; no: skip it (and clang).

ARG BASE_IMAGE=debian:bookworm-slim

# ---------------------------------------------------------------- build stage
FROM ${BASE_IMAGE} AS build
ARG WITH_XDP=auto
ENV DEBIAN_FRONTEND=noninteractive
# apt's downloads survive between builds in a cache mount (the official images delete
# them after every install; that hook would empty the cache).
RUN --mount=type=cache,id=wg-relay-apt-cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,id=wg-relay-apt-lists,target=/var/lib/apt/lists,sharing=locked \
    rm -f /etc/apt/apt.conf.d/docker-clean \
 && apt-get update -qq \
 && xdp_pkgs="" \
 && if [ "$WITH_XDP" != no ]; then \
      xdp_pkgs="clang llvm libbpf-dev libelf-dev zlib1g-dev pkg-config make gcc libc6-dev linux-libc-dev"; \
    fi \
 && apt-get install -y -qq --no-install-recommends openjdk-17-jdk-headless maven $xdp_pkgs >/dev/null
# Behind a TLS-intercepting proxy, Maven must trust the proxy's CA: pass a PEM bundle as
# the build secret ca-certificates, e.g. the build host's own trust store:
#   --secret id=ca-certificates,src=/etc/ssl/certs/ca-certificates.crt
# It is added to this stage's trust stores (system and Java) only; the image has none of it.
RUN --mount=type=secret,id=ca-certificates,required=false \
    if [ -s /run/secrets/ca-certificates ]; then \
      awk '/BEGIN CERTIFICATE/ {n++} n {print > ("/usr/local/share/ca-certificates/build-ca-" n ".crt")}' \
        /run/secrets/ca-certificates \
   && update-ca-certificates >/dev/null 2>&1 \
   && echo "build stage trusts $(ls /usr/local/share/ca-certificates | wc -l) extra CA certificates"; \
    fi

WORKDIR /src
COPY . .
RUN case "$WITH_XDP" in \
      no) echo "XDP helper: not built (WITH_XDP=no)" ;; \
      *) if make -C bpf >/tmp/bpf-build.log 2>&1; then \
           echo "XDP helper: built"; \
         elif [ "$WITH_XDP" = yes ]; then \
           cat /tmp/bpf-build.log; exit 1; \
         else \
           tail -n 20 /tmp/bpf-build.log; \
           echo "XDP helper: build failed; the image ships the userspace path only"; \
           rm -rf bpf/build; \
         fi ;; \
    esac
# Maven's local repository lives in a cache mount, so a rebuild after a source change
# downloads nothing. The Maven build runs `make -C bpf` itself unless told to skip it:
# skipped exactly when the step above left no helper.
RUN --mount=type=cache,id=wg-relay-m2,target=/root/.m2 \
    if [ -x bpf/build/wg-relay-xdp-helper ]; then xdp_skip=false; else xdp_skip=true; fi \
 && mvn -B -ntp -q -DskipTests -Dxdp.skip=$xdp_skip package -pl relay-dist -am \
 && mkdir -p /opt/wg-relay \
 && tar -xzf relay-dist/target/wg-relay-*.tar.gz -C /opt/wg-relay --strip-components=1

# -------------------------------------------------------------- runtime stage
FROM ${BASE_IMAGE}
ENV DEBIAN_FRONTEND=noninteractive
# A headless JRE; libbpf1/libelf1 for the XDP helper; setcap only while installing.
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless libbpf1 libelf1 libcap2-bin >/dev/null \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
 && groupadd --system --gid 10001 wg-relay \
 && useradd --system --uid 10001 --gid wg-relay --home-dir /var/lib/wg-relay \
      --shell /usr/sbin/nologin wg-relay \
 && install -d -o wg-relay -g wg-relay -m 0750 /var/lib/wg-relay

COPY --from=build /opt/wg-relay /opt/wg-relay
# The helper alone gets the XDP capabilities, and only when the container is granted them
# (they must be in its bounding set: --cap-add NET_ADMIN --cap-add BPF);
# without them it cannot even be started, which the relay reports as xdp_attach_failed.
RUN if [ -x /opt/wg-relay/bpf/build/wg-relay-xdp-helper ]; then \
      setcap cap_net_admin,cap_bpf+ep /opt/wg-relay/bpf/build/wg-relay-xdp-helper; \
    fi \
 && apt-get purge -y -qq libcap2-bin >/dev/null \
 && ln -s /opt/wg-relay/bin/wg-relay /usr/local/bin/wg-relay

ENV WG_RELAY_ROSTER=/var/lib/wg-relay/wg-roster \
    WG_RELAY_JAVA_OPTS="-XX:+UseZGC -Xms256m -Xmx256m -XX:+AlwaysPreTouch -XX:+ExitOnOutOfMemoryError -Dio.netty.leakDetection.level=disabled"
VOLUME /var/lib/wg-relay
WORKDIR /var/lib/wg-relay
USER wg-relay:wg-relay
# Informational: the relay's UDP port and the metrics listener (SPEC defaults).
EXPOSE 51820/udp 9108/tcp
ENTRYPOINT ["wg-relay"]
CMD ["serve"]

LABEL org.opencontainers.image.title="wg-relay" \
      org.opencontainers.image.description="Transparent UDP relay for stock WireGuard" \
      org.opencontainers.image.documentation="docs/operations.md"
