#!/usr/bin/env bash
# `make test`: unit tests (cmocka), docs, build, rules, packaging, fuzz,
# bench and simulator smoke passes, then the integration tests on the real
# kernel, then one closing line that adds them up.
set -u
build=${1:?usage: run-all.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
passed=0 failed=0 skipped=0

add_counts() { # reads "... N passed, N failed[, N skipped]" from the last matching line
	local line
	line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
	[ -n "$line" ] || { failed=$((failed + 1)); return; }
	passed=$((passed + $(sed -E 's/.*[^0-9]([0-9]+) passed.*/\1/' <<<"$line")))
	failed=$((failed + $(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")))
	if grep -q skipped <<<"$line"; then
		skipped=$((skipped + $(sed -E 's/.* ([0-9]+) skipped.*/\1/' <<<"$line")))
	fi
}

log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "== unit tests"
for t in "$build"/tests/test_*; do
	[ -x "$t" ] || continue
	out=$(timeout 300 "$t" 2>&1)
	rc=$?
	echo "$out"
	n=$(grep -oE '[0-9]+ test\(s\) run' <<<"$out" | grep -oE '^[0-9]+' || echo 0)
	f=$(grep -oE 'FAILED  \] [0-9]+' <<<"$out" | grep -oE '[0-9]+$' || true)
	f=${f:-0}
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	echo "$(basename "$t"): $((n - f)) passed, $f failed" >"$log"
	add_counts "$log"
done

echo "== docs"
"$here/check-docs.sh" "$build" | tee "$log"
add_counts "$log"

echo "== build (plain make installs nothing)"
"$here/check-build.sh" | tee "$log"
add_counts "$log"

echo "== Prometheus rules, Alertmanager config"
"$here/check-rules.sh" | tee "$log"
add_counts "$log"

echo "== packaging (deb, image, manifests)"
"$here/deploy/run.sh" "$build" | tee "$log"
add_counts "$log"

echo "== fuzz (short pass over the seed corpora)"
"$here/fuzz/run.sh" "$build" "${FUZZ_SMOKE_SECONDS:-3}" http tls syn flow | tee "$log"
add_counts "$log"

echo "== bench (smoke: one short round of make bench, not a result)"
"$here/bench/smoke.sh" "$build" | tee "$log"
add_counts "$log"

echo "== simulator (smoke: a small farm and a trap, live and offline, with verify)"
HW_BUILD=$(cd "$build" && pwd) python3 "$here/sim/smoke.py" --config "$here/sim/drill.conf" | tee "$log"
add_counts "$log"

echo "== operations (dashboard, Alertmanager, fleet)"
HW_BUILD=$(cd "$build" && pwd) python3 "$here/ops/main.py" | tee "$log"
add_counts "$log"

echo "== integration tests"
"$here/integration/run.sh" "$build" | tee "$log"
rc=${PIPESTATUS[0]}
add_counts "$log"
[ "$rc" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1

echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
