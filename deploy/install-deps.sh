#!/usr/bin/env bash
# Installs the Debian packages hydrawatch needs: `build` (what `make`
# compiles with: `make deps`) or `test` (the peers and tools the tests run:
# `make test-deps`), or both when no argument is given. Idempotent and
# non-interactive: it asks dpkg first and calls apt-get only for what is
# missing. `make run` and `make test` call it; plain `make` never does.
set -euo pipefail

BUILD_PKGS=(clang llvm make gcc pkg-config bpftool libbpf-dev libelf-dev zlib1g-dev
	libcmocka-dev libmicrohttpd-dev libjansson-dev libcurl4-openssl-dev libssl-dev
	libpcap-dev libclang-rt-14-dev)
TEST_PKGS=(iproute2 procps util-linux python3 curl nginx-light wrk openssl tcpdump nodejs
	prometheus prometheus-alertmanager dpkg-dev buildah python3-yaml logrotate)

case "${1:-all}" in
build) want=("${BUILD_PKGS[@]}") ;;
test) want=("${TEST_PKGS[@]}") ;;
all) want=("${BUILD_PKGS[@]}" "${TEST_PKGS[@]}") ;;
*) echo "usage: install-deps.sh [build|test]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing Debian packages: ${missing[*]}" >&2
	echo "install-deps: run 'sudo make deps test-deps' (or apt-get install them) and retry" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# postinst scripts may start default servers (nginx :80, prometheus :9090,
# alertmanager :9093) where systemd runs; tests start their own on free ports
for svc in nginx prometheus prometheus-alertmanager prometheus-node-exporter; do
	if systemctl is-active --quiet "$svc" 2>/dev/null; then systemctl stop "$svc" || true; fi
done
