#!/usr/bin/env bash
# `make image`: an OCI image built with buildah from scratch, holding the
# binary, the libraries ldd says it links and the dynamic loader, nothing
# else (no shell, no base image pulled). Commits it as IMAGE in buildah's
# storage and writes it to ARCHIVE (oci-archive) for a node or a registry.
# BUILDAH_FLAGS (e.g. --root DIR --runroot DIR --storage-driver vfs) choose
# another storage; the tests use one of their own.
set -euo pipefail
umask 022

usage="usage: image.sh BINARY IMAGE ARCHIVE VERSION"
bin=${1:?$usage}
image=${2:?$usage}
archive=${3:?$usage}
version=${4:?$usage}
buildah=${BUILDAH:-buildah}
# shellcheck disable=SC2206
flags=(${BUILDAH_FLAGS:-})
stage=$(dirname "$archive")/image
rootfs=$stage/rootfs

command -v "$buildah" >/dev/null || {
	echo "image.sh: buildah is not installed (apt-get install buildah, or make test-deps)" >&2
	exit 1
}

# the root file system: the binary, then each library at the path the
# loader resolved it to, and the loader itself (ldd prints it too)
rm -rf "$stage"
install -D -m 0755 "$bin" "$rootfs/usr/sbin/hydrawatch"
strip --strip-unneeded "$rootfs/usr/sbin/hydrawatch"
libs=$(ldd "$bin" | grep -oE '(=> )?/[^ ]+' | sed 's/^=> //' | sort -u)
[ -n "$libs" ] || { echo "image.sh: ldd found no libraries in $bin" >&2; exit 1; }
for lib in $libs; do
	install -D -m 0644 "$(readlink -f "$lib")" "$rootfs$lib"
done
interp=$(readelf -l "$bin" | sed -n 's/.*Requesting program interpreter: \(.*\)\]/\1/p')
chmod 0755 "$rootfs$interp"

ctr=$("$buildah" "${flags[@]}" from --quiet scratch)
trap '"$buildah" "${flags[@]}" rm "$ctr" >/dev/null 2>&1 || true' EXIT
"$buildah" "${flags[@]}" copy --quiet "$ctr" "$rootfs" / >/dev/null
"$buildah" "${flags[@]}" config \
	--entrypoint '["/usr/sbin/hydrawatch"]' --cmd '' --user 0:0 --workingdir / \
	--port 9477/tcp \
	--label org.opencontainers.image.title=hydrawatch \
	--label org.opencontainers.image.version="$version" \
	--label org.opencontainers.image.description="eBPF traffic telemetry for LLM inference hosts" \
	"$ctr"
ts=${SOURCE_DATE_EPOCH:-$(git -C "$(dirname "$0")" log -1 --format=%ct 2>/dev/null || date +%s)}
"$buildah" "${flags[@]}" commit --quiet --rm --timestamp "$ts" "$ctr" "$image" >/dev/null
trap - EXIT
rm -f "$archive"
"$buildah" "${flags[@]}" push --quiet "$image" "oci-archive:$archive:$image" >/dev/null
echo "$image $archive"
