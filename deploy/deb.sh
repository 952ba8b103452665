#!/usr/bin/env bash
# `make deb`: stages the package tree in OUT/deb and builds
# OUT/hydrawatch_VERSION_ARCH.deb with dpkg-deb alone (no network, no root:
# files are owned by root in the archive). Depends: is computed by
# dpkg-shlibdeps from the binary's NEEDED libraries.
set -euo pipefail
umask 022

out=${1:?usage: deb.sh OUTPUT BINARY VERSION}
bin=${2:?usage: deb.sh OUTPUT BINARY VERSION}
version=${3:?usage: deb.sh OUTPUT BINARY VERSION}
here=$(cd "$(dirname "$0")" && pwd)
arch=$(dpkg --print-architecture)
deb=$out/hydrawatch_${version}_${arch}.deb
stage=$out/deb
root=$stage/hydrawatch

rm -rf "$stage"
mkdir -p "$root/DEBIAN" "$stage/debian"

# files; the unit runs the packaged binary on the packaged config
install -D -m 0755 "$bin" "$root/usr/sbin/hydrawatch"
strip --strip-unneeded "$root/usr/sbin/hydrawatch"
install -d -m 0755 "$root/usr/share/man/man8"
gzip -9n <"$here/hydrawatch.8" >"$root/usr/share/man/man8/hydrawatch.8.gz"
install -d -m 0755 "$root/lib/systemd/system"
sed 's|^ExecStart=.*|ExecStart=/usr/sbin/hydrawatch --config /etc/hydrawatch/hydrawatch.conf|' \
	"$here/hydrawatch.service" >"$root/lib/systemd/system/hydrawatch.service"
chmod 0644 "$root/lib/systemd/system/hydrawatch.service"
install -D -m 0644 "$here/hydrawatch.conf" "$root/etc/hydrawatch/hydrawatch.conf"
install -D -m 0644 "$here/logrotate/hydrawatch" "$root/etc/logrotate.d/hydrawatch"
install -d -m 0755 "$root/var/log/hydrawatch"
install -D -m 0644 "$here/debian/copyright" "$root/usr/share/doc/hydrawatch/copyright"
# rules, dashboards, their Grafana provisioning and the Alertmanager
# routing: whatever deploy/ holds when the package is built, at the same
# paths below /usr/share/hydrawatch (the provisioning names that directory)
shopt -s nullglob
for f in "$here"/prometheus/*.yml "$here"/grafana/*.json "$here"/grafana/provisioning/*/*.yaml \
	"$here"/alertmanager/*.yml; do
	install -D -m 0644 "$f" "$root/usr/share/hydrawatch/${f#"$here"/}"
done
shopt -u nullglob

# control: the libraries' packages from their shlibs/symbols files
# (dpkg-shlibdeps reads debian/control, and finds the package tree by its
# DEBIAN/ directory)
printf 'Source: hydrawatch\n\nPackage: hydrawatch\nArchitecture: any\n' >"$stage/debian/control"
depends=$(cd "$stage" && dpkg-shlibdeps -O -ehydrawatch/usr/sbin/hydrawatch | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "deb.sh: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<EOF
Package: hydrawatch
Version: $version
Architecture: $arch
Maintainer: hydrawatch maintainers <hydrawatch@localhost>
Installed-Size: $size
Depends: $depends
Section: net
Priority: optional
Description: kernel-level traffic telemetry for LLM inference hosts
 eBPF programs on the inference server's sockets measure every connection
 and request/response exchange with no proxy in the path; the agent turns
 them into a trace, Prometheus metrics and alerts on account farms.
 .
 The service is installed but neither enabled nor started: set the
 inference server's cgroup and ports in /etc/hydrawatch/hydrawatch.conf,
 then systemctl enable --now hydrawatch. Prometheus rules, the Grafana
 dashboard and the Alertmanager routing are in /usr/share/hydrawatch.
EOF
printf '%s\n' /etc/hydrawatch/hydrawatch.conf /etc/logrotate.d/hydrawatch >"$root/DEBIAN/conffiles"
for s in postinst prerm postrm; do
	install -m 0755 "$here/debian/$s" "$root/DEBIAN/$s"
done

# reproducible: file times clamped to the commit's
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git -C "$here" log -1 --format=%ct 2>/dev/null || date +%s)
	export SOURCE_DATE_EPOCH
fi
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
