#!/usr/bin/env bash
# Runs each fuzzer over its seed corpus and then for SECONDS more, growing a
# corpus under BUILD/fuzz/. A crash fails the run and leaves its input in
# BUILD/fuzz/crash-* (reproduce: BUILD/fuzz/fuzz_NAME FILE).
set -u
build=$1 seconds=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
passed=0 failed=0
for name in "$@"; do
	corpus=$build/fuzz/corpus-$name
	mkdir -p "$corpus"
	if "$build/fuzz/fuzz_$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$build/fuzz/" -print_final_stats=0 \
		"$corpus" "$here/corpus/$name" >"$build/fuzz/$name.log" 2>&1; then
		runs=$(grep -aoE 'Done [0-9]+ runs' "$build/fuzz/$name.log" | grep -oE '[0-9]+' || echo '?')
		echo "PASS fuzz_$name ($runs runs in ${seconds}s)"
		passed=$((passed + 1))
	else
		echo "FAIL fuzz_$name: see $build/fuzz/$name.log"
		tail -n 30 "$build/fuzz/$name.log"
		failed=$((failed + 1))
	fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
