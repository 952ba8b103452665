#!/usr/bin/env bash
# What an SRE installs: `make deb` built, installed with apt-get, used the
# way README's install path says (edit one line of the config, start,
# read /metrics) and purged; `make image` built with buildah and run; the
# Kubernetes manifests checked against the agent (manifests.py). One
# PASS/FAIL/SKIP line per check, then `deploy: N passed, N failed, N skipped`.
set -u
build=${1:?usage: run.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
mkdir -p "$build"
build=$(cd "$build" && pwd)
version=$(cat "$repo/VERSION")
arch=$(dpkg --print-architecture)
deb=$build/hydrawatch_${version}_${arch}.deb
passed=0 failed=0 skipped=0
tmp=$(mktemp -d)
cleanups=()

pass() { echo "PASS $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }
skip() { echo "SKIP $*"; skipped=$((skipped + 1)); }
# check DESC COMMAND...: PASS when it exits 0, else FAIL with its output
check() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		pass "$desc"
	else
		fail "$desc"
		[ -n "$out" ] && sed 's/^/    /' <<<"$out" | head -n 20
	fi
}
cleanup() {
	local i
	for ((i = ${#cleanups[@]} - 1; i >= 0; i--)); do eval "${cleanups[i]}" >/dev/null 2>&1; done
	rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# wait_http URL: up to 10 s for a 200
wait_http() {
	local i
	for ((i = 0; i < 100; i++)); do
		curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# stopped PID: its exit status, after SIGTERM (already sent) or, past 10 s,
# SIGKILL
stopped() {
	local i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1"
}
# the cgroup v2 mount, from /proc/mounts as the agent finds it
cg2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
live_ok=""
if [ "$(id -u)" -ne 0 ]; then
	live_why="not root"
elif [ ! -r /sys/kernel/btf/vmlinux ]; then
	live_why="no kernel BTF at /sys/kernel/btf/vmlinux"
elif [ -z "$cg2" ]; then
	live_why="cgroup v2 is not mounted"
else
	live_ok=1
fi

# --- the package, as built ------------------------------------------------
echo "-- make deb"
if out=$(make -C "$repo" --no-print-directory OUTPUT="$build" deb 2>&1) && [ -f "$deb" ]; then
	pass "make deb builds $(basename "$deb")"
else
	fail "make deb builds $(basename "$deb")"
	sed 's/^/    /' <<<"$out" | tail -n 20
fi

if [ -f "$deb" ]; then
	ctl=$tmp/ctl
	dpkg-deb -e "$deb" "$ctl"
	dpkg-deb -x "$deb" "$tmp/root"
	field() { dpkg-deb -f "$deb" "$1"; }
	check "control: Package hydrawatch, Version $version, Architecture $arch" \
		test "$(field Package) $(field Version) $(field Architecture)" = "hydrawatch $version $arch"

	# Depends: the package of every library the binary links is named
	depends=$(field Depends)
	missing=""
	for soname in $(objdump -p "$tmp/root/usr/sbin/hydrawatch" | awk '/NEEDED/ { print $2 }'); do
		path=$(ldd "$tmp/root/usr/sbin/hydrawatch" | awk -v s="$soname" '$1 == s { print $3 }')
		# dpkg knows a file by the path its package ships (/lib or /usr/lib)
		real=$(readlink -f "$path")
		pkg=$(dpkg -S "$path" "$real" "${real#/usr}" 2>/dev/null | head -n 1 | cut -d: -f1)
		grep -qE "(^|, )$pkg( |,|$)" <<<"$depends" || missing="$missing $soname($pkg)"
	done
	check "Depends (dpkg-shlibdeps) names the package of every library the binary links" \
		test -z "$missing" -a -n "$depends"
	[ -n "$missing" ] && echo "    not in Depends:$missing; Depends: $depends"

	want=(usr/sbin/hydrawatch usr/share/man/man8/hydrawatch.8.gz
		lib/systemd/system/hydrawatch.service etc/hydrawatch/hydrawatch.conf
		etc/logrotate.d/hydrawatch usr/share/doc/hydrawatch/copyright)
	for f in "$repo"/deploy/prometheus/*.yml "$repo"/deploy/grafana/*.json \
		"$repo"/deploy/grafana/provisioning/*/*.yaml "$repo"/deploy/alertmanager/*.yml; do
		[ -e "$f" ] && want+=("usr/share/hydrawatch/${f#"$repo"/deploy/}")
	done
	absent=""
	for f in "${want[@]}"; do [ -f "$tmp/root/$f" ] || absent="$absent /$f"; done
	check "contents: binary, man page, unit, config, rules, dashboards, Alertmanager routing (${#want[@]} files)" \
		test -z "$absent"
	[ -n "$absent" ] && echo "    missing:$absent"
	check "conffiles: /etc/hydrawatch/hydrawatch.conf and /etc/logrotate.d/hydrawatch" \
		bash -c "grep -qx /etc/hydrawatch/hydrawatch.conf '$ctl/conffiles' &&
			grep -qx /etc/logrotate.d/hydrawatch '$ctl/conffiles'"
	check "maintainer scripts neither enable nor start the service" \
		bash -c "! cat '$ctl'/*inst '$ctl'/*rm 2>/dev/null | grep -Ev '^[[:space:]]*#' |
			grep -E 'systemctl[^|;&]*(enable|start|reenable|preset)|deb-systemd-helper[^|;&]*(enable|unmask)|deb-systemd-invoke[^|;&]*start|invoke-rc.d[^|;&]*start|update-rc.d' |
			grep -v try-restart"
	check "unit: ExecStart runs /usr/sbin/hydrawatch on /etc/hydrawatch/hydrawatch.conf" \
		grep -qx 'ExecStart=/usr/sbin/hydrawatch --config /etc/hydrawatch/hydrawatch.conf' \
		"$tmp/root/lib/systemd/system/hydrawatch.service"
	check "man page: its header names version $version" \
		grep -q "^\.TH HYDRAWATCH 8 .*\"hydrawatch $version\"" "$repo/deploy/hydrawatch.8"

	# the example config: every option it names is one the agent has, and
	# with each commented option line uncommented it still parses
	conf=$tmp/root/etc/hydrawatch/hydrawatch.conf
	opts=$("$build/hydrawatch" --help | grep -oE -- '--[a-z][a-z-]+' | sed 's/^--//' | sort -u)
	unknown=$(sed -nE 's/^#? *([a-z][a-z-]*) *=.*/\1/p' "$conf" | sort -u | comm -23 - <(echo "$opts"))
	check "config: every option it names exists ($(sed -nE 's/^#? *([a-z][a-z-]*) *=.*/\1/p' "$conf" | sort -u | wc -l) options)" \
		test -z "$unknown"
	[ -n "$unknown" ] && echo "    unknown: $unknown"
	sed -E 's/^# ([a-z][a-z-]* = )/\1/' "$conf" >"$tmp/all.conf"
	check "config: as shipped, and with every example line uncommented, the agent parses it" \
		bash -c "'$build/hydrawatch' --config '$conf' --version && '$build/hydrawatch' --config '$tmp/all.conf' --version"
fi

# --- installed on this machine ---------------------------------------------
echo "-- apt-get install ./$(basename "$deb")"
installed=""
if [ ! -f "$deb" ]; then
	skip "install, use and purge (no package was built)"
elif [ "$(id -u)" -ne 0 ]; then
	skip "install, use and purge (not root: apt-get install needs root; sudo make test runs it)"
elif dpkg-query -W -f='${Status}' hydrawatch 2>/dev/null | grep -q 'ok installed'; then
	skip "install, use and purge (a hydrawatch package is already installed here: not replacing it)"
else
	export DEBIAN_FRONTEND=noninteractive
	apt=(apt-get -y -q -o DPkg::Lock::Timeout=120 -o Dpkg::Use-Pty=0)
	if out=$(cd "$build" && "${apt[@]}" install --no-install-recommends "./$(basename "$deb")" </dev/null 2>&1); then
		pass "apt-get install ./$(basename "$deb")"
		installed=1
		cleanups+=("dpkg-query -W -f='\${Status}' hydrawatch | grep -q 'ok installed' && ${apt[*]} remove --purge hydrawatch </dev/null")
	else
		fail "apt-get install ./$(basename "$deb")"
		sed 's/^/    /' <<<"$out" | tail -n 20
	fi
fi

if [ -n "$installed" ]; then
	listed=$(dpkg -L hydrawatch)
	absent=""
	for f in "${want[@]}"; do
		grep -qx "/$f" <<<"$listed" && [ -f "/$f" ] || absent="$absent /$f"
	done
	check "dpkg -L lists the ${#want[@]} files, and they are there" test -z "$absent"
	[ -n "$absent" ] && echo "    missing:$absent"
	check "hydrawatch --version prints $version" \
		bash -c "hydrawatch --version | grep -q '^hydrawatch $version '"
	check "the config is a conffile (dpkg-query Conffiles)" \
		bash -c "dpkg-query -W -f='\${Conffiles}\n' hydrawatch | grep -q '^ /etc/hydrawatch/hydrawatch.conf '"
	running=""
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/exe" 2>/dev/null)" = /usr/sbin/hydrawatch ] && running="$running ${p#/proc/}"
	done
	links=$(find /etc/systemd/system -name hydrawatch.service 2>/dev/null)
	state=$(systemctl is-enabled hydrawatch 2>/dev/null)
	check "postinst neither enabled (is-enabled: ${state:-?}) nor started the service" \
		test -z "$running$links" -a "${state:-disabled}" = disabled
	if command -v systemd-analyze >/dev/null; then
		check "systemd-analyze verify hydrawatch.service (binary, man page, directives)" \
			systemd-analyze verify /lib/systemd/system/hydrawatch.service
	else
		skip "systemd-analyze verify (systemd-analyze is not installed)"
	fi

	# README's install path: edit one line of the config...
	cp /etc/hydrawatch/hydrawatch.conf "$tmp/shipped.conf"
	if [ -n "$cg2" ]; then
		cg=$cg2/hwpkg-test.$$
		mkdir -p "$cg" && cleanups+=("rmdir '$cg'")
	else
		cg=/sys/fs/cgroup
	fi
	sed -i "s|^# cgroup = .*|cgroup = $cg|" /etc/hydrawatch/hydrawatch.conf
	check "edit one line: cgroup = $cg" \
		test "$(diff "$tmp/shipped.conf" /etc/hydrawatch/hydrawatch.conf | grep -c '^[<>]')" = 2
	check "the agent accepts the edited config (--config FILE --version exits 0)" \
		hydrawatch --config /etc/hydrawatch/hydrawatch.conf --version
	printf 'portz = 8000\n' >"$tmp/bad.conf"
	check "and refuses a bad line, naming the file and line (exit 2)" \
		bash -c "hydrawatch --config '$tmp/bad.conf' --version 2>&1 | grep -qF '$tmp/bad.conf:1: unknown option'; [ \${PIPESTATUS[0]} -eq 2 ]"

	# ...start it (with the unit's capabilities and no more), read /metrics
	if [ -z "$live_ok" ]; then
		skip "run the installed agent on the edited config ($live_why)"
	else
		caps=$(sed -n 's/^CapabilityBoundingSet=//p' /lib/systemd/system/hydrawatch.service)
		have=$(setpriv --dump 2>/dev/null | sed -n 's/^Capability bounding set: //p')
		keep="" dropped=""
		for cap in $caps; do
			c=$(tr '[:upper:]' '[:lower:]' <<<"${cap#CAP_}")
			if grep -qw "$c" <<<"$have"; then keep="$keep,+$c"; else dropped="$dropped $cap"; fi
		done
		port=$(free_port)
		setpriv --bounding-set "-all$keep" hydrawatch --config /etc/hydrawatch/hydrawatch.conf \
			--listen "127.0.0.1:$port" >"$tmp/agent.out" 2>&1 &
		agent_pid=$!
		# shellcheck disable=SC2016 # expanded when the cleanup runs
		cleanups+=('[ -n "$agent_pid" ] && kill -KILL "$agent_pid"')
		note=${dropped:+; this machine lacks$dropped}
		if wait_http "http://127.0.0.1:$port/healthz"; then
			pass "the installed agent starts on the edited config with the unit's capabilities only (${caps// /, }$note)"
			check "curl /metrics: hydrawatch_build_info names version $version" \
				bash -c "curl -fsS --max-time 5 http://127.0.0.1:$port/metrics | grep -q 'hydrawatch_build_info{version=\"$version\"'"
			check "it writes alerts to /var/log/hydrawatch/alerts.ndjson (the packaged directory)" \
				test -f /var/log/hydrawatch/alerts.ndjson
			kill -TERM "$agent_pid"
			stopped "$agent_pid"
			rc=$?
			agent_pid=""
			check "it stops cleanly on SIGTERM (exit $rc)" test "$rc" = 0
		else
			fail "the installed agent starts on the edited config with the unit's capabilities only (${caps// /, }$note)"
			sed 's/^/    /' "$tmp/agent.out" | tail -n 10
			kill -TERM "$agent_pid" 2>/dev/null
			stopped "$agent_pid" 2>/dev/null
			agent_pid=""
		fi
	fi

	if [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]; then
		port=$(free_port)
		sed -i "s|^# listen = .*|listen = 127.0.0.1:$port|" /etc/hydrawatch/hydrawatch.conf
		cleanups+=("systemctl stop hydrawatch")
		if systemctl start hydrawatch && wait_http "http://127.0.0.1:$port/metrics"; then
			pass "systemctl start hydrawatch; curl /metrics"
		else
			fail "systemctl start hydrawatch; curl /metrics"
			journalctl -u hydrawatch -n 10 --no-pager 2>&1 | sed 's/^/    /'
		fi
		check "systemctl stop hydrawatch" systemctl stop hydrawatch
	else
		skip "systemctl start hydrawatch (systemd is not PID 1 here: PID 1 is $(cat /proc/1/comm 2>/dev/null))"
	fi

	# an edited conffile survives a reinstall, with no prompt
	check "apt-get install --reinstall keeps the edited config" \
		bash -c "cd '$build' && ${apt[*]} install --reinstall './$(basename "$deb")' </dev/null >/dev/null 2>&1 &&
			grep -qx 'cgroup = $cg' /etc/hydrawatch/hydrawatch.conf"

	if out=$("${apt[@]}" remove --purge hydrawatch </dev/null 2>&1); then
		pass "apt-get remove --purge hydrawatch"
	else
		fail "apt-get remove --purge hydrawatch"
		sed 's/^/    /' <<<"$out" | tail -n 10
	fi
	left=""
	for f in "${want[@]}" etc/hydrawatch usr/share/hydrawatch var/log/hydrawatch usr/share/doc/hydrawatch; do
		[ -e "/$f" ] && left="$left /$f"
	done
	check "purged: not installed, and none of its files or directories is left" \
		bash -c "test -z '$left' && ! dpkg-query -W -f='\${Status}' hydrawatch 2>/dev/null | grep -q installed"
	[ -n "$left" ] && echo "    left:$left"
fi

# --- the image ---------------------------------------------------------------
echo "-- make image"
store=$build/image-test
bflags=(--root "$store/root" --runroot "$store/run" --storage-driver vfs)
image=localhost/hydrawatch:$version
archive=$build/hydrawatch_${version}_${arch}.oci.tar
rm -rf "$store"
cleanups+=("rm -rf '$store'")
if ! command -v buildah >/dev/null; then
	fail "make image: buildah is not installed (make test-deps installs it)"
elif ! probe=$(buildah "${bflags[@]}" from --quiet scratch 2>&1); then
	skip "make image (buildah cannot make a container here: $(tail -n 1 <<<"$probe"))"
else
	buildah "${bflags[@]}" rm "$probe" >/dev/null 2>&1
	cleanups+=("buildah ${bflags[*]} rm --all")
	if out=$(make -C "$repo" --no-print-directory OUTPUT="$build" image BUILDAH_FLAGS="${bflags[*]}" 2>&1) &&
		buildah "${bflags[@]}" inspect --type image "$image" >/dev/null 2>&1 && [ -f "$archive" ]; then
		pass "make image builds $image from scratch, and $(basename "$archive")"
		built=1
	else
		fail "make image builds $image from scratch, and $(basename "$archive")"
		sed 's/^/    /' <<<"$out" | tail -n 20
		built=""
	fi
	if [ -n "$built" ]; then
		# what is in it: one layer, the binary, what ldd lists, the loader
		expect=$( (echo /usr/sbin/hydrawatch
			ldd "$build/hydrawatch" | grep -oE '(=> )?/[^ ]+' | sed 's/^=> //') | sort -u)
		got=$(python3 - "$archive" <<-'EOF'
			import json, sys, tarfile
			oci = tarfile.open(sys.argv[1])
			blob = lambda d: oci.extractfile("blobs/" + d.replace(":", "/"))
			index = json.load(oci.extractfile("index.json"))
			manifest = json.load(blob(index["manifests"][0]["digest"]))
			config = json.load(blob(manifest["config"]["digest"]))
			print("layers", len(manifest["layers"]))
			print("entrypoint", json.dumps(config["config"].get("Entrypoint")))
			print("ref", index["manifests"][0].get("annotations", {}).get("org.opencontainers.image.ref.name"))
			for layer in manifest["layers"]:
			    for m in tarfile.open(fileobj=blob(layer["digest"])):
			        if not m.isdir():
			            print("file", "/" + m.name.lstrip("./"))
			EOF
		)
		check "image: one layer, Entrypoint /usr/sbin/hydrawatch, named $image" \
			test "$(grep -v '^file ' <<<"$got")" = "$(printf 'layers 1\nentrypoint ["/usr/sbin/hydrawatch"]\nref %s' "$image")"
		extra=$(comm -3 <(sed -n 's/^file //p' <<<"$got" | sort) <(echo "$expect"))
		check "image: the binary, the $(($(wc -l <<<"$expect") - 1)) files ldd lists (libraries and loader), nothing else" \
			test -z "$extra"
		[ -n "$extra" ] && sed 's/^/    differs: /' <<<"$extra" | head -n 10

		if ! unshare -m true 2>/dev/null; then
			skip "hydrawatch --version in the image (no mount namespace here for buildah run --isolation chroot)"
		else
			ctr=$(buildah "${bflags[@]}" from --quiet --pull-never "$image")
			check "hydrawatch --version in the image (buildah run --isolation chroot) prints $version" \
				bash -c "buildah ${bflags[*]} run --isolation chroot $ctr -- /usr/sbin/hydrawatch --version | grep -q '^hydrawatch $version '"
			buildah "${bflags[@]}" rm "$ctr" >/dev/null 2>&1
			# the agent live in the image, with the DaemonSet's capabilities
			# (those this machine has) and seccomp unconfined, as the pod runs
			if [ -z "$live_ok" ]; then
				skip "the agent live in the image ($live_why)"
			else
				dscaps=$(python3 -c 'import sys, yaml; d = yaml.safe_load(open(sys.argv[1]))
print(" ".join(d["spec"]["template"]["spec"]["containers"][0]["securityContext"]["capabilities"]["add"]))' \
					"$repo/deploy/kubernetes/daemonset.yaml")
				have=$(setpriv --dump 2>/dev/null | sed -n 's/^Capability bounding set: //p')
				add=""
				for cap in $dscaps; do
					grep -qw "$(tr '[:upper:]' '[:lower:]' <<<"$cap")" <<<"$have" && add="$add,CAP_$cap"
				done
				ctr=$(buildah "${bflags[@]}" from --quiet --pull-never --security-opt seccomp=unconfined \
					--cap-drop all --cap-add "${add#,}" "$image")
				port=$(free_port)
				cg=$cg2/hwpkg-image.$$
				mkdir -p "$cg" && cleanups+=("rmdir '$cg'")
				buildah "${bflags[@]}" run --isolation chroot "$ctr" -- /usr/sbin/hydrawatch --cgroup "$cg" \
					--ports 8000 --listen "127.0.0.1:$port" >"$tmp/image.out" 2>&1 &
				agent_pid=$!
				# shellcheck disable=SC2016 # expanded when the cleanup runs
		cleanups+=('[ -n "$agent_pid" ] && kill -KILL "$agent_pid"')
				if wait_http "http://127.0.0.1:$port/healthz"; then
					pass "the agent live in the image with the DaemonSet's capabilities (${add#,}) serves /healthz"
				else
					fail "the agent live in the image with the DaemonSet's capabilities (${add#,}) serves /healthz"
					sed 's/^/    /' "$tmp/image.out" | tail -n 10
				fi
				# stop the agent itself (SIGTERM, as the kubelet does); buildah
				# returns its exit status
				apid=""
				for p in /proc/[0-9]*; do
					case $(readlink "$p/exe" 2>/dev/null) in */usr/sbin/hydrawatch) ;; *) continue ;; esac
					tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -q "127.0.0.1:$port" && apid=${p#/proc/}
				done
				kill -TERM "${apid:-$agent_pid}"
				stopped "$agent_pid"
				rc=$?
				agent_pid=""
				check "and stops cleanly on SIGTERM (exit $rc)" test -n "$apid" -a "$rc" = 0
				buildah "${bflags[@]}" rm "$ctr" >/dev/null 2>&1
			fi
		fi
	fi
fi

# --- the manifests ---------------------------------------------------------
echo "-- deploy/kubernetes"
if python3 -c 'import yaml' 2>/dev/null; then
	python3 "$here/manifests.py" "$repo" "$build/hydrawatch" >"$tmp/manifests.out" 2>&1
	rc=$?
	grep -v '^manifests:' "$tmp/manifests.out"
	passed=$((passed + $(grep -c '^PASS' "$tmp/manifests.out")))
	failed=$((failed + $(grep -c '^FAIL' "$tmp/manifests.out")))
	[ "$rc" -ne 0 ] && ! grep -q '^FAIL' "$tmp/manifests.out" && fail "manifests.py exited $rc"
else
	fail "the manifests: python3-yaml is not installed (make test-deps installs it)"
fi

echo "deploy: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
