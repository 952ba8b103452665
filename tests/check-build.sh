#!/usr/bin/env bash
# Build hygiene. `make` builds and installs nothing else: as a user who is not root, the
# default target's recipes (make -n, into a fresh output directory) never
# run deploy/install-deps.sh or apt-get, while `make test` and `make run`
# do (as root they install what is missing).
set -u
passed=0 failed=0
ok() { echo "PASS $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1"; failed=$((failed + 1)); }
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
plan() { # the recipes make would run for target $1, as the current user
	make -n OUTPUT="$out/b" "$1" 2>&1
}
if [ "$(id -u)" -eq 0 ] && command -v runuser >/dev/null; then
	user=nobody
	chmod 777 "$out"
	as_user=$(runuser -u "$user" -- make -n OUTPUT="$out/b" all 2>&1)
	if grep -q 'install-deps\|apt-get' <<<"$as_user"; then
		bad "make (as $user) would install packages: $(grep -m1 'install-deps\|apt-get' <<<"$as_user")"
	elif grep -q 'LINK\|-o .*/hydrawatch' <<<"$as_user"; then
		ok "make (as $user) builds the agent and installs nothing"
	else
		bad "make (as $user) plans no build: $(tail -n 3 <<<"$as_user")"
	fi
else
	grep -q 'install-deps' <<<"$(plan all)" && bad "make would install packages" ||
		ok "make installs nothing"
fi
grep -q 'install-deps.sh build' <<<"$(plan test)" && grep -q 'install-deps.sh test' <<<"$(plan test)" &&
	ok "make test installs the build and test packages first" || bad "make test does not run install-deps"
grep -q 'install-deps.sh build' <<<"$(plan run)" && ok "make run installs the build packages first" ||
	bad "make run does not run install-deps"
# layers: lib/ knows no hydrawatch header, the exporter reads the agent only
# through snapshot.h
bad_lib=$(grep -n '#include "' lib/*.[ch] | grep -v '#include "lib/')
[ -z "$bad_lib" ] && ok "lib/ includes only lib/ headers" || bad "lib/ includes: $bad_lib"
bad_exp=$(grep -n '#include "' exporter/*.[ch] | grep -vE '#include "(snapshot\.h|exporter/|lib/)')
[ -z "$bad_exp" ] && ok "exporter/ includes only snapshot.h, exporter/ and lib/" ||
	bad "exporter/ includes: $bad_exp"
echo "build: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
