#!/usr/bin/env bash
# Integration tests on the real kernel. Probes what they need first and
# says plainly what is missing; as non-root they are reported skipped.
set -u
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)

skip_all() {
	echo "SKIP integration tests: $1"
	echo "integration: 0 passed, 0 failed, 1 skipped"
	exit 0
}
[ "$(id -u)" -eq 0 ] || skip_all "need root (sudo make test) to load BPF programs"
[ -r /sys/kernel/btf/vmlinux ] || skip_all "kernel has no BTF (/sys/kernel/btf/vmlinux)"
grep -q ' cgroup2 ' /proc/mounts || skip_all "cgroup v2 is not mounted"
# tracefs is where bpf_printk output goes when debugging; harmless if present
grep -q ' tracefs ' /proc/mounts || mount -t tracefs none /sys/kernel/tracing 2>/dev/null || true

HW_BUILD=$build exec python3 "$here/main.py"
